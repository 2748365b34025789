"""Energy, area and latency: event counts x per-action energies from cited presets (Accelergy-style)."""

from reram.chip.energy_preset import BUILTIN, EnergyPreset, get_preset, load_preset_file, resolve_preset

from .model import BOUNDARIES, energy_report

__all__ = ["BOUNDARIES", "BUILTIN", "EnergyPreset", "energy_report", "get_preset",
           "load_preset_file", "resolve_preset"]
