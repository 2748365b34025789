"""Analog crossbar engine: programmed conductances, device non-idealities, DAC/ADC (PyTorch), and the calibrations
that run on it (hardware-aware fine-tuning, per-chip bias re-calibration)."""

from .engine import AnalogLayer, AnalogModel

__all__ = ["AnalogLayer", "AnalogModel"]
