"""The same RTL under a second simulator (Icarus Verilog, self-checking testbench) and verilator -Wall lint."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reram.config.schema import RtlConfig
from reram.golden import golden_forward
from reram.rtl.build import HDL_FILES, hdl_dir, write_headers
from reram.rtl.images import build_image
from reram.rtl.params import rtl_params
from reram_designs import tiny_design
from reram_testing import missing

pytestmark = pytest.mark.rtl
TB = Path(__file__).parent / "tb" / "tb_reram_top.v"


def write_tb_inputs(folder: Path, cm, chip, x, rcfg: RtlConfig) -> int:
    """The testbench's files; returns the analytic latency in cycles."""
    m = rtl_params(cm, rcfg)
    write_headers(folder, m)
    addrs, data = build_image(cm, chip, m)
    beats = []
    for row in x:
        for b in range(m.in_beats):
            codes = row[b * m.in_codes : (b + 1) * m.in_codes]
            beats.append(sum(int(v) << (m.xw * i) for i, v in enumerate(codes)))
    g = golden_forward(cm, chip, x)
    exp = []
    for s in range(len(x)):
        exp += [int(v) & (2**64 - 1) for v in g.logits[s]] + [int(g.predictions[s])]

    def dump(name, vals, width):
        (folder / name).write_text("\n".join(f"{v:0{width}x}" for v in vals) + "\n")

    dump("meta.hex", [len(addrs), len(x)], 8)
    dump("image_addr.hex", addrs, 8)
    dump("image_data.hex", data, 8)
    dump("beats.hex", beats, -(-m.in_codes * m.xw // 4))
    dump("expected.hex", exp, 16)
    return m.latency_cycles


CONV = {"conv": True}
GRAPH = {"graph": True, "pool": "max"}  # a ResNet-8 (residual adds, signed projections, pooled skip operands)


@pytest.mark.parametrize("sets, kind", [
    (("rtl.adcs_per_array=2",), {}),
    (("dac.mode=bit_serial", "device.slices=2", "device.cell_bits=2", "rtl.adcs_per_array=3", "rtl.adc_latency=2"),
     {}),
    (("rtl.act_lanes=2", "rtl.input_codes_per_cycle=6"), CONV),
    (("rtl.act_lanes=2",), GRAPH),
])
def test_icarus_self_checking_testbench(tmp_path, sets, kind):
    if shutil.which("iverilog") is None or shutil.which("vvp") is None:
        missing("Icarus Verilog is not installed (apt-get install iverilog)")
    cm, chip, x, cfg = tiny_design(*sets, **kind, n_samples=5)
    latency = write_tb_inputs(tmp_path, cm, chip, x, cfg.rtl)
    srcs = [str(hdl_dir() / f) for f in HDL_FILES]
    comp = subprocess.run(["iverilog", "-g2005", "-Wall", "-Wno-timescale", "-I", str(tmp_path), "-o",
                           str(tmp_path / "sim.vvp"), "-s", "tb_reram_top", str(TB), *srcs],
                          capture_output=True, text=True, cwd=tmp_path)
    assert comp.returncode == 0, comp.stderr
    run = subprocess.run(["vvp", "-n", "sim.vvp"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert f"PASS {len(x)} samples, latency {latency} cycles" in run.stdout, run.stdout[-2000:]


@pytest.mark.parametrize("sets, kind", [
    (("array.rows=128", "array.cols=128"), {}),
    (("rtl.adcs_per_array=2", "rtl.array_group=2"), {}),
    (("dac.mode=bit_serial", "device.slices=2", "device.cell_bits=2"), {}),
    ((), CONV),
    (("rtl.act_lanes=3", "dac.mode=bit_serial", "dac.bits=4"), CONV),
    (("rtl.act_lanes=3",), GRAPH),
])
def test_verilator_lint_wall_clean(tmp_path, toolchain, sets, kind):
    cm, _, _, cfg = tiny_design(*sets, **kind)
    write_headers(tmp_path, rtl_params(cm, cfg.rtl))
    srcs = [str(hdl_dir() / f) for f in HDL_FILES]
    res = subprocess.run([str(toolchain.verilator), "--lint-only", "-Wall", "-I" + str(tmp_path),
                          "-I" + str(hdl_dir()), "--top-module", "reram_top", *srcs], capture_output=True, text=True)
    assert res.returncode == 0 and "%Warning" not in res.stderr, res.stderr[-3000:]
    # every module on its own too (with its default parameters; the machine-independent headers, e.g. reram_rules.vh)
    for f in HDL_FILES:
        if f in ("reram_top.v", "reram_layer.v"):
            continue
        r = subprocess.run([str(toolchain.verilator), "--lint-only", "-Wall", "-I" + str(tmp_path), "-y",
                            str(hdl_dir()), "--top-module", f[:-2], str(hdl_dir() / f)], capture_output=True, text=True)
        assert r.returncode == 0 and "%Warning" not in r.stderr, (f, r.stderr[-2000:])
