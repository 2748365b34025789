"""Mutation tests: a copy of the RTL with one injected fault at a time must fail co-simulation against the golden
model. The kill rate over the faults is printed and must be 100 %."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from reram.errors import CosimError
from reram.golden import golden_forward
from reram.rtl import build as rtl_build
from reram.rtl.bridge import RtlSim
from reram.rtl.cosim import EVENT_KEYS, raise_on_mismatch, run_cosim
from reram.rtl.images import build_image
from reram.rtl.params import rtl_params
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
    "activation strobe not gated by the stall": (
        "reram_layer_ctrl.v", "assign act_valid = (state_reg == S_ACT) && !stall;",
        "assign act_valid = (state_reg == S_ACT);", "conv"),
    "a layer starts without a free output bank": (
        "reram_layer.v", "wire go = full_reg[rbank_reg] && skip_full && out_free;",
        "wire go = full_reg[rbank_reg] && skip_full;", "slow-later"),
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
        except CosimError:  # a mismatch, a cycle difference, a counter difference or a hang
            return True
    return _caught_under_stalls(cm, chip, x, rcfg)


def _caught_under_stalls(cm, chip, x, rcfg) -> bool:
    """A batch with the controllers stalled at random cycles mid-inference and a slow host: codes and event counts
    against the golden model."""
    m = rtl_params(cm, rcfg)
    lib, _ = rtl_build.build_library(m, progress=False)
    g = golden_forward(cm, chip, x, collect_events=True)
    sizes = [ly.out_size for ly in cm.layers[:-1]]
    try:
        with RtlSim(lib) as sim:
            sim.write_block(*build_image(cm, chip, m))
            sim.clear_counters()
            logits, _, _, caps = sim.run_batch(np.ascontiguousarray(x, np.uint16), cm.layers[-1].out_features,
                                               10**6, sizes, len(cm.layers), jitter_seed=3, stall_seed=11)
            counts = sim.counters()
    except CosimError:
        return True
    same = np.array_equal(logits, g.logits) and all(
        np.array_equal(c, o) for c, o in zip(caps, g.layer_outputs[:-1], strict=True))
    return not same or any(counts[k] != g.events.get(k, 0) for k in EVENT_KEYS)


def test_every_injected_rtl_fault_is_caught(tmp_path, monkeypatch, capsys):
    # small random designs: 3 row tiles and 2 ADC rounds per read (dense), padding and max pooling (conv), a ResNet-8
    # with a max-pooled stem (graph), an MLP whose second layer is slower than its first (slow-later)
    designs = {"dense": tiny_design("rtl.adcs_per_array=2", n_samples=8),
               "conv": tiny_design("rtl.adcs_per_array=2", conv=True, n_samples=6),
               "graph": tiny_design("rtl.act_lanes=2", "rtl.adcs_per_array=1", graph=True, pool="max",
                                    n_samples=6),
               "slow-later": tiny_design("rtl.act_lanes=2", widths=(4, 40), n_samples=8)}
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
