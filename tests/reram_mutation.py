"""The RTL's fault-finding harness: small designs that between them reach every RTL feature, each co-simulated
against the golden model on random inputs and the co-simulation's stress inputs, with every code, completion cycle
and event counter compared; a batch whose logits all tie (argmax order); a batch under random controller stalls
mid-inference with a slow, irregular host; and a write during an inference, which the protocol checker must flag.
An RTL passes when nothing differs (benchmarks/rtl_mutation.py adds the suite's verilator -Wall lint).

Used by tests/rtl/test_mutations.py (hand-written faults), benchmarks/rtl_mutation.py (automatic mutants) and
benchmarks/rtl_coverage.py (the coverage this harness reaches)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np

from reram.errors import CosimError
from reram.golden import golden_forward
from reram.rtl import build as rtl_build
from reram.rtl.bridge import RtlSim
from reram.rtl.cosim import EVENT_KEYS, raise_on_mismatch, run_cosim
from reram.rtl.images import build_image
from reram.rtl.params import rtl_params
from reram.rtl.stress import stress_inputs
from reram_designs import tiny_design


@cache
def harness_designs() -> dict[str, tuple]:
    """name -> (cm, chip, x, cfg): a dense net with 3 row tiles and 2 ADC rounds per read; a conv net with padding
    and max pooling; a ResNet-8 with a max-pooled stem (forks, joins, projections, global average pooling); one
    without it, whose last residual add is pooled from 2 x 2 to 1 x 1, one array read at a time; an MLP
    whose second layer is slower than its first (back-pressure); a conv net with average pooling, bit-serial
    inputs, two weight slices and latencies of 2; an integrating-DAC dense net with a unipolar ADC, one ADC, array
    groups and a narrow input port."""
    designs = {
        "dense": tiny_design("rtl.adcs_per_array=2", n_samples=8),
        "conv": tiny_design("rtl.adcs_per_array=2", conv=True, n_samples=6),
        "graph": tiny_design("rtl.act_lanes=2", "rtl.adcs_per_array=1", graph=True, pool="max", n_samples=6),
        "graph-gap": tiny_design("rtl.array_group=1", graph=True, pool="none", n_samples=6),
        "slow-later": tiny_design("rtl.act_lanes=2", widths=(4, 40), n_samples=8),
        "conv-avg-bitserial": tiny_design("dac.mode=bit_serial", "dac.bits=4", "device.slices=2",
                                          "device.cell_bits=2", "rtl.adc_latency=2", "rtl.array_latency=2",
                                          conv=True, pool="avg", n_samples=6),
        "dense-integrating-unsigned": tiny_design("dac.mode=integrating", "dac.phases=2", "rtl.adcs_per_array=1",
                                                  "rtl.array_group=1", "rtl.input_codes_per_cycle=5",
                                                  "rtl.act_lanes=3", n_samples=6),
    }
    cm = designs["dense-integrating-unsigned"][0]
    for layer in cm.layers[:-1]:  # a unipolar ADC on the hidden layers (the post-ReLU ablation step)
        layer.adc_signed = False
    return designs


def tie_chip(chip, n: int):
    """The same chip with every logit equal (last layer: multiplier 0, one bias): argmax must pick index 0."""
    layers = list(chip.layers)
    last = layers[-1]
    layers[-1] = replace(last, req_mult=np.zeros(n, np.int64), req_bias=np.full(n, 12345, np.int64))
    return replace(chip, layers=layers)


def caught(cm, chip, x, rcfg, stress: bool = True, coverage_dir: Path | None = None) -> str | None:
    """How the RTL now in ``rtl_build.hdl_dir()`` fails on this design, or None if nothing differs: "codes"
    (codes, cycles or counters of the inputs and stress inputs), "tie" (argmax order), "stalls" (codes or counters
    under stalls), "hang" (a watchdog or protocol error in any of them) or "protocol" (the protocol checker does
    not flag a write during an inference). ``coverage_dir``: builds with coverage,
    each check writing what it reached there (codes.dat, tie.dat, stalls.dat, protocol.dat)."""
    y = np.zeros(len(x), np.int64)
    st = stress_inputs(cm, chip) if stress else None
    for what, c, xs, s in (("codes", chip, x, st), ("tie", tie_chip(chip, cm.layers[-1].out_features), x[:4], None)):
        try:
            res = run_cosim(cm, c, xs, y[: len(xs)], rcfg, progress=False, batch=4, stress=s,
                            coverage_file=None if coverage_dir is None else coverage_dir / f"{what}.dat")
        except CosimError:  # a hang (watchdog) or a protocol error
            return "hang"
        try:
            raise_on_mismatch(res)
        except CosimError:
            return what
    if caught_under_stalls(cm, chip, x, rcfg, coverage_dir):
        return "stalls"
    return "protocol" if caught_protocol(cm, chip, x, rcfg, coverage_dir) else None


def caught_protocol(cm, chip, x, rcfg, coverage_dir: Path | None = None) -> bool:
    """The protocol checker: a host write to a memory while an inference runs sets the sticky error flag, which
    clearing the counters clears (as tests/rtl/test_robustness.py checks)."""
    from reram.ir.addrmap import addr

    m = rtl_params(cm, rcfg)
    lib, _ = rtl_build.build_library(m, progress=False, coverage=coverage_dir is not None)
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, m))
        try:
            sim.run_batch(np.ascontiguousarray(x[:2], np.uint16), cm.layers[-1].out_features,
                          max(1, m.latency_cycles // 2))
            return True  # two inferences finished in half the latency of one
        except CosimError:
            pass
        clean = sim.status()["protocol_error"] == 0
        sim.write(addr("RMULT", 0), 0)  # a constant written during the inference
        flagged = sim.status()["protocol_error"] == 1
        sim.clear_counters()
        cleared = sim.status()["protocol_error"] == 0
        if coverage_dir is not None:
            sim.coverage_write(coverage_dir / "protocol.dat")
    return not (clean and flagged and cleared)


def caught_under_stalls(cm, chip, x, rcfg, coverage_dir: Path | None = None) -> bool:
    """A batch with the controllers stalled at random cycles mid-inference and a slow host: codes and event counts
    against the golden model."""
    m = rtl_params(cm, rcfg)
    lib, _ = rtl_build.build_library(m, progress=False, coverage=coverage_dir is not None)
    g = golden_forward(cm, chip, x, collect_events=True)
    sizes = [ly.out_size for ly in cm.layers[:-1]]
    try:
        with RtlSim(lib) as sim:
            sim.write_block(*build_image(cm, chip, m))
            sim.clear_counters()
            logits, _, _, caps = sim.run_batch(np.ascontiguousarray(x, np.uint16), cm.layers[-1].out_features,
                                               10**6, sizes, len(cm.layers), jitter_seed=3, stall_seed=11)
            counts = sim.counters()
            if coverage_dir is not None:
                sim.coverage_write(coverage_dir / "stalls.dat")
    except CosimError:
        return True
    same = np.array_equal(logits, g.logits) and all(
        np.array_equal(c, o) for c, o in zip(caps, g.layer_outputs[:-1], strict=True))
    return not same or any(counts[k] != g.events.get(k, 0) for k in EVENT_KEYS)


def lint_warnings(cm, rcfg) -> str:
    """``verilator --lint-only -Wall`` of the RTL now in ``rtl_build.hdl_dir()`` with this design's parameters, as
    tests/rtl/test_icarus_and_lint.py runs it: its first warning or error, or "" when clean."""
    import subprocess
    import tempfile

    tc = rtl_build.find_toolchain()
    with tempfile.TemporaryDirectory(prefix="reram-lint-") as tmp:
        rtl_build.write_headers(Path(tmp), rtl_params(cm, rcfg))
        srcs = [str(rtl_build.hdl_dir() / f) for f in rtl_build.HDL_FILES]
        res = subprocess.run([str(tc.verilator), "--lint-only", "-Wall", "-I" + tmp, "-I" + str(rtl_build.hdl_dir()),
                              "--top-module", "reram_top", *srcs], capture_output=True, text=True, check=False)
    if res.returncode == 0 and "%Warning" not in res.stderr:
        return ""
    return next((ln for ln in res.stderr.splitlines() if ln.startswith(("%Warning", "%Error"))), "lint failed")


def replace_once(text: str, orig: str, bad: str, what: str = "") -> str:
    if text.count(orig) != 1:
        raise ValueError(f"the fault site is not unique{' in ' + what if what else ''}: {orig!r}")
    return text.replace(orig, bad)


@contextlib.contextmanager
def mutated_hdl(folder: Path, texts: dict[str, str]) -> Iterator[Path]:
    """A copy of the RTL in ``folder`` with the files of ``texts`` (name -> new text) replaced, made the RTL that
    builds use (``rtl_build.hdl_dir``) inside the block, with its own build cache (removed after it)."""
    shutil.copytree(rtl_build.hdl_dir(), folder)
    for fname, text in texts.items():
        (folder / fname).write_text(text)
    saved = rtl_build.hdl_dir, rtl_build.cache_root
    rtl_build.hdl_dir = lambda: folder  # type: ignore[assignment]
    rtl_build.cache_root = lambda: folder / ".cache"  # type: ignore[assignment]
    try:
        yield folder
    finally:
        rtl_build.hdl_dir, rtl_build.cache_root = saved
        shutil.rmtree(folder / ".cache", ignore_errors=True)
