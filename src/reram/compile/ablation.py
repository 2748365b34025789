"""What each compiler/calibration step is worth: test accuracy after each step, over programmed chips."""

from __future__ import annotations

import numpy as np
from torch import nn

from reram.analog.evaluate import chip_seed, evaluate_chips, summarize
from reram.config import ReramConfig
from reram.config.presets import resolve_device

from .flows import ABLATION_STEPS, compile_flow
from .ir import CompiledModel


def run_ablation(model: nn.Module, cfg: ReramConfig, splits, default_cm: CompiledModel | None = None,
                 default_summary: dict | None = None, progress: bool = True) -> list[dict[str, object]]:
    """Rows of the ablation table. Step 6 reuses the analog stage's figures when they come from the same
    (default) flow and chips, so its numbers are identical to ``analog.test_accuracy_mean``."""
    dev = resolve_device(cfg)
    calib = splits.calib_x.astype(np.float32) / 255.0
    n = cfg.calibration.ablation_chips
    seeds = [chip_seed(cfg.run.seed, c) for c in range(n)]
    rows: list[dict[str, object]] = []
    for label, spec in ABLATION_STEPS:
        if spec.finetune and spec.bias_recal and default_summary is not None and default_cm is not None and \
                default_summary.get("chips") == n:
            s = default_summary
            passes = list(default_cm.passes)
        else:
            cm = compile_flow(model, cfg, dev, spec, calib, splits.train_x, splits.train_y, seed=cfg.run.seed,
                              progress=progress)
            evals = evaluate_chips(cm, dev, splits.test_x, splits.test_y, seeds, calib, bias_recal=spec.bias_recal,
                                   fit=cfg.calibration.fit, batch_size=cfg.analog.batch_size, progress=progress,
                                   label=f"ablation {label[:1]}")
            s = summarize(evals)
            passes = list(cm.passes)
        rows.append({
            "step": label,
            "passes": passes,
            "test_accuracy_mean": s["test_accuracy_mean"],
            "test_accuracy_std": s["test_accuracy_std"],
            "chips": s["chips"],
            "adc_saturation": [ly["adc_saturation_mean"] for ly in s["layers"]],  # type: ignore[index]
        })
    return rows
