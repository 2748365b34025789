"""Results for a given trained model do not depend on the torch thread count; the run records the count."""

from __future__ import annotations

import numpy as np
import torch


def _results(mnist_small, threads: int):
    from reram.config import load_config
    from reram.config.presets import resolve_device
    from reram.golden import golden_forward, pixel_codes
    from reram.pipeline.evaluate import evaluate_chips
    from reram.pipeline.flows import FLOW_SPECS, compile_flow

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        cfg = load_config(None, ["calibration.finetune_iters=30"])
        dev = resolve_device(cfg)
        calib = mnist_small["calib"]
        cm = compile_flow(mnist_small["model"], cfg, dev, FLOW_SPECS["default"], calib, mnist_small["train_x"],
                          mnist_small["train_y"], seed=0, progress=False)
        ev = evaluate_chips(cm, dev, mnist_small["test_x"], mnist_small["test_y"], [5], calib, bias_recal=True,
                            progress=False)[0]
        g = golden_forward(cm, ev.chip, pixel_codes(cm, mnist_small["test_x"][:300]))
        return {"weights": [ly.weight_codes.copy() for ly in cm.layers],
                "adc": [(ly.adc_mult, ly.adc_shift, ly.adc_range) for ly in cm.layers],
                "chip": [cl.g_pos.copy() for cl in ev.chip.layers],
                "bias": [np.asarray(cl.req_bias).copy() for cl in ev.chip.layers],
                "predictions": ev.predictions, "golden": g.logits}
    finally:
        torch.set_num_threads(before)


def test_compile_analog_golden_independent_of_threads(mnist_small):
    a, b = _results(mnist_small, 1), _results(mnist_small, 3)
    for key in a:
        va, vb = a[key], b[key]
        if isinstance(va, list):
            for x, y in zip(va, vb, strict=True):
                np.testing.assert_array_equal(np.asarray(x, dtype=object), np.asarray(y, dtype=object), err_msg=key)
        else:
            np.testing.assert_array_equal(va, vb, err_msg=key)


def test_training_does_not_leak_its_thread_setting(mnist_small):
    from reram.config import load_config
    from reram.models import train_mlp

    before = torch.get_num_threads()
    cfg = load_config(None, ["train.threads=1", "train.epochs=1"])
    x, y = mnist_small["train_x"][:500], mnist_small["train_y"][:500]
    train_mlp(x, y, x[:50], y[:50], cfg.model, cfg.train, 0, progress=False)
    assert torch.get_num_threads() == before


def test_run_records_threads(small_run):
    t = small_run.metrics["meta"]["threads"]
    assert t["train"] == 1 and t["run"] == 1 and t["torch_intra_op"] == 1 and t["cpu_count"] >= 1
