"""Stress inputs for co-simulation (reram.rtl.stress): what they hold and what they reach, by the golden model
(no Verilator: the co-simulation of them is in test_mutations and the pipeline tests)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from reram.golden import golden_forward
from reram.ir import rules
from reram.rtl.stress import EDGES, stress_coverage, stress_inputs
from reram_designs import tiny_design


@pytest.fixture(scope="module")
def designs():
    return {"dense": tiny_design(n_samples=40), "conv": tiny_design(conv=True, n_samples=40),
            "graph": tiny_design(graph=True, n_samples=20)}


@pytest.mark.parametrize("kind", ["dense", "conv", "graph"])
def test_stress_set_kinds_and_codes(designs, kind):
    cm, chip, _, _ = designs[kind]
    s = stress_inputs(cm, chip, seed=1)
    assert s.codes.shape == (len(s), cm.layers[0].in_size) == (sum(s.kinds.values()), cm.layers[0].in_size)
    assert s.codes.min() >= 0 and s.codes.max() == cm.arch.x_max
    assert s.kinds["zeros"] == s.kinds["max"] == 1 and s.kinds["random"] == 8 and s.kinds["adc_clamps"] >= 1
    assert not s.codes[0].any() and (s.codes[1] == cm.arch.x_max).all()
    assert ("borders" in s.kinds) == (cm.layers[0].kind == "conv2d")
    again = stress_inputs(cm, chip, seed=1)
    assert np.array_equal(again.codes, s.codes) and again.kinds == s.kinds  # same seed, same inputs
    assert not np.array_equal(stress_inputs(cm, chip, seed=2).codes, s.codes)


def test_border_inputs_hold_content_at_one_edge_each(designs):
    cm, chip, _, _ = designs["conv"]
    s = stress_inputs(cm, chip)
    C, H, W = cm.layers[0].conv["in_shape"]
    start = s.kinds["zeros"] + s.kinds["max"] + s.kinds["random"]
    maps = s.codes[start:start + s.kinds["borders"]].reshape(-1, C, H, W) != 0
    top, bottom, left, right, frame = maps
    assert top[:, 0].all() and not top[:, 1:].any()
    assert bottom[:, H - 1].all() and not bottom[:, :H - 1].any()
    assert left[:, :, 0].all() and not left[:, :, 1:].any()
    assert right[:, :, W - 1].all() and not right[:, :, :W - 1].any()
    assert not frame[:, 1:H - 1, 1:W - 1].any() and frame[:, [0, H - 1]].all() and frame[:, :, [0, W - 1]].all()
    assert len(EDGES) == 4


def test_saturation_is_the_adc_clamp_of_the_golden_model(designs):
    """The instrumented pass marks exactly the conversions that the clamp changed (layer 0, one row tile and slice
    at a time, recomputed here from the rules)."""
    cm, chip, x, _ = designs["dense"]
    layer, a = cm.layers[0], cm.arch
    cl = chip.layers[0]
    s = stress_inputs(cm, chip)
    xs = np.concatenate([x, s.codes])
    sat: list = []
    golden_forward(cm, chip, xs, saturation=sat)
    lo, hi = cm.adc_limits(layer)
    dG = (cl.g_pos.astype(np.int64) - cl.g_neg.astype(np.int64)).astype(np.float64)
    below = np.zeros((len(xs), layer.out_features), bool)
    above = np.zeros_like(below)
    slices = rules.input_slices(xs, a)
    for b, t, rs, sl in rules.mvm_blocks(layer, a):
        v = rules.rshift_round(np.rint(slices[b][:, rs].astype(np.float64) @ dG[sl, rs]).astype(np.int64)
                               * np.int64(cl.adc_mult[t]), layer.adc_shift)
        below |= v < lo
        above |= v > hi
    assert np.array_equal(sat[0][0], below) and np.array_equal(sat[0][1], above)
    assert above.any() and below.any()  # the stress inputs reach both clamps of layer 0


@pytest.mark.parametrize("kind", ["dense", "conv", "graph"])
def test_stress_inputs_reach_what_samples_do_not(designs, kind):
    cm, chip, x, _ = designs[kind]
    s = stress_inputs(cm, chip)
    data, stress = stress_coverage(cm, chip, x), stress_coverage(cm, chip, np.concatenate([x, s.codes]))
    gained = 0.0
    for name, d in data.items():
        for k, v in d.items():
            assert stress[name][k] >= v
            gained += stress[name][k] - v
        if "edges" in d and cm.layers[0].name == name:
            assert stress[name]["edges"] == 1.0  # every edge of the input map
    assert gained > 0.5
    low = sum(d["adc_low"] for d in stress.values()) / len(stress)
    high = sum(d["adc_high"] for d in stress.values()) / len(stress)
    assert low > 0.1 and high > 0.1, (low, high)


def test_a_column_that_cannot_saturate_is_not_counted(designs):
    """A chip whose ADC gains are tiny saturates nothing, whatever the inputs; one whose gains are huge saturates
    every column of layer 0 that has weights of both signs, at both ends."""
    cm, chip, _, _ = designs["dense"]
    s = stress_inputs(cm, chip)
    layers = list(chip.layers)
    layers[0] = replace(layers[0], adc_mult=np.ones_like(layers[0].adc_mult))
    tiny = replace(chip, layers=layers)
    old = cm.layers[0].adc_shift
    try:
        cm.layers[0].adc_shift = 20
        assert stress_coverage(cm, tiny, s.codes)["fc0"] == {"adc_low": 0.0, "adc_high": 0.0}
        layers[0] = replace(layers[0], adc_mult=np.full_like(layers[0].adc_mult, 2**20))
        cm.layers[0].adc_shift = 0
        both = ((cm.layers[0].weight > 0).any(1) & (cm.layers[0].weight < 0).any(1)).mean()
        huge = stress_inputs(cm, replace(chip, layers=layers))
        assert stress_coverage(cm, replace(chip, layers=layers), huge.codes)["fc0"] == {
            "adc_low": both, "adc_high": both}
    finally:
        cm.layers[0].adc_shift = old


def test_mutation_benchmark_operators():
    """benchmarks/rtl_mutation.py's operators: every one finds sites; a relational swap never hits a non-blocking
    assignment; a mutant changes exactly its site."""
    import re
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from reram.rtl.build import hdl_dir
    from rtl_mutation import OPERATORS, Mutant, all_sites, sample, sites

    ROOT_HDL = hdl_dir()

    muts = all_sites()
    assert {m.op for m in muts} == set(OPERATORS) and len(muts) >= 40
    text = "    always @(posedge clk) begin\n        a_reg <= (b <= c) ? d : e;\n        if (x) y <= z;\n    end\n"
    rel = [m for m in sites("t.v", text) if m.op == "relational"]
    assert [(m.line, m.orig) for m in rel] == [(2, "<=")] and rel[0].col == text.split("\n")[1].index("b <=") + 2
    changed = rel[0].apply(text)
    assert changed.replace("(b < c)", "(b <= c)") == text
    picked = sample(muts, 48, 0)
    assert len(picked) == 48 and {m.op for m in picked} == set(OPERATORS)
    assert picked == sample(muts, 48, 0)
    hdl = {m.file: (ROOT_HDL / m.file).read_text().split("\n") for m in picked}
    for m in (m for m in muts if m.op == "relational" and m.orig == "<="):  # never a non-blocking assignment
        line = (ROOT_HDL / m.file).read_text().split("\n")[m.line - 1]
        assert not re.match(r"^\s*[\w{][\w\[\]{}:, ]*$", line[:m.col]), m.id
    assert all(isinstance(m, Mutant) and hdl[m.file] for m in picked)


def test_coverage_benchmark_reads_verilator_coverage_files(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from rtl_coverage import read_points, summarize

    def point(f, line, typ, comment, hier, count):
        kv = {"f": f"/x/{f}", "l": str(line), "n": "3", "t": typ, "page": f"v_{typ}/m", "o": comment, "h": hier}
        return "C '" + "".join(f"\x01{k}\x02{v}" for k, v in kv.items()) + f"' {count}\n"

    dat = tmp_path / "c.dat"
    dat.write_text("# SystemC::Coverage-3\n" + point("a.v", 5, "line", "block", "TOP.u0", 0)
                   + point("a.v", 5, "line", "block", "TOP.u1", 4) + point("a.v", 9, "branch", "if", "TOP.u0", 0)
                   + point("b.v", 2, "toggle", "x:0->1", "TOP.u2", 1)
                   + point("b.v", 2, "toggle", "x:1->0", "TOP.u2", 0))
    pts = read_points(dat)
    assert pts[("a.v", 5, 3, "line", "block")] == 4  # two instances merged
    r = summarize(pts)
    assert r["line_coverage"] == 0.5 and r["toggle_coverage"] == 0.5 and r["line_points"] == 2
    assert r["uncovered_line_points"] == ["a.v:9 branch if"]
    assert r["least_covered_modules"][0]["module"] == "a.v"
