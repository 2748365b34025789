"""Mutation tests: a copy of the RTL with one injected fault at a time must fail co-simulation against the golden
model (the harness of tests/reram_mutation.py: random and stress inputs, tied logits, stalls). The kill rate over
the faults is printed and must be 100 %; benchmarks/rtl_mutation.py measures the score over automatic mutants."""

from __future__ import annotations

import numpy as np
import pytest

from reram.errors import CosimError
from reram.rtl import build as rtl_build
from reram.rtl.cosim import raise_on_mismatch, run_cosim
from reram.rtl.stress import stress_coverage, stress_inputs
from reram_designs import tiny_design
from reram_mutation import caught, harness_designs, mutated_hdl, replace_once

pytestmark = [pytest.mark.rtl, pytest.mark.slow]

# name: (file, original text, faulty text, design of reram_mutation.harness_designs)
MUTANTS = {
    "adc rounding removed": (
        "reram_adc.v", "scaled = (product + rnd) >>> sh;", "scaled = product >>> sh;", "dense"),
    "last row tile's partial sum dropped": (
        "reram_layer.v", "for (i = 0; i < T; i = i + 1) begin\n                        if (adc_valid",
        "for (i = 0; i < T - 1; i = i + 1) begin\n                        if (adc_valid", "dense"),
    "activation clamp widened": (  # needs a requantized value of exactly -1: none in the dense design's inputs
        "reram_act.v", "qc = (q < xmin) ?", "qc = (q < xmin - 64'sd1) ?", ("dense", "conv")),
    "argmax tie order flipped": (
        "reram_argmax.v", "$signed(in_value[k*64 +: 64]) > value_next", "$signed(in_value[k*64 +: 64]) >= value_next",
        "dense"),
    "controller skips the last ADC round": (
        "reram_layer_ctrl.v", "wire last_round = round_reg == ROUNDS - 1;",
        "wire last_round = round_reg >= ROUNDS - 2;", "dense"),
    "output bank not switched on commit": (
        "reram_layer.v", "{full_reg[wbank_reg], wbank_reg} <= {1'b1, ~wbank_reg};",
        "{full_reg[wbank_reg], wbank_reg} <= {1'b1, wbank_reg};", "dense"),
    "pool window starts on any window edge": (
        "reram_layer.v", "wire pool_first = (oy32 % PKH == 0) && (ox32 % PKW == 0);",
        "wire pool_first = (oy32 % PKH == 0) || (ox32 % PKW == 0);", "conv"),
    "im2col ignores the padding offset": (
        "reram_addrgen.v", "oy}) * SH - PH;", "oy}) * SH;", "conv"),
    "residual operand read at the pooled position": (
        "reram_layer.v", "o * (HO * WO) + {{(32-CW){1'b0}}, oy} * WO +", "o * (HO * WO) + {{(32-CW){1'b0}}, oy} * WP +",
        "graph-gap"),  # equivalent where no add is pooled (WP = WO): the graph design's adds pool only 1 x 1 maps
    "skip bank not switched on commit": (
        "reram_layer.v", "{sk_full_reg[sk_wbank_reg], sk_wbank_reg} <= {1'b1, ~sk_wbank_reg};",
        "{sk_full_reg[sk_wbank_reg], sk_wbank_reg} <= {1'b1, sk_wbank_reg};", "graph"),
    "activation strobe not gated by the stall": (
        "reram_layer_ctrl.v", "assign act_valid = (state_reg == S_ACT) && !stall;",
        "assign act_valid = (state_reg == S_ACT);", "conv"),
    "a layer starts without a free output bank": (
        "reram_layer.v", "wire go = full_reg[rbank_reg] && skip_full && out_free;",
        "wire go = full_reg[rbank_reg] && skip_full;", "slow-later"),
    "a fork waits for its first reader only": (
        "reram_top.v", "assign o_free[l] = &rd_free;", "assign o_free[l] = l_in_free[l+1];", "graph-gap"),
}

# Equivalent, so left out: "im2col ignores the top and left padding" (valid = (iy < H) && (ix < W)). reram_top passes
# H and W as part-selects, unsigned, so a negative iy or ix already fails iy < H: the iy >= 0 checks are redundant.
# It was counted killed only while the faults of earlier mutants accumulated in the copy of the RTL.


def test_every_injected_rtl_fault_is_caught(tmp_path, capsys):
    designs = harness_designs()
    names = {n: (d,) if isinstance(d, str) else d for n, (*_, d) in MUTANTS.items()}
    for name in {d for ds in names.values() for d in ds}:
        assert caught(*designs[name][:3], designs[name][3].rtl) is None, name  # the real RTL passes
    killed = []
    for name, (fname, orig, bad, _) in MUTANTS.items():
        # each mutant on a fresh copy of the RTL (a copy of the last mutant's copy would accumulate faults)
        text = replace_once((rtl_build.hdl_dir() / fname).read_text(), orig, bad, fname)
        with mutated_hdl(tmp_path / name.replace(" ", "_"), {fname: text}):
            if any(caught(*designs[d][:3], designs[d][3].rtl) for d in names[name]):
                killed.append(name)
    rate = len(killed) / len(MUTANTS)
    with capsys.disabled():
        print(f"\nRTL mutation kill rate: {len(killed)}/{len(MUTANTS)} = {100 * rate:.0f} %")
    assert set(killed) == set(MUTANTS), f"survived: {sorted(set(MUTANTS) - set(killed))}"


# faults that inputs like a dataset's hide (blank map borders, ADCs that rarely saturate), and stress inputs show
STRESS_MUTANTS = {
    "im2col reads past a map's right edge": (
        "reram_addrgen.v", "(ix >= 0) && (ix < W);", "(ix >= 0) && (ix <= W);"),
    "signed ADC clamps one code high": (
        "reram_adc.v", "localparam signed [PW-1:0] HI_S = CODE_MAX_S;",
        "localparam signed [PW-1:0] HI_S = CODE_MAX_S + 1;"),
}


def test_stress_inputs_catch_faults_that_dataset_like_samples_hide(tmp_path):
    """Inputs with a blank border (as MNIST's) and moderate codes (ADCs that never saturate) pass an RTL whose
    address generator reads past a map's right edge (into the next row's blank first column) or whose signed ADC
    clamps one code high; the same inputs with the co-simulation's stress inputs fail both."""
    cm, chip, _, cfg = tiny_design("rtl.adcs_per_array=2", conv=True)
    C, H, W = cm.layers[0].conv["in_shape"]
    maps = np.zeros((8, C, H, W), np.int64)
    maps[:, :, 1:-1, 1:-1] = np.random.default_rng(0).integers(0, cm.arch.x_max // 4 + 1, (8, C, H - 2, W - 2))
    x = maps.reshape(8, -1)
    cov = stress_coverage(cm, chip, x)
    assert not any(d["adc_high"] for d in cov.values()), cov  # the premise: no ADC saturates high
    stress = stress_inputs(cm, chip)
    y = np.zeros(len(x), np.int64)
    for name, (fname, orig, bad) in STRESS_MUTANTS.items():
        text = replace_once((rtl_build.hdl_dir() / fname).read_text(), orig, bad, fname)
        with mutated_hdl(tmp_path / name.replace(" ", "_").replace("'", ""), {fname: text}):
            raise_on_mismatch(run_cosim(cm, chip, x, y, cfg.rtl, progress=False, batch=8))  # hidden
            with pytest.raises(CosimError):
                raise_on_mismatch(run_cosim(cm, chip, x, y, cfg.rtl, progress=False, batch=8, stress=stress))
