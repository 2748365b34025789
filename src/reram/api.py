"""``reram.convert``: a trained torch model -> an :class:`AnalogModel` on a programmed chip."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from reram.analog.engine import AnalogModel
from reram.chip.device import DeviceParams
from reram.config import ReramConfig
from reram.config.presets import resolve_device
from reram.errors import ConfigError


class CalibratedAnalogModel(AnalogModel):
    """An :class:`AnalogModel` whose every programmed chip gets the per-chip least-squares bias re-calibration of
    ``reram run`` (on ``calib_x``): it absorbs the chip's IR drop and programming error, as on a real chip."""

    def __init__(self, compiled, dev: DeviceParams, calib_x: np.ndarray, fit: str = "gain_offset", seed: int = 0,
                 **kwargs) -> None:
        object.__setattr__(self, "_calib_x", np.asarray(calib_x, np.float32))
        object.__setattr__(self, "_fit", fit)
        super().__init__(compiled, dev, seed=seed, **kwargs)

    def program(self, seed: int) -> AnalogModel:
        from reram.analog.calibrate import bias_recalibration

        super().program(seed)
        assert self.chip is not None
        with torch.no_grad():
            bias_recalibration(self.compiled, self.chip, self.dev, self._calib_x, self._fit)
        self.set_chip(self.chip)
        return self


def convert(model: nn.Module, config: ReramConfig | None = None, calib_x: np.ndarray | None = None,
            seed: int = 0, in_shape: tuple[int, ...] | None = None) -> AnalogModel:
    """Compile ``model`` for the configured crossbars and program a chip.

    ``model`` is any ``nn.Module`` whose forward is made of Linear, Conv2d, BatchNorm1d/2d, ReLU,
    MaxPool2d/AvgPool2d, AdaptiveAvgPool2d(1), Flatten, Dropout and residual adds (``+``), traced with ``torch.fx``
    (see :mod:`reram.compile.lower`): chains and residual networks;
    ``in_shape`` is its per-sample input shape, (C, H, W) for images, unless the model starts with
    ``nn.Unflatten``. The returned model takes images (N, C, H, W) or flat (N, C * H * W) in [0, 1] and returns
    logits.

    With ``calib_x`` (images in [0, 1], flat or not) the DAC and ADC ranges are calibrated from data
    (activation-aware scaling, pre-ReLU ADC ranges) and every programmed chip gets the per-chip bias
    re-calibration of ``reram run`` (which absorbs IR drop). Without it the ranges are the data-free worst
    case and nothing is calibrated, so a configuration with IR drop is refused rather than silently losing
    accuracy. Hardware-aware fine-tuning needs a run (``reram run``).
    """
    from reram.pipeline.flows import FlowSpec, compile_flow

    cfg = config or ReramConfig()
    dev = resolve_device(cfg)
    if calib_x is None:
        spec = FlowSpec("convert-data-free", act_scaling=False, adc_target=None)
        size = int(np.prod(in_shape)) if in_shape else None
        cm = compile_flow(model, cfg, dev, spec, np.zeros((1, size or 1), np.float32), progress=False,
                          in_shape=list(in_shape) if in_shape else None)
        if dev.ir_drop != "off" and dev.wire_resistance > 0:
            raise ConfigError(f"reram.convert without calib_x cannot calibrate for IR drop (array.ir_drop = "
                              f"'{dev.ir_drop}', {dev.wire_resistance:g} ohm per segment, {cfg.array.rows}x"
                              f"{cfg.array.cols} tiles); pass calibration images as calib_x, or set "
                              "array.ir_drop = 'off'")
        return AnalogModel(cm, dev, seed=seed)
    calib = np.asarray(calib_x, np.float32)
    calib = calib.reshape(calib.shape[0], -1)
    cm = compile_flow(model, cfg, dev, FlowSpec("convert", bias_recal=True), calib, progress=False,
                      in_shape=list(in_shape) if in_shape else None)
    return CalibratedAnalogModel(cm, dev, calib, cfg.calibration.fit, seed=seed)
