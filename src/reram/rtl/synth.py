"""Synthesis of the digital periphery with Yosys: cells per module, latches, combinational loops, and an area
estimate from a cited gate-equivalent area.

The behavioural macros (``BEHAVIOURAL`` in :mod:`reram.rtl.build`: the analog crossbar and the feature-buffer
register files) are read as black boxes; everything else of ``reram_top`` is synthesized to Yosys' generic gate
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

from reram.compile.machine import Machine
from reram.errors import ToolchainError
from reram.fsutil import atomic_write_json

from .addrmap import header_cpp, header_v
from .build import BEHAVIOURAL, HDL_FILES, cache_root, hdl_dir, write_headers
from .params import header
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


def find_yosys() -> str:
    exe = shutil.which("yosys")
    if exe is None:
        raise ToolchainError("Yosys not found: install it with 'apt-get install yosys' (system-packages.txt)")
    return exe


def _ge(cell: str, n: int) -> float:
    if "DFF" in cell or "DLATCH" in cell:
        return n * GE_FLOP
    return n * GE_PER_CELL.get(cell, GE_DEFAULT)


_MOD = re.compile(r"^=== (.+) ===$")
_CELLS = re.compile(r"^\s+Number of cells:\s+(\d+)")
_CELL_LINE = re.compile(r"^\s+(\$\S+|\S+)\s+(\d+)$")


def _base_name(mod: str) -> str:
    """``$paramod$abc\\reram_layer`` / ``$paramod\\reram_adc\\SW=...`` -> ``reram_layer`` / ``reram_adc``."""
    m = re.search(r"\\(reram_[A-Za-z0-9_]+)", mod)
    return m.group(1) if m else mod.lstrip("\\")


def parse_stat(text: str) -> dict[str, dict]:
    """Per-module cell counts and cell types from Yosys ``stat`` output (one entry per parameterization)."""
    mods: dict[str, dict] = {}
    cur = None
    in_cells = False
    for line in text.splitlines():
        m = _MOD.match(line)
        if m:
            name = m.group(1)
            cur = None if name == "design hierarchy" else mods.setdefault(name, {"cells": 0, "types": {}})
            in_cells = False
            continue
        if cur is None:
            continue
        c = _CELLS.match(line)
        if c:
            cur["cells"] = int(c.group(1))
            in_cells = True
            continue
        if in_cells:
            t = _CELL_LINE.match(line)
            if t:
                cur["types"][t.group(1)] = int(t.group(2))
            elif line.strip() and not line.startswith("     "):
                in_cells = False
    return mods


def _instances(text: str) -> dict[str, int]:
    """Total instances of each module (parameterization) in the design: the ``design hierarchy`` tree of ``stat``
    lists each module's instances under each parent; nested counts multiply."""
    counts: dict[str, int] = {}
    block = text.split("=== design hierarchy ===", 1)
    if len(block) < 2:
        return counts
    stack: list[tuple[int, int]] = []  # (indent, multiplier)
    started = False
    for line in block[1].splitlines():
        t = re.match(r"^(\s+)(\S+)\s+(\d+)$", line)
        if not t:
            if started and not line.strip():
                break
            continue
        started = True
        indent, name, n = len(t.group(1)), t.group(2), int(t.group(3))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        mult = n * (stack[-1][1] if stack else 1)
        counts[name] = counts.get(name, 0) + mult
        stack.append((indent, mult))
    return counts


SCRIPT = """read_verilog -DSYNTHESIS -I{tmp} -I{hdl} {src}
read_verilog -lib -DSYNTHESIS -I{tmp} -I{hdl} {lib}
hierarchy -check -top reram_top
synth -top reram_top
check
tee -o stat.txt stat -top reram_top
select -list t:$_DLATCH* t:$dlatch* t:$_SR* %u
"""


def synth_key(m: Machine, yosys_version: str) -> str:
    """Content hash of everything a synthesis result depends on: the RTL files Yosys reads, the generated headers,
    the script and the Yosys version."""
    h = hashlib.sha256()
    for name in HDL_FILES:
        h.update(name.encode())
        h.update((hdl_dir() / name).read_bytes())
    for text in (header(m), header_v(), header_cpp(), params_cpp(m), SCRIPT, yosys_version, "synth-cache=1"):
        h.update(text.encode())
    return h.hexdigest()[:20]


def synthesize(m: Machine, timeout_s: float = 600.0, work: Path | None = None, cache: bool = True) -> dict:
    """Synthesize the digital periphery of machine ``m``; returns cells in total and per module, latches, loops,
    area (GE and mm2), the Yosys version, ``seconds`` (this call) and ``yosys_seconds`` (the Yosys run the figures
    come from: an earlier one when they come from the cache)."""
    yosys = find_yosys()
    t_call = time.perf_counter()
    version = subprocess.run([yosys, "-V"], capture_output=True, text=True, check=False).stdout.strip()
    entry = cache_root() / "synth" / f"{synth_key(m, version)}.json"
    if cache and entry.exists():
        try:
            res = json.loads(entry.read_text())
            if isinstance(res, dict) and "cells" in res and "yosys_seconds" in res:
                return res | {"seconds": time.perf_counter() - t_call}
        except (OSError, ValueError):
            pass  # synthesized again below and replaced
    res = _run_yosys(m, yosys, version, timeout_s, work)
    if cache:
        with contextlib.suppress(OSError):  # a read-only cache folder: the result is still returned
            atomic_write_json(entry, res)
    return res | {"seconds": time.perf_counter() - t_call}


