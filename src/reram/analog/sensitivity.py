"""Accuracy sensitivity: test accuracy against programming sigma, ADC bits and cell bits (mean, std over chips).

Each point recompiles the network for its parameters with the calibrated flow up to and including per-chip
bias re-calibration (fine-tuning is left out to keep a sweep to minutes; the ablation shows what it adds).
"""

from __future__ import annotations

import numpy as np
from torch import nn

from reram.config import ReramConfig, load_config

SWEEPS: dict[str, tuple[str, list[float | int]]] = {
    "program_sigma": ("device.program_sigma", [0.0, 0.02, 0.05, 0.10]),
    "adc_bits": ("adc.bits", [4, 6, 8, 10]),
    "cell_bits": ("device.cell_bits", [2, 4, 6]),
}


def accuracy_sensitivity(model: nn.Module, cfg: ReramConfig, splits, chips: int, progress: bool = True,
                         sweeps: dict[str, tuple[str, list[float | int]]] | None = None) -> dict[str, list[dict]]:
    from reram.compile.flows import FlowSpec, compile_flow

    from .evaluate import chip_seed, evaluate_chips, summarize
    from .presets import resolve_device

    calib = splits.calib_x.astype(np.float32) / 255.0
    seeds = [chip_seed(cfg.run.seed, c) for c in range(chips)]
    spec = FlowSpec("sensitivity", bias_recal=True)
    base = cfg.model_dump(mode="json")
    out: dict[str, list[dict]] = {}
    for name, (key, values) in (sweeps or SWEEPS).items():
        rows = []
        for v in values:
            sets = [f"{key}={v}"]
            if name == "program_sigma":  # the constant-sigma model, so that sigma is the swept value
                sets.append('device.sigma_model="constant"')
            pcfg = load_config(None, sets, base=base)
            dev = resolve_device(pcfg)
            cm = compile_flow(model, pcfg, dev, spec, calib, progress=False)
            evals = evaluate_chips(cm, dev, splits.test_x, splits.test_y, seeds, calib, bias_recal=True,
                                   fit=pcfg.calibration.fit, batch_size=pcfg.analog.batch_size, progress=progress,
                                   label=f"{name}={v}", calib_y=splits.calib_y)
            s = summarize(evals)
            rows.append({"value": v, "test_accuracy_mean": s["test_accuracy_mean"],
                         "test_accuracy_std": s["test_accuracy_std"], "chips": s["chips"],
                         "adc_saturation": [ly["adc_saturation_mean"] for ly in s["layers"]]})  # type: ignore[index]
        out[name] = rows
    return out
