"""Energy, area and latency: event counts x per-action energies from cited presets (Accelergy-style)."""

from .model import BOUNDARIES, energy_report, energy_sensitivity
from .presets import PRESETS, get_preset

__all__ = ["BOUNDARIES", "PRESETS", "energy_report", "energy_sensitivity", "get_preset"]
