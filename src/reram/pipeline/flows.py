"""Named compiler flows: ordered lists of passes.

* ``ideal``   : fold_batchnorm, activation_scaling, map_conductances, tile, adc_calibration[pre_relu];
                evaluated on noise-free devices.
* ``naive``   : fold_batchnorm, map_conductances, tile; DAC ranges [0, 1], ADC ranges worst case, no
                calibration.
* ``default`` : fold_batchnorm, activation_scaling, map_conductances, tile, adc_calibration[pre_relu],
                hw_aware_finetune (then map_conductances and adc_calibration again; kept only when it raises
                the accuracy on the calibration split), and per programmed chip program-and-verify and
                bias_recalibration (per-column gain and offset; kept per chip only when it raises the chip's
                accuracy on the calibration split).

The ablation (``ABLATION_STEPS``) adds the passes one at a time, in the order the default flow applies them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np
from torch import nn

from reram.analog.calibrate import hw_aware_finetune
from reram.chip.device import DeviceParams, arch_values
from reram.compile.passes import (
    activation_scaling,
    adc_calibration,
    adc_naive,
    fold_batchnorm,
    map_conductances,
    naive_scaling,
    tile,
)
from reram.config import ReramConfig
from reram.errors import ConfigError
from reram.ir import ArchParams, CompiledModel
from reram.memory import release_free_memory


@dataclass(frozen=True)
class FlowSpec:
    """What a flow does, pass by pass."""

    name: str
    act_scaling: bool = True
    adc_target: str | None = "pre_relu"  # None: worst-case ADC ranges
    finetune: bool = False
    bias_recal: bool = False
    ideal_devices: bool = False
    verify: bool = True  # program chips with the configured program-and-verify cycles ([program])


FLOW_SPECS = {
    "ideal": FlowSpec("ideal", ideal_devices=True),
    "naive": FlowSpec("naive", act_scaling=False, adc_target=None),
    "default": FlowSpec("default", finetune=True, bias_recal=True),
}

ABLATION_STEPS: list[tuple[str, FlowSpec]] = [  # in the order the default flow applies them
    ("1 naive mapping", FlowSpec("naive", act_scaling=False, adc_target=None, verify=False)),
    ("2 + activation-aware scaling", FlowSpec("scaled", adc_target=None, verify=False)),
    ("3 unipolar ADCs calibrated on post-ReLU targets (hidden layers; logits signed)",
     FlowSpec("post_relu", adc_target="post_relu", verify=False)),
    ("4 signed ADCs calibrated on pre-ReLU targets", FlowSpec("pre_relu", adc_target="pre_relu", verify=False)),
    ("5 + hardware-aware fine-tuning", FlowSpec("finetune", finetune=True, verify=False)),
    ("6 + per-column gain and offset re-calibration per chip (least squares)",
     FlowSpec("recal", finetune=True, bias_recal=True, verify=False)),
    ("7 + program-and-verify", FlowSpec("default", finetune=True, bias_recal=True)),
]


def arch_from_config(cfg: ReramConfig, dev: DeviceParams) -> ArchParams:
    """The IR's architecture parameters: the device's (the fields of the device field list marked ``arch``) and the
    array, DAC and ADC sections'."""
    return ArchParams(rows=cfg.array.rows, cols=cfg.array.cols, dac_bits=cfg.dac.bits, dac_mode=cfg.dac.mode,
                      dac_phases=cfg.dac.phases, adc_bits=cfg.adc.bits, v_read=cfg.dac.v_read,
                      differential=cfg.array.differential, phase_bits=tuple(cfg.dac.phase_bits or ()),
                      adc_phase_bits=tuple(cfg.adc.phase_bits or ()), **arch_values(dev))


def device_for(spec: FlowSpec, dev: DeviceParams) -> DeviceParams:
    """The device a flow programs: without program-and-verify for the ablation steps before it."""
    return dev if spec.verify else replace(dev, verify_cycles=0)


def compile_flow(model: nn.Module, cfg: ReramConfig, dev: DeviceParams, spec: FlowSpec, calib_x: np.ndarray,
                 train_x: np.ndarray | None = None, train_y: np.ndarray | None = None, seed: int = 0,
                 progress: bool = True, base: CompiledModel | None = None,
                 in_shape: list[int] | None = None) -> CompiledModel:
    """Build the IR of ``model`` with the passes of ``spec`` (chip-independent ones; bias re-calibration
    runs per chip, see :func:`reram.analog.calibrate.bias_recalibration`)."""
    dev = device_for(spec, dev)
    arch = arch_from_config(cfg, dev)
    cal = cfg.calibration
    if base is not None:
        cm = copy.deepcopy(base)
        cm.passes = [p for p in cm.passes if p != "bias_recalibration"]  # per chip: appended below
    else:
        cm = fold_batchnorm(model, arch, in_shape)
        if spec.act_scaling:
            activation_scaling(cm, calib_x, cal.act_percentile)
        else:
            naive_scaling(cm)
        map_conductances(cm, per_column=cal.weight_scale == "column")
        tile(cm)
        if spec.adc_target is None:
            adc_naive(cm)
        else:
            adc_calibration(cm, calib_x, cfg.adc.percentile, spec.adc_target)
    if spec.finetune and cal.finetune_iters > 0:
        if train_x is None or train_y is None:
            raise ConfigError("hardware-aware fine-tuning needs training data")
        hw_aware_finetune(cm, dev, train_x, train_y, cal.finetune_iters, cal.finetune_lr, cal.finetune_batch, seed,
                          progress=progress)
        map_conductances(cm)
        cm.passes.append("map_conductances")
        adc_calibration(cm, calib_x, cfg.adc.percentile, spec.adc_target or "pre_relu")
    if spec.bias_recal:
        cm.passes.append("bias_recalibration")
    cm.flow = spec.name
    cm.meta["flow_spec"] = {k: v for k, v in spec.__dict__.items()}
    release_free_memory()  # the calibration's and fine-tuning's buffers
    return cm
