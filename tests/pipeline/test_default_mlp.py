"""The default MLP on full MNIST keeps its figures: software accuracy and the calibrated analog gap."""

from __future__ import annotations

import pytest

from reram.config import load_config
from reram.pipeline import execute

pytestmark = [pytest.mark.slow]


def test_default_mlp_accuracy_and_gap_on_full_mnist(tmp_path, mnist_dir):
    cfg = load_config()  # the defaults: 784-256-128-10, 12 epochs, default flow, 5 chips
    ctx = execute(cfg, tmp_path, name="default", stages=["data", "train", "compile", "analog"],
                  data_dir=str(mnist_dir), progress=False)
    m = ctx.metrics
    assert m["meta"]["splits"] == {"train": 58000, "calibration": 2000, "test": 10000}
    sw, an = m["software"]["test_accuracy"], m["analog"]["test_accuracy_mean"]
    assert sw >= 0.984, sw
    assert sw - an <= 0.004, (sw, an)  # measured: about 0.15-0.25 pt
    assert m["analog"]["chips"] == 5
