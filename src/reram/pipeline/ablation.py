"""What each compiler/calibration step is worth: test accuracy after each step, over programmed chips.

Steps 1-7 add the default flow's passes in the order it applies them, on the run's trained network; step 5 (fine-tuning)
is left out when ``calibration.finetune_iters`` is 0. Where the
arrays have wire resistance, a row after step 7 simulates its chips with the engine's other IR-drop model (the exact
transfer matrices against the static first-order model). Step 8 is the
same flow on a second network trained the other way: with hardware-aware training when the run trained without it,
without it when the run used it; its training time is recorded as the technique's cost.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

from torch import nn

from reram.config import ReramConfig
from reram.config.presets import resolve_device
from reram.ir import CompiledModel
from reram.pipeline.evaluate import evaluate, measure

from .flows import ABLATION_STEPS, FLOW_SPECS, compile_flow


def run_ablation(model: nn.Module, cfg: ReramConfig, splits, default_cm: CompiledModel | None = None,
                 default_summary: dict | None = None, progress: bool = True,
                 model_spec: dict | None = None, tuned_cm: CompiledModel | None = None,
                 second_row: Callable[[], dict | None] | None = None) -> list[dict[str, object]]:
    """Rows of the ablation table. Step 7 reuses the analog stage's figures when they come from the same
    (default) flow and chips, so its numbers are identical to ``analog.test_accuracy_mean``. ``model_spec``: the
    network's spec, to train the second network of step 8 (left out when None). ``tuned_cm``: the run's fine-tuned
    compiled model (the default flow's, with program-and-verify), reused by step 7 instead of fine-tuning again.
    ``second_row``: returns step 8 as computed elsewhere (:func:`second_network_row` in a worker process; waited
    for once steps 1-7 are done), or None when it was not."""
    dev = resolve_device(cfg)
    calib = splits.to_float(splits.calib_x)
    rows: list[dict[str, object]] = []

    tuned: dict[bool, CompiledModel] = {}  # fine-tuned models by "verified": steps 5 and 6 share theirs
    if tuned_cm is not None:
        tuned[True] = tuned_cm
    made: dict[str, CompiledModel] = {}  # the compiled model of each step, by flow name

    def measure(label: str, spec, net: nn.Module) -> dict:
        if spec.finetune and net is model and spec.verify in tuned:
            cm = copy.deepcopy(tuned[spec.verify])
            cm.passes = [p for p in cm.passes if p != "bias_recalibration"] + (["bias_recalibration"]
                                                                               if spec.bias_recal else [])
            cm.flow = spec.name
        else:
            cm = compile_flow(net, cfg, dev, spec, calib, splits.train_x, splits.train_y, seed=cfg.run.seed,
                              progress=progress)
            if spec.finetune and net is model:
                tuned[spec.verify] = cm
        made[spec.name] = cm
        return _evaluate(cfg, splits, cm, spec, label, progress)

    kept_ft = default_cm is not None and "hw_aware_finetune" in default_cm.passes
    no_ft = cfg.calibration.finetune_iters == 0  # step 5 is left out; steps 6 and 7 have nothing to fine-tune
    if no_ft and default_cm is not None:
        tuned[True] = default_cm  # step 7 is the run's own compiled model
    for label, spec in ABLATION_STEPS:
        if no_ft and spec.finetune and not spec.bias_recal:
            continue
        if spec.name == "default" and default_summary is not None and default_cm is not None and \
                (kept_ft or no_ft) and default_summary.get("chips") == cfg.calibration.ablation_chips and \
                cfg.calibration.ablation_samples is None:
            s = default_summary | {"passes": list(default_cm.passes)}
            made[spec.name] = default_cm
        else:
            s = measure(label, spec, model)
        if spec.verify:
            label += f" ({dev.verify_cycles} cycles, +-{dev.verify_tolerance * 1e6:g} µS)"
        rows.append(_row(label, s))
    if dev.wire_resistance > 0 and dev.ir_drop != "off" and "default" in made:
        rows.append(ir_drop_row(cfg, splits, made["default"], progress))
    second = second_row() if second_row is not None else None
    if second is not None:
        rows.append(second)
    elif model_spec is not None:
        rows.append(second_network_row(cfg, splits, model_spec, progress))
    return rows


def _evaluate(cfg: ReramConfig, splits, cm: CompiledModel, spec, label: str, progress: bool) -> dict:
    """Test accuracy of ``cm`` on the ablation's chips, with the flow step's device and re-calibration."""
    return measure(cm, cfg, splits, spec, cfg.calibration.ablation_chips, progress=progress,
                   label=f"ablation {label[:1]}", samples=cfg.calibration.ablation_samples).summary


def ir_drop_row(cfg: ReramConfig, splits, cm: CompiledModel, progress: bool = True) -> dict[str, object]:
    """Step 7's compiled model on the same chips with the other IR-drop model of the engine: the exact transfer
    matrices (``solve``) when the run uses the static first-order model (``approx``), or the reverse: what the
    choice is worth in accuracy, each chip re-calibrated under it."""
    from dataclasses import replace

    from reram.pipeline.flows import device_for

    spec = FLOW_SPECS["default"]
    dev = device_for(spec, resolve_device(cfg))
    other = "approx" if dev.ir_drop == "solve" else "solve"
    label = (f"7 with IR drop '{other}' instead of '{dev.ir_drop}' ({cfg.array.rows}x{cfg.array.cols} arrays, "
             f"{dev.wire_resistance:g} ohm per segment)")
    s = measure(cm, cfg, splits, spec, cfg.calibration.ablation_chips, progress=progress, label="ablation IR",
                dev=replace(dev, ir_drop=other), samples=cfg.calibration.ablation_samples).summary
    return _row(label, s) | {"ir_drop": other}


def second_network_row(cfg: ReramConfig, splits, model_spec: dict, progress: bool = True) -> dict[str, object]:
    """Step 8: a second network of ``model_spec`` trained the other way round with respect to ``train.hwa``, through
    the default flow on the ablation's chips, with its software accuracy and training time (``train_seconds``)."""
    from reram.models import train_model
    from reram.models.hwa import matched_noise

    hwa = None if cfg.train.hwa else matched_noise(cfg, cfg.train.hwa_noise_scale)
    t0 = time.perf_counter()
    res = train_model(splits.train_x, splits.train_y, splits.test_x, splits.test_y, cfg.model, cfg.train,
                      cfg.run.seed, progress=progress, spec=model_spec, hwa=hwa)
    seconds = time.perf_counter() - t0
    label = (f"8 + hardware-aware training (noise x{cfg.train.hwa_noise_scale:g}; a second network)" if hwa
             else "8 without hardware-aware training (a second network)")
    spec = FLOW_SPECS["default"]
    ev = evaluate(res.model, cfg, splits, spec, cfg.calibration.ablation_chips, progress=progress,
                  label=f"ablation {label[:1]}", samples=cfg.calibration.ablation_samples)
    row = _row(label, ev.summary)
    return row | {"software_test_accuracy": res.test_accuracy, "train_seconds": seconds}


def _row(label: str, s: dict) -> dict[str, object]:
    return {
        "step": label,
        "passes": s["passes"],
        "test_accuracy_mean": s["test_accuracy_mean"],
        "test_accuracy_std": s["test_accuracy_std"],
        "chips": s["chips"],
        "test_images": s.get("test_images"),
        "adc_saturation": [ly["adc_saturation_mean"] for ly in s["layers"]],
        "recalibration_kept": None if not s.get("recalibration") else
        sum(bool(r.get("kept")) for r in s["recalibration"]),
    }
