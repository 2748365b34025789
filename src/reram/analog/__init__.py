"""Analog crossbar engine: conductance mapping, tiling, device non-idealities, DAC/ADC (PyTorch)."""

from .engine import AnalogLayer, AnalogModel
from .presets import PRESETS, DeviceParams, resolve_device
from .program import Chip, ChipLayer, program_chip

__all__ = ["PRESETS", "AnalogLayer", "AnalogModel", "Chip", "ChipLayer", "DeviceParams", "program_chip",
           "resolve_device"]
