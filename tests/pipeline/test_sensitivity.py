"""The accuracy sensitivity sweeps: points that share a compiled model compile once, with the same figures."""

from __future__ import annotations

import pytest

from reram.config import load_config
from reram.pipeline import flows, sensitivity


@pytest.mark.slow
def test_programming_error_points_compile_once(small_run, monkeypatch):
    cfg = load_config(None, ["analog.sensitivity_samples=200", "calibration.finetune_iters=0"],
                      base=small_run.cfg.model_dump(mode="json"))
    calls = []
    real = flows.compile_flow

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(flows, "compile_flow", counting)
    sensitivity._LAST_COMPILED.clear()
    model, splits = small_run.model, small_run.splits
    a = sensitivity.sensitivity_point(model, cfg, splits, "program_sigma", 0.02, 1)
    b = sensitivity.sensitivity_point(model, cfg, splits, "program_sigma", 0.10, 1)
    assert len(calls) == 1  # the compiler does not read the device's noise
    sensitivity.sensitivity_point(model, cfg, splits, "adc_bits", 6, 1)
    assert len(calls) == 2  # another ADC: compiled again
    sensitivity._LAST_COMPILED.clear()
    fresh = sensitivity.sensitivity_point(model, cfg, splits, "program_sigma", 0.10, 1)
    assert len(calls) == 3 and fresh == b and a != b
