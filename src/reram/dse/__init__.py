"""Design-space exploration: grid sweeps over configuration keys with accuracy, energy, area and latency."""

from .explore import run_explore
from .sweep import SweepPoint, expand_grid, pareto_front, run_sweep

__all__ = ["SweepPoint", "expand_grid", "pareto_front", "run_explore", "run_sweep"]
