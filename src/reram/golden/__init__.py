"""Bit-exact integer reference model of the accelerator."""

from .model import GoldenResult, golden_forward, layer_forward, pixel_codes

__all__ = ["GoldenResult", "golden_forward", "layer_forward", "pixel_codes"]
