"""Hardware-aware (noise-aware) training: the crossbar's non-idealities injected into the forward pass of the
software network while it trains, so that it learns weights that tolerate them.

As in IBM aihwkit's hardware-aware training (Joshi et al., Nat. Commun. 11, 2473 (2020); Rasch et al., Nat.
Electron. 6, 680 (2023)), every Linear and Conv2d layer, in training mode only, computes with

* **weight noise** matched to the device's programming error: a weight maps ``w_max = max|w|`` of its layer (of its
  output channel with ``calibration.weight_scale = "column"``: BatchNorm, folded later, scales a channel's weights
  and its noise alike) onto the conductance window, so a differential pair's error sigma(G) becomes
  ``sqrt(2) * sigma(G) / (G_max - G_min) * w_max`` in weight units (sigma(G) of the preset: constant, or the
  state-dependent curve's mean over the window); a fresh draw per mini-batch;
* **output noise** matched to the read noise: a column sum with relative read noise r per cell has variance
  ``r^2 sum_i x_i^2 w_i^2``;
* **DAC quantization** of the layer inputs to ``2^dac_bits - 1`` levels over [0, max] of the batch, and **ADC
  quantization** of the outputs to ``2^adc_bits`` signed levels over the batch's largest |output|, both with
  straight-through gradients.

The gradients are those at the noisy point (aihwkit's convention); evaluation is noise-free.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from reram.ir.rules import round_half_up


@dataclass(frozen=True)
class HwaNoise:
    weight: float  # std of the weight noise relative to max|w| of the layer (of the output channel: per_column)
    output: float  # relative read noise r
    dac_bits: int  # 0: no input quantization
    adc_bits: int  # 0: no output quantization
    per_column: bool = False  # calibration.weight_scale = "column": each output channel maps its own max|w|

    def to_dict(self) -> dict[str, float]:
        return {"weight_noise_rel_wmax": self.weight, "output_noise_r": self.output, "dac_bits": self.dac_bits,
                "adc_bits": self.adc_bits, "per_column": self.per_column}


def matched_noise(cfg, scale: float = 1.0) -> HwaNoise:
    """The noise of the configuration's device preset (``scale`` times it)."""
    from reram.config.presets import resolve_device

    dev = resolve_device(cfg)
    window = dev.g_max - dev.g_min
    if dev.sigma_model == "state_dependent":
        import numpy as np

        from reram.chip.device import state_dependent_sigma

        g = torch.tensor(np.linspace(dev.g_min, dev.g_max, 64))
        sigma = float(state_dependent_sigma(g, dev).mean())
    else:
        sigma = dev.program_sigma * window
    return HwaNoise(weight=scale * math.sqrt(2) * sigma / window, output=scale * dev.read_noise,
                    dac_bits=cfg.dac.bits, adc_bits=cfg.adc.bits,
                    per_column=cfg.calibration.weight_scale == "column")


def _ste(x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return x + (q - x).detach()


def _quant_in(x: torch.Tensor, bits: int) -> torch.Tensor:
    if bits <= 0:
        return x
    levels = 2**bits - 1
    top = x.detach().amax().clamp_min(1e-12)
    return _ste(x, round_half_up(x.clamp(0) / top * levels) * top / levels)


def _quant_out(y: torch.Tensor, bits: int) -> torch.Tensor:
    if bits <= 0:
        return y
    half = 2 ** (bits - 1) - 1
    top = y.detach().abs().amax().clamp_min(1e-12)
    return _ste(y, round_half_up(y / top * half) * top / half)


class NoisyLayer(nn.Module):
    """A Linear or Conv2d computing with the crossbar's noise in training mode; its parameters stay the wrapped
    layer's own."""

    def __init__(self, layer: nn.Module, noise: HwaNoise):
        super().__init__()
        self.layer, self.noise = layer, noise

    def _op(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        if isinstance(self.layer, nn.Conv2d):
            c = self.layer
            return F.conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups)
        return F.linear(x, w, b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return self.layer(x)
        n = self.noise
        w = self.layer.weight
        x = _quant_in(x, n.dac_bits)
        if n.weight > 0:
            top = w.detach().abs()
            top = top.amax(dim=tuple(range(1, w.dim())), keepdim=True) if n.per_column else top.amax()
            w = w + torch.randn_like(w) * (n.weight * top)
        y = self._op(x, w, None)
        if n.output > 0:
            sd = self._op(x.detach().square(), w.detach().square(), None).clamp_min(0).sqrt()
            y = y + torch.randn_like(y) * sd * n.output
        y = _quant_out(y, n.adc_bits)
        b = self.layer.bias
        return y if b is None else y + (b.view(1, -1, 1, 1) if y.dim() == 4 else b)


@contextmanager
def hardware_aware(model: nn.Module, noise: HwaNoise) -> Iterator[nn.Module]:
    """Within the block, every Linear and Conv2d of ``model`` trains through :class:`NoisyLayer`; on exit the model
    holds its own layers again (same parameters, same state-dict keys)."""
    swapped: list[tuple[nn.Module, str, nn.Module]] = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, (nn.Linear, nn.Conv2d)):
                setattr(parent, name, NoisyLayer(child, noise))
                swapped.append((parent, name, child))
    try:
        yield model
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)