def _run_yosys(m: Machine, yosys: str, version: str, timeout_s: float, work: Path | None) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="reram-synth-")) if work is None else Path(work)
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        write_headers(tmp, m)
        src = [str(hdl_dir() / f) for f in HDL_FILES if f not in BEHAVIOURAL]
        lib = [str(hdl_dir() / f) for f in BEHAVIOURAL]
        script = SCRIPT.format(tmp=tmp, hdl=hdl_dir(), src=" ".join(src), lib=" ".join(lib))
        (tmp / "synth.ys").write_text(script)
        t0 = time.perf_counter()
        try:
            res = subprocess.run([yosys, "-q", "-l", "yosys.log", "-s", "synth.ys"], cwd=tmp, capture_output=True,
                                 text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise ToolchainError(f"Yosys did not finish within {timeout_s:.0f} s (synthesis of {tmp})") from None
        seconds = time.perf_counter() - t0
        log_text = (tmp / "yosys.log").read_text() if (tmp / "yosys.log").exists() else ""
        if res.returncode != 0:
            err = next((ln for ln in (res.stderr + log_text).splitlines() if "ERROR" in ln), res.stderr.strip()[:200])
            raise ToolchainError(f"Yosys failed: {err.strip()} (log: {tmp / 'yosys.log'})")
        stat = (tmp / "stat.txt").read_text() if (tmp / "stat.txt").exists() else ""
        mods = parse_stat(stat)
        if not mods:
            raise ToolchainError(f"Yosys finished without statistics (log: {tmp / 'yosys.log'})")
        inst = _instances(stat)
        per_module: dict[str, dict] = {}
        for name, rec in mods.items():
            base = _base_name(name)
            n_inst = inst.get(name, 1 if base == "reram_top" else 0)
            ge = sum(_ge(c, k) for c, k in rec["types"].items())
            flops = sum(k for c, k in rec["types"].items() if "DFF" in c)
            agg = per_module.setdefault(base, {"cells": 0, "instances": 0, "flops": 0, "gate_equivalents": 0.0,
                                                "parameterizations": 0, "cells_per_instance": []})
            agg["cells"] += rec["cells"] * n_inst
            agg["flops"] += flops * n_inst
            agg["gate_equivalents"] += ge * n_inst
            agg["instances"] += n_inst
            agg["parameterizations"] += 1
            agg["cells_per_instance"].append(rec["cells"])
        latches = sum(k * inst.get(name, 1) for name, rec in mods.items() for c, k in rec["types"].items()
                      if "LATCH" in c.upper() or c.startswith("$_SR"))
        loops = len(re.findall(r"found logic loop", log_text))
        total_cells = sum(v["cells"] for v in per_module.values())
        total_ge = sum(v["gate_equivalents"] for v in per_module.values())
        for v in per_module.values():
            v["area_mm2"] = v["gate_equivalents"] * NAND2_UM2["value"] * 1e-6
        return {
            "cells": total_cells, "latches": latches, "combinational_loops": loops, "per_module": per_module,
            "gate_equivalents": total_ge, "area_mm2": total_ge * NAND2_UM2["value"] * 1e-6,
            "gate_area": NAND2_UM2, "black_boxes": [f.removesuffix(".v") for f in BEHAVIOURAL],
            "yosys": version, "yosys_seconds": seconds,
            "flow": "synth -top reram_top (Yosys generic cells, hierarchy kept)",
        }
    finally:
        if work is None:
            shutil.rmtree(tmp, ignore_errors=True)


# which synthesized modules make up each part the energy model has an area for
AREA_PARTS = {
    "control": ("reram_layer_ctrl", "reram_top", "reram_addrgen"),
    "shift_add": ("reram_colacc",),
}


def compare_area(res: dict, model_area: dict[str, float], preset: str) -> list[dict]:
    """The synthesized area of the parts the energy model also sizes (control, shift-and-add) beside the model's
    figures; the feature buffers are black boxes here (their area is the model's only)."""
    rows = []
    for part, mods in AREA_PARTS.items():
        syn = sum(res["per_module"].get(m, {}).get("area_mm2", 0.0) for m in mods)
        model = model_area.get(part, 0.0)
        rows.append({"part": part, "modules": list(mods), "synth_mm2": syn, "energy_model_mm2": model,
                     "preset": preset, "ratio": syn / model if model else None})
    rows.append({"part": "buffers", "modules": ["reram_fbuf (black box)"], "synth_mm2": None,
                 "energy_model_mm2": model_area.get("buffers", 0.0), "preset": preset, "ratio": None})
    return rows
