"""Constrained-random configurations (tests/reram_random.py): random legal combinations of kernels, strides (rows
and columns apart), padding, non-square maps, pooling, array groups, ADC and activation lanes, input port widths,
DAC modes and phases, weight slices, ADC signedness and bits and latencies, each co-simulated on random weights and
inputs with the stress inputs, and under random stalls. A fixed seed list runs here (chosen to cover max and
average pooling and the three DAC modes); benchmarks/rtl_random_configs.py sweeps more seeds."""

from __future__ import annotations

import numpy as np
import pytest

from reram.rtl.cosim import raise_on_mismatch, run_cosim
from reram.rtl.stress import stress_inputs
from reram_mutation import caught_under_stalls
from reram_random import random_design

pytestmark = [pytest.mark.rtl, pytest.mark.slow]

SEEDS = [0, 4, 7]  # integrating inputs and four layers; average pooling, multilevel; max pooling, bit-serial


@pytest.mark.parametrize("seed", SEEDS)
def test_random_configuration_matches_golden_model(toolchain, seed):
    cm, chip, x, cfg, desc = random_design(seed)
    res = run_cosim(cm, chip, x, np.zeros(len(x), np.int64), cfg.rtl, progress=False, batch=4,
                    stress=stress_inputs(cm, chip, seed=seed))
    raise_on_mismatch(res)  # every code of every layer, every completion cycle, every event counter
    assert res.latency_cycles == res.analytic_latency_cycles and res.ii_cycles == res.analytic_ii_cycles, desc
    assert not caught_under_stalls(cm, chip, x, cfg.rtl), desc


def test_the_seed_list_covers_the_features():
    designs = [random_design(s) for s in SEEDS]
    layers = [ly for cm, *_ in designs for ly in cm.layers]
    assert {cm.arch.dac_mode for cm, *_ in designs} == {"multilevel", "bit_serial", "integrating"}
    assert {ly.pool["kind"] for ly in layers if ly.pool} == {"max", "avg"}
    assert any(ly.conv["stride"][0] != ly.conv["stride"][1] for ly in layers if ly.conv)
    assert any(ly.conv["kernel"][0] != ly.conv["kernel"][1] for ly in layers if ly.conv)
    assert any(ly.conv["in_shape"][1] != ly.conv["in_shape"][2] for ly in layers if ly.conv)
    assert any(ly.conv["padding"] != [0, 0] for ly in layers if ly.conv)
