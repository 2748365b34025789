"""``reram.convert``: a trained torch model -> an :class:`AnalogModel` on a programmed chip."""

from __future__ import annotations

import numpy as np
from torch import nn

from reram.config import ReramConfig

from .engine import AnalogModel
from .presets import resolve_device


def convert(model: nn.Module, config: ReramConfig | None = None, calib_x: np.ndarray | None = None,
            seed: int = 0) -> AnalogModel:
    """Compile ``model`` (Linear, BatchNorm1d, ReLU, Flatten) for the configured crossbars and program a chip.

    With ``calib_x`` (images in [0, 1], shape (N, 784)) the DAC and ADC ranges are calibrated from data
    (activation-aware scaling, pre-ReLU ADC ranges); without it they are the data-free worst case. Bias
    re-calibration and fine-tuning need a run (``reram run``) or :mod:`reram.compile.calibrate`.
    """
    from reram.compile.flows import FlowSpec, compile_flow

    cfg = config or ReramConfig()
    dev = resolve_device(cfg)
    if calib_x is None:
        spec = FlowSpec("convert-data-free", act_scaling=False, adc_target=None)
        calib = np.zeros((1, 784), np.float32)
    else:
        spec = FlowSpec("convert")
        calib = np.asarray(calib_x, np.float32)
    cm = compile_flow(model, cfg, dev, spec, calib)
    return AnalogModel(cm, dev, seed=seed)
