"""Mutation tests: a copy of the RTL with one injected fault at a time must fail co-simulation against the golden
model. The kill rate over the faults is printed and must be 100 %."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from reram.errors import CosimError
from reram.rtl import build as rtl_build
from reram.rtl.cosim import raise_on_mismatch, run_cosim
from reram_designs import tiny_design

pytestmark = [pytest.mark.rtl, pytest.mark.slow]

# name: (file, original text, faulty text, design: "dense" or "conv")
MUTANTS = {
    "adc rounding removed": (
        "reram_adc.v", "wire signed [PW-1:0] scaled = (product + rnd) >>> shift;",
        "wire signed [PW-1:0] scaled = (product + {PW{1'b0}}) >>> shift;", "dense"),
    "last row tile's partial sum dropped": (
        "reram_layer.v", "for (i = 0; i < T; i = i + 1) begin\n                        if (adc_valid",
        "for (i = 0; i < T - 1; i = i + 1) begin\n                        if (adc_valid", "dense"),
    "activation clamp widened": (
        "reram_act.v", "qc = (q < xmin) ?", "qc = (q < xmin - 64'sd1) ?", "dense"),
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
    "im2col ignores the top and left padding": (
        "reram_addrgen.v", "assign valid[r] = (iy >= 0) && (iy < H) && (ix >= 0) && (ix < W);",
        "assign valid[r] = (iy < H) && (ix < W);", "conv"),
    "residual operand read at the pooled position": (
        "reram_layer.v", "o * (HO * WO) + {{(32-CW){1'b0}}, oy} * WO +", "o * (HO * WO) + {{(32-CW){1'b0}}, oy} * WP +",
        "graph"),
    "skip bank not switched on commit": (
        "reram_layer.v", "{sk_full_reg[sk_wbank_reg], sk_wbank_reg} <= {1'b1, ~sk_wbank_reg};",
        "{sk_full_reg[sk_wbank_reg], sk_wbank_reg} <= {1'b1, sk_wbank_reg};", "graph"),
    "a fork waits for its first reader only": (
        "reram_top.v", "assign o_free[l] = &rd_free;", "assign o_free[l] = l_in_free[l+1];", "graph"),
}


def _tie_chip(chip, n: int):
    """The same chip with every logit equal (last layer: multiplier 0, one bias): argmax must pick index 0."""
    layers = list(chip.layers)
    last = layers[-1]
    layers[-1] = replace(last, req_mult=np.zeros(n, np.int64), req_bias=np.full(n, 12345, np.int64))
    return replace(chip, layers=layers)


def _caught(cm, chip, x, rcfg) -> bool:
    y = np.zeros(len(x), np.int64)
    for c, xs in ((chip, x), (_tie_chip(chip, cm.layers[-1].out_features), x[:4])):
        try:
            res = run_cosim(cm, c, xs, y[: len(xs)], rcfg, progress=False, batch=4)
            raise_on_mismatch(res)
        except CosimError:  # a mismatch, a cycle difference or a hang
            return True
    return False


def test_every_injected_rtl_fault_is_caught(tmp_path, monkeypatch, capsys):
    # small random designs: 3 row tiles and 2 ADC rounds per read (dense), padding and max pooling (conv), a ResNet-8
    # with a max-pooled stem (graph)
    designs = {"dense": tiny_design("rtl.adcs_per_array=2", n_samples=8),
               "conv": tiny_design("rtl.adcs_per_array=2", conv=True, n_samples=6),
               "graph": tiny_design("rtl.act_lanes=2", "rtl.adcs_per_array=1", graph=True, pool="max",
                                    n_samples=6)}
    for cm, chip, x, cfg in designs.values():
        assert not _caught(cm, chip, x, cfg.rtl)  # the real RTL passes both checks
    monkeypatch.setattr(rtl_build, "cache_root", lambda: tmp_path / "cache")
    killed = []
    for name, (fname, orig, bad, design) in MUTANTS.items():
        src = tmp_path / name.replace(" ", "_")
        shutil.copytree(rtl_build.hdl_dir(), src)
        text = (src / fname).read_text()
        assert text.count(orig) == 1, f"{name}: the fault site is not unique in {fname}"
        (src / fname).write_text(text.replace(orig, bad))
        monkeypatch.setattr(rtl_build, "hdl_dir", lambda src=src: src)
        cm, chip, x, cfg = designs[design]
        if _caught(cm, chip, x, cfg.rtl):
            killed.append(name)
    rate = len(killed) / len(MUTANTS)
    with capsys.disabled():
        print(f"\nRTL mutation kill rate: {len(killed)}/{len(MUTANTS)} = {100 * rate:.0f} %")
    assert set(killed) == set(MUTANTS), f"survived: {sorted(set(MUTANTS) - set(killed))}"
