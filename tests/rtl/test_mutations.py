"""Mutation tests: a copy of the RTL with one injected fault at a time must fail co-simulation against the golden
model. The kill rate over the faults is printed and must be 100 %."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from reram.config.schema import RtlConfig
from reram.errors import CosimMismatch
from reram.rtl import build as rtl_build
from reram.rtl.cosim import raise_on_mismatch, run_cosim

pytestmark = [pytest.mark.rtl, pytest.mark.slow]

# name: (file, original text, faulty text)
MUTANTS = {
    "adc rounding removed": (
        "reram_adc.v", "wire signed [PW-1:0] scaled = (product + rnd) >>> shift;",
        "wire signed [PW-1:0] scaled = (product + {PW{1'b0}}) >>> shift;"),
    "accumulator shift off by one": (
        "reram_accum.v", "<<< add_shift[a*SHW +: SHW];", "<<< (add_shift[a*SHW +: SHW] + 6'd1);"),
    "activation clamp widened": (
        "reram_act.v", "wire [XW-1:0] code_next = (q < 0) ?", "wire [XW-1:0] code_next = (q < -64'sd1) ?"),
    "argmax tie order flipped": (
        "reram_argmax.v", "(!have_reg || in_value > best_value)", "(!have_reg || in_value >= best_value)"),
    "controller skips LATCH between row tiles": (
        "reram_ctrl.v", "tile_next = tile_reg + 1'b1;\n                            state_next = S_LATCH;",
        "tile_next = tile_reg + 1'b1;\n                            state_next = S_READ;"),
}


def _tie_chip(chip):
    """The same chip with every logit equal (last layer: multiplier 0, one bias): argmax must pick index 0."""
    layers = list(chip.layers)
    last = layers[-1]
    n = len(last.req_bias)
    layers[-1] = replace(last, req_mult=np.zeros(n, np.int64), req_bias=np.full(n, 12345, np.int64))
    return replace(chip, layers=layers)


def _caught(cm, chip, x, y, rcfg) -> bool:
    for c, xs in ((chip, x), (_tie_chip(chip), x[:4])):
        res = run_cosim(cm, c, xs, y[: len(xs)], rcfg, trace_layers=False, progress=False)
        try:
            raise_on_mismatch(res)
        except CosimMismatch:
            return True
    return False


def test_every_injected_rtl_fault_is_caught(rtl_case, tmp_path, monkeypatch, capsys):
    cm, chip, x, y = rtl_case()
    rcfg = RtlConfig()
    assert not _caught(cm, chip, x, y, rcfg)  # the real RTL passes both checks
    monkeypatch.setattr(rtl_build, "cache_root", lambda: tmp_path / "cache")
    killed = []
    for name, (fname, orig, bad) in MUTANTS.items():
        src = tmp_path / name.replace(" ", "_")
        shutil.copytree(rtl_build.hdl_dir(), src)
        text = (src / fname).read_text()
        assert text.count(orig) == 1, f"{name}: the fault site is not unique in {fname}"
        (src / fname).write_text(text.replace(orig, bad))
        monkeypatch.setattr(rtl_build, "hdl_dir", lambda src=src: src)
        if _caught(cm, chip, x, y, rcfg):
            killed.append(name)
    rate = len(killed) / len(MUTANTS)
    with capsys.disabled():
        print(f"\nRTL mutation kill rate: {len(killed)}/{len(MUTANTS)} = {100 * rate:.0f} %")
    assert set(killed) == set(MUTANTS), f"survived: {sorted(set(MUTANTS) - set(killed))}"
