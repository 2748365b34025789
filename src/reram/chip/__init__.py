"""The chip: the device field list, the device presets (one module per technology), the technology's energy
presets and programming (weight codes -> conductances with variation, stuck-at faults and drift)."""

from .device import DeviceParams, noise_free
from .presets import PRESETS
from .program import Chip, ChipLayer, program_chip

__all__ = ["PRESETS", "Chip", "ChipLayer", "DeviceParams", "noise_free", "program_chip"]
