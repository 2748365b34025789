"""Device presets as the analog engine sees them (defined in :mod:`reram.config.presets`) and the NeuRRAM-fitted
state-dependent programming-error curve."""

from __future__ import annotations

from reram.config.presets import NEURRAM, PRESETS, DeviceParams, resolve_device

__all__ = ["NEURRAM", "PRESETS", "DeviceParams", "resolve_device", "state_dependent_sigma"]


def state_dependent_sigma(g: object, p: DeviceParams):  # g: tensor of conductances in S
    """NeuRRAM-fitted sigma(G) in S: 1.6 µS at 5 µS rising linearly to 2.5 µS at 39 µS, clipped."""
    import torch

    g = torch.as_tensor(g)
    return (1.6e-6 + (g - 5e-6) * (0.9e-6 / 34e-6)).clamp(1.6e-6, 2.5e-6)
