"""Synthesis of the digital periphery with Yosys: statistics per module, zero latches and loops in the real RTL,
a latch injected into a copy of the RTL is found, and ``reram synth RUN`` records and prints the figures."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from reram.errors import ToolchainError
from reram.rtl import build as rtl_build
from reram.rtl import synth as rtl_synth
from reram.rtl.params import rtl_params
from reram_designs import tiny_design
from reram_testing import require_yosys

pytestmark = [pytest.mark.rtl]


@pytest.fixture(scope="module")
def yosys():
    require_yosys()


@pytest.mark.slow
@pytest.mark.parametrize("design", [{"conv": True, "pool": "avg"}, {"graph": True, "pool": "max"}])
def test_synthesis_statistics_and_no_latches(yosys, design):
    """A conv net, and a ResNet-8 (skip buffers, residual adds, signed codes, forks): no latches, no loops."""
    cm, _, _, cfg = tiny_design(**design)
    n = len(cm.layers)
    r = rtl_synth.synthesize(rtl_params(cm, cfg.rtl))
    assert r["latches"] == 0 and r["combinational_loops"] == 0
    mods = r["per_module"]
    for name in ("reram_top", "reram_layer", "reram_layer_ctrl", "reram_act", "reram_colacc",
                 "reram_addrgen", "reram_pool", "reram_row_reg", "reram_argmax"):
        assert mods[name]["instances"] >= 1, name
    assert mods["reram_layer"]["instances"] == n and mods["reram_layer_ctrl"]["instances"] == n
    assert mods["reram_colacc"]["cells"] > 0 and mods["reram_addrgen"]["cells"] > 0  # real logic, not optimized away
    assert r["cells"] == sum(v["cells"] for v in mods.values())
    # the analog macro (crossbar, DACs, sample-and-holds, converters) is one black box: none of it is synthesized
    assert set(r["black_boxes"]) == {"reram_analog_macro", "reram_fbuf"}
    assert not {"reram_adc", "reram_xbar_macro", "reram_analog_macro", "reram_fbuf"} & set(mods)
    assert r["area_mm2"] == pytest.approx(r["gate_equivalents"] * 0.5e-6)


@pytest.mark.slow
def test_an_injected_latch_is_found(yosys, tmp_path, monkeypatch):
    src = tmp_path / "hdl"
    shutil.copytree(rtl_build.hdl_dir(), src)
    f = src / "reram_layer_ctrl.v"
    text = f.read_text()
    orig = "    assign busy = state_reg != S_IDLE;"
    assert text.count(orig) == 1
    f.write_text(text.replace(orig, "    reg held;\n    always @(*) if (go) held = stall;  // incomplete: a latch\n"
                                    "    assign busy = (state_reg != S_IDLE) | held;"))
    monkeypatch.setattr(rtl_synth, "hdl_dir", lambda: src)
    cm, _, _, cfg = tiny_design()
    r = rtl_synth.synthesize(rtl_params(cm, cfg.rtl))
    assert r["latches"] >= 1


@pytest.mark.slow
def test_synthesis_is_cached_by_content(yosys, tmp_path, monkeypatch):
    """A second synthesis of the same machine comes from the cache (Yosys does not run); another machine, a changed
    RTL file or an unreadable cache entry synthesizes again."""
    monkeypatch.setenv("RERAM_RTL_CACHE", str(tmp_path / "cache"))
    cm, _, _, cfg = tiny_design()
    m = rtl_params(cm, cfg.rtl)
    first = rtl_synth.synthesize(m, work=tmp_path / "first")  # real Yosys once; its statistics kept
    calls = []

    def counting(machine, cmd, work):
        """Later syntheses: counted, and answered at once with the first one's statistics (the cache logic is what
        this test checks, not Yosys)."""
        calls.append(1)
        work.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / "first" / "stat.json", work / "stat.json")
        (work / "yosys.log").write_text("")
        return subprocess.Popen(["true"])

    monkeypatch.setattr(rtl_synth, "_start_yosys", counting)
    again = rtl_synth.synthesize(m)
    assert not calls and {k: v for k, v in again.items() if k != "seconds"} == \
        {k: v for k, v in first.items() if k != "seconds"}
    assert again["yosys_seconds"] == first["yosys_seconds"] and again["seconds"] < first["yosys_seconds"]
    entries = list((tmp_path / "cache" / "synth").glob("*.json"))
    assert len(entries) == 1
    entries[0].write_text("{ truncated")
    assert rtl_synth.synthesize(m)["cells"] == first["cells"] and len(calls) == 1
    cm2, _, _, cfg2 = tiny_design(conv=True, pool="avg")
    rtl_synth.synthesize(rtl_params(cm2, cfg2.rtl))
    assert len(calls) == 2
    src = tmp_path / "hdl"
    shutil.copytree(rtl_build.hdl_dir(), src)
    (src / "reram_act.v").write_text((src / "reram_act.v").read_text() + "\n// a comment\n")
    monkeypatch.setattr(rtl_synth, "hdl_dir", lambda: src)
    rtl_synth.synthesize(m)
    assert len(calls) == 3


@pytest.mark.slow
def test_synth_command_records_and_prints(yosys, tmp_path):
    base = [sys.executable, "-m", "reram"]
    sets = ['data.dataset="mnist-5k"', "model.hidden=[16]", "train.epochs=1", "calibration.finetune_iters=0",
            "data.test_subset=100"]
    args = [*base, "run", "--runs-dir", str(tmp_path), "--name", "s", "--quiet", "--stages", "data,train,compile"]
    for s in sets:
        args += ["--set", s]
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*base, "synth", str(tmp_path / "s"), "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "reram_colacc" in r.stdout and "total" in r.stdout and "0 latches" in r.stdout
    m = json.loads((tmp_path / "s" / "metrics.json").read_text())
    rec = m["followups"]["synth"]
    assert rec["results"]["cells"] > 0 and rec["results"]["latches"] == 0 and rec["error"] is None
    assert rec["timing"]["synth_seconds"] > 0 and "seconds" not in rec["results"]
    assert m["synth"] == {}  # the run's own section is untouched by the follow-up


# Yosys' `stat -json` of a design `reram_top` holding two `reram_adc`, as written by Yosys 0.23 (the design hierarchy
# as plain text lines inside the JSON, and submodule instances counted as cells) and by 0.70 (num_submodules)
STAT_0_23 = """{
   "creator": "Yosys 0.23 (git sha1 7ce5011c24b)",
   "modules": {
      "$paramod$0a4f\\\\reram_adc": {
         "num_cells":         10,
         "num_cells_by_type": {
            "$_AND_": 1,
            "$_DFF_P_": 4,
            "$_XOR_": 5
         }
      },
      "\\\\reram_top": {
         "num_cells":         3,
         "num_cells_by_type": {
            "$_DLATCH_P_": 1,
            "$paramod$0a4f\\\\reram_adc": 2
         }
      }
   },
       $paramod$0a4f\\reram_adc      2
      "design": {
         "num_cells":         23
      }
}
"""
STAT_0_70 = """{
  "creator": "Yosys 0.70 (git sha1 28ba3cb92)",
  "modules": {
    "\\\\reram_top": {"num_cells": 1, "num_submodules": 2,
                    "num_cells_by_type": {"$_DLATCH_P_": 1, "$paramod$0a4f\\\\reram_adc": 2}},
    "$paramod$0a4f\\\\reram_adc": {"num_cells": 10, "num_submodules": 0,
                                 "num_cells_by_type": {"$_AND_": 1, "$_DFF_P_": 4, "$_XOR_": 5}}
  }
}
"""


@pytest.mark.parametrize("text", [STAT_0_23, STAT_0_70], ids=["yosys-0.23", "yosys-0.70"])
def test_stat_json_of_both_yosys_versions(tmp_path, text):
    (tmp_path / "stat.json").write_text(text)
    (tmp_path / "yosys.log").write_text("")
    r = rtl_synth._read_results(tmp_path, 0, "Yosys test", 1.0)
    adc, top = r["per_module"]["reram_adc"], r["per_module"]["reram_top"]
    assert (adc["instances"], adc["cells"], adc["flops"], adc["cells_per_instance"]) == (2, 20, 8, [10])
    assert (top["instances"], top["cells"]) == (1, 1)  # its own latch; the ADC instances are not its cells
    assert r["cells"] == 21 and r["latches"] == 1
    assert r["gate_equivalents"] == pytest.approx(2 * (1.33 + 4 * 5.0 + 5 * 2.0) + 5.0)


def test_yosys_without_statistics_is_an_error(tmp_path):
    """A Yosys that exits 0 without its statistics (a WebAssembly build once stopped at ABC so) is not trusted."""
    (tmp_path / "yosys.log").write_text("ABC: ...\n")
    with pytest.raises(ToolchainError, match="without statistics"):
        rtl_synth._read_results(tmp_path, 0, "Yosys test", 1.0)
