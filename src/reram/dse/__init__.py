"""Design-space exploration: grid sweeps over configuration keys with accuracy, energy, area and latency."""

from .sweep import SweepPoint, expand_grid, pareto_front, run_sweep

__all__ = ["SweepPoint", "expand_grid", "pareto_front", "run_sweep"]
