"""Energy, area and latency: event counts x per-action energies from cited presets (Accelergy-style)."""

from .model import BOUNDARIES, energy_report, energy_sensitivity
from .preset import BUILTIN, EnergyPreset, get_preset, load_preset_file, resolve_preset

__all__ = ["BOUNDARIES", "BUILTIN", "EnergyPreset", "energy_report", "energy_sensitivity", "get_preset",
           "load_preset_file", "resolve_preset"]
