"""The same RTL under a second simulator (Icarus Verilog, self-checking testbench) and verilator -Wall lint."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from reram.analog.program import program_chip
from reram.compile import FLOW_SPECS, compile_flow, noise_free
from reram.config import load_config
from reram.config.schema import RtlConfig
from reram.golden import golden_forward, pixel_codes
from reram.models import build_mlp
from reram.rtl.build import HDL_FILES, hdl_dir
from reram.rtl.images import build_image
from reram.rtl.params import analytic_cycles, header, rtl_params
from reram_testing import missing

pytestmark = pytest.mark.rtl
TB = Path(__file__).parent / "tb" / "tb_reram_top.v"


def tiny_design(*sets: str, n_in: int = 40, seed: int = 0):
    """A small random network (n_in-12-6-5) on small arrays: quick under a slow simulator."""
    from dataclasses import replace

    from reram.analog import resolve_device

    torch.manual_seed(seed)
    model = build_mlp(n_in, [12, 6], 5, batchnorm=True).eval()
    cfg = load_config(None, ["calibration.finetune_iters=0", "array.rows=16", "array.cols=8", *sets])
    dev = replace(noise_free(resolve_device(cfg)), program_sigma=0.05, sigma_model="constant")
    rng = np.random.default_rng(seed)
    calib = rng.random((300, n_in), dtype=np.float32)
    cm = compile_flow(model, cfg, dev, FLOW_SPECS["ideal"], calib, progress=False)
    chip = program_chip(cm, dev, seed=3)
    x = pixel_codes(cm, rng.random((6, n_in), dtype=np.float32))
    return cm, chip, x


def write_tb_inputs(folder: Path, cm, chip, x, rcfg: RtlConfig) -> int:
    p = rtl_params(cm, rcfg)
    (folder / "reram_params.vh").write_text(header(p))
    addrs, data = build_image(cm, chip, p)
    cpw = 4 if cm.arch.dac_bits <= 8 else 2
    field = 32 // cpw
    words = []
    for row in x:
        for w in range(0, len(row), cpw):
            words.append(sum(int(v) << (field * i) for i, v in enumerate(row[w : w + cpw])))
    g = golden_forward(cm, chip, x)
    exp = []
    for s in range(len(x)):
        exp += [int(v) & (2**64 - 1) for v in g.logits[s]] + [int(g.predictions[s])]
    meta = [len(addrs), len(x), x.shape[1], g.logits.shape[1], cpw]

    def dump(name, vals, width):
        (folder / name).write_text("\n".join(f"{v:0{width}x}" for v in vals) + "\n")

    dump("meta.hex", meta, 8)
    dump("image_addr.hex", addrs, 8)
    dump("image_data.hex", data, 8)
    dump("inputs.hex", words, 8)
    dump("expected.hex", exp, 16)
    return analytic_cycles(p)


@pytest.mark.parametrize("sets, rcfg", [
    ((), RtlConfig(adcs_per_array=2)),
    (("dac.mode=bit_serial", "device.slices=2", "device.cell_bits=2"), RtlConfig(adcs_per_array=3, adc_latency=2)),
])
def test_icarus_self_checking_testbench(tmp_path, sets, rcfg):
    if shutil.which("iverilog") is None or shutil.which("vvp") is None:
        missing("Icarus Verilog is not installed (apt-get install iverilog)")
    cm, chip, x = tiny_design(*sets)
    cycles = write_tb_inputs(tmp_path, cm, chip, x, rcfg)
    srcs = [str(hdl_dir() / f) for f in HDL_FILES]
    comp = subprocess.run(["iverilog", "-g2005", "-Wall", "-Wno-timescale", "-I", str(tmp_path), "-o",
                           str(tmp_path / "sim.vvp"), "-s", "tb_reram_top", str(TB), *srcs],
                          capture_output=True, text=True, cwd=tmp_path)
    assert comp.returncode == 0, comp.stderr
    run = subprocess.run(["vvp", "-n", "sim.vvp"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert f"PASS {len(x)} samples, {cycles} cycles per inference" in run.stdout, run.stdout[-2000:]


@pytest.mark.parametrize("sets, rcfg", [
    (("array.rows=128", "array.cols=128"), RtlConfig()),
    (("array.rows=16", "array.cols=8"), RtlConfig(adcs_per_array=2)),
    (("dac.mode=bit_serial", "device.slices=2", "device.cell_bits=2"), RtlConfig(adcs_per_array=8)),
])
def test_verilator_lint_wall_clean(tmp_path, toolchain, sets, rcfg):
    cm, _, _ = tiny_design(*sets)
    (tmp_path / "reram_params.vh").write_text(header(rtl_params(cm, rcfg)))
    srcs = [str(hdl_dir() / f) for f in HDL_FILES]
    res = subprocess.run([str(toolchain.verilator), "--lint-only", "-Wall", "-I" + str(tmp_path),
                          "-I" + str(hdl_dir()), "--top-module", "reram_top", *srcs], capture_output=True, text=True)
    assert res.returncode == 0 and "%Warning" not in res.stderr, res.stderr[-3000:]
    # every module on its own too
    for f in HDL_FILES:
        if f in ("reram_top.v", "reram_ctrl.v"):
            continue
        r = subprocess.run([str(toolchain.verilator), "--lint-only", "-Wall", "--top-module", f[:-2],
                            str(hdl_dir() / f)], capture_output=True, text=True)
        assert r.returncode == 0 and "%Warning" not in r.stderr, (f, r.stderr[-2000:])
