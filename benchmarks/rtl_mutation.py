"""Mutation score of the RTL's fast verification suite: mutants made automatically from the Verilog, each run
against the fault-finding harness of tests/reram_mutation.py (the suite of tests/rtl/test_mutations.py).

Mutation operators, applied one site at a time to the synthesizable Verilog (the behavioural models -- the analog
macro with its crossbar and converters, and the feature buffers -- are left alone; the hand-written faults of
tests/rtl/test_mutations.py still patch the converter model; comments, parameter and port declarations are
skipped):

* ``relational``: ``<`` <-> ``<=``, ``>`` <-> ``>=`` (comparisons, not non-blocking assignments);
* ``shift``: ``>>>`` <-> ``>>``;
* ``arithmetic``: binary ``+`` <-> ``-``;
* ``constant``: an unsized decimal constant in an expression, +1 or -1;
* ``invert``: a one-bit signal's assigned value inverted (``assign x = e`` -> ``assign x = !(e)``);
* ``bank``: a bank select swapped (``[wbank_reg]`` -> ``[~wbank_reg]``).

Sites are listed per operator and sampled (``--seed``) so that every operator is represented. Each mutant runs in a
fresh process against the harness designs in turn, stopping at the first that fails it (codes, cycles, counters,
tied logits, stalls, a hang; a process that never returns within ``--timeout``), then, if none did, against the
suite's ``verilator --lint-only -Wall`` check with each design's parameters. A mutant that Verilator or g++
rejects is stillborn and not counted. A survivor that no input can tell from the original is equivalent, listed
with its reason in EQUIVALENT below after review.

    python benchmarks/rtl_mutation.py [--mutants 48] [--seed 0] [--list]

Prints JSON: mutants, killed, survived (each named), equivalent (each with a reason), stillborn, score =
killed / (mutants - equivalent), per operator, and what killed each mutant.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from _common import cpu_name  # noqa: E402

OPERATORS = ("relational", "shift", "arithmetic", "constant", "invert", "bank")

# mutant id -> why no input can tell it from the original (reviewed survivors)
EQUIVALENT: dict[str, str] = {
    "reram_act.v:56:52 relational '>' -> '>='": (
        "the activation clamp (q >= xmax) ? xmax : q differs from (q > xmax) ? xmax : q only at q == xmax, where "
        "both give xmax"),
    "reram_addrgen.v:31:40 constant '32' -> '31'": (
        "the output row is zero-extended to 31 bits instead of 32 before $signed: its sign bit is still 0 (positions "
        "have CW <= 16 bits), so the patch row iy0 = oy * SH - PH is the same 32-bit value"),
    "reram_top.v:143:35 invert '1'b0' -> '!(1'b0)'": (
        "sk_commit of a layer without a residual add: reram_layer reads it only inside its skip buffer (ADD != 0), "
        "which such a layer does not have"),
    "reram_top.v:311:26 relational '<' -> '<='": (
        "the reset loop clears count_reg[NCNT] too, an address past the array: a write to a nonexistent array "
        "element has no effect in Verilog (IEEE 1364-2005)"),
    "reram_top.v:338:66 shift '>>' -> '>>>'": (
        "the operand is an unsigned 32-bit wire: >>> on an unsigned expression fills with zeros, as >> does"),
    "reram_top.v:339:36 shift '>>' -> '>>>'": (
        "the operand (waddr32) is unsigned: >>> fills with zeros, as >> does"),
}


@dataclass(frozen=True)
class Mutant:
    op: str
    file: str
    line: int  # 1-based
    col: int  # 0-based, in the line
    orig: str
    new: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}:{self.col} {self.op} '{self.orig}' -> '{self.new}'"

    def apply(self, text: str) -> str:
        lines = text.split("\n")
        ln = lines[self.line - 1]
        assert ln[self.col:self.col + len(self.orig)] == self.orig, self.id
        lines[self.line - 1] = ln[:self.col] + self.new + ln[self.col + len(self.orig):]
        return "\n".join(lines)


SKIP = re.compile(r"^\s*(parameter|localparam|input|output|inout|module|`|genvar|\)\s*;|endmodule)")


def _code(line: str) -> str:
    """The line without its comment (blanked, so columns stay)."""
    i = line.find("//")
    return line if i < 0 else line[:i] + " " * (len(line) - i)


def _in_brackets(code: str, pos: int) -> bool:
    return code[:pos].count("[") > code[:pos].count("]")


def _nonblocking(code: str, pos: int) -> bool:
    """Whether the ``<=`` at ``pos`` is a non-blocking assignment: outside parentheses, after an lvalue that starts
    the statement."""
    pre = code[:pos]
    if pre.count("(") != pre.count(")") or "?" in pre:
        return False
    tail = re.split(r";|\bbegin\b|\belse\b|\)", pre)[-1]
    return re.fullmatch(r"\s*[\w{][\w\[\]{}:,\s+*'-]*", tail) is not None and "=" not in tail


def one_bit_names(text: str) -> set[str]:
    """Signals declared without a range (one bit)."""
    names = set()
    for m in re.finditer(r"\b(?:wire|reg)\s+(?:signed\s+)?([A-Za-z_]\w*)\s*(?=[=;,)])", text):
        names.add(m.group(1))
    return names


def sites(fname: str, text: str) -> list[Mutant]:
    out: list[Mutant] = []
    in_block_comment = False
    bits = one_bit_names(text)
    for i, raw in enumerate(text.split("\n"), start=1):
        code = _code(raw)
        if "/*" in code:
            in_block_comment = "*/" not in code[code.index("/*"):]
            code = code[:code.index("/*")]
        elif in_block_comment:
            in_block_comment = "*/" not in code
            continue
        if not code.strip() or SKIP.match(code):
            continue
        for m in re.finditer(r"(?<![<>=!])(<=|>=|<|>)(?![<>=])", code):
            op = m.group(1)
            if op == "<=" and _nonblocking(code, m.start()):
                continue
            new = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}[op]
            out.append(Mutant("relational", fname, i, m.start(), op, new))
        for m in re.finditer(r">>>|(?<!>)>>(?!>)", code):
            out.append(Mutant("shift", fname, i, m.start(), m.group(), ">>" if m.group() == ">>>" else ">>>"))
        for m in re.finditer(r"(?<=[\w)\]]) ([+-]) (?=[\w($'{])", code):
            if _in_brackets(code, m.start()) and "+:" in code[m.start():m.start() + 40].split("]")[0]:
                continue  # the base of an indexed part-select
            out.append(Mutant("arithmetic", fname, i, m.start(1), m.group(1), "-" if m.group(1) == "+" else "+"))
        for k, m in enumerate(re.finditer(r"(?<![\w'.$])(\d+)(?![\w'.])", code)):
            if _in_brackets(code, m.start()):
                continue
            v = int(m.group(1))
            new = v + 1 if (v == 0 or (i + k) % 2 == 0) else v - 1
            out.append(Mutant("constant", fname, i, m.start(), m.group(1), str(new)))
        m = re.match(r"^(\s*(?:assign\s+|wire\s+)?)([A-Za-z_]\w*)(\s*(?:=|<=)\s*)(.+);\s*$", code)
        if m and m.group(2) in bits and not m.group(4).lstrip().startswith("{"):
            col = m.end(3)
            out.append(Mutant("invert", fname, i, col, m.group(4), f"!({m.group(4)})"))
        for m in re.finditer(r"\[(~?)([A-Za-z_]\w*bank\w*)\]", code):
            if m.group(1):
                continue
            out.append(Mutant("bank", fname, i, m.start(2), m.group(2), f"~{m.group(2)}"))
    return out


def all_sites() -> list[Mutant]:
    from reram.rtl.build import BEHAVIOURAL, HDL_FILES, hdl_dir

    out = []
    for f in HDL_FILES:
        if f not in BEHAVIOURAL:
            out += sites(f, (hdl_dir() / f).read_text())
    return out


def sample(muts: list[Mutant], n: int, seed: int) -> list[Mutant]:
    """``n`` mutants, spread evenly over the operators (an operator with fewer sites gives its share away)."""
    rng = random.Random(seed)
    by_op = {op: [m for m in muts if m.op == op] for op in OPERATORS}
    for v in by_op.values():
        rng.shuffle(v)
    chosen: list[Mutant] = []
    while len(chosen) < n and any(by_op.values()):
        for op in OPERATORS:
            if by_op[op] and len(chosen) < n:
                chosen.append(by_op[op].pop())
    return sorted(chosen, key=lambda m: (m.file, m.line, m.col))


def _child(designs: dict, m: Mutant | None, queue) -> None:
    import os

    os.dup2(2, 1)  # the simulator's own messages (e.g. a mutant's $readmem warnings) go to stderr, not the JSON
    queue.put(_run(designs, m))


def _run(designs: dict, m: Mutant | None) -> dict:
    """In a fresh process: the harness on the mutant (None: on the original RTL)."""
    import logging

    from reram.errors import ToolchainError
    from reram.rtl import build as rtl_build
    from reram_mutation import caught, lint_warnings, mutated_hdl

    logging.getLogger("reram").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    texts = {} if m is None else {m.file: m.apply((rtl_build.hdl_dir() / m.file).read_text())}
    with tempfile.TemporaryDirectory(prefix="reram-mut-") as tmp, mutated_hdl(Path(tmp) / "hdl", texts):
        for name, (cm, chip, x, cfg) in designs.items():
            try:
                why = caught(cm, chip, x, cfg.rtl)
            except ToolchainError as e:
                return {"result": "stillborn", "why": str(e)[:200], "seconds": time.perf_counter() - t0}
            if why:
                return {"result": "killed", "design": name, "how": why, "seconds": time.perf_counter() - t0}
        for name, (cm, _, _, cfg) in designs.items():  # the suite's lint test (verilator -Wall) on each design
            warning = lint_warnings(cm, cfg.rtl)
            if warning:
                return {"result": "killed", "design": name, "how": f"lint: {warning[:160]}",
                        "seconds": time.perf_counter() - t0}
    return {"result": "survived", "seconds": time.perf_counter() - t0}


def run_isolated(ctx, designs: dict, m: Mutant | None, timeout: float) -> dict:
    """:func:`_run` in a fresh process (a mutant's library is never loaded beside another's), killed after
    ``timeout`` seconds: a simulation that never returns (e.g. an evaluation that does not settle) is a failure the
    suite shows too, by never finishing."""
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(designs, m, queue))
    t0 = time.perf_counter()
    proc.start()
    try:
        return queue.get(timeout=timeout)
    except Exception:  # queue.Empty: still running, or it died without a result
        alive = proc.is_alive()
        return {"result": "killed", "design": "-", "how": f"no result after {timeout:.0f} s (the simulation hung)"
                if alive else f"the simulator process died (exit {proc.exitcode})",
                "seconds": time.perf_counter() - t0}
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mutants", type=int, default=48, help="mutants to sample (default 48)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--list", action="store_true", help="list the sampled mutants and exit")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per mutant before it counts as a hang")
    args = ap.parse_args()
    muts = sample(all_sites(), args.mutants, args.seed)
    if args.list:
        print(json.dumps([m.id for m in muts], indent=1))
        return 0
    from reram_mutation import harness_designs

    t0 = time.perf_counter()
    designs = dict(harness_designs())
    ctx = mp.get_context("spawn")
    results: dict[str, dict] = {}
    base = run_isolated(ctx, designs, None, args.timeout)
    if base["result"] != "survived":
        print(json.dumps({"error": "the original RTL fails the harness", **base}))
        return 1
    for k, m in enumerate(muts):
        r = run_isolated(ctx, designs, m, args.timeout)
        results[m.id] = {**asdict(m), **r}
        print(f"[{k + 1}/{len(muts)}] {r['result']:9s} {m.id} ({r['seconds']:.0f} s)", file=sys.stderr, flush=True)
    counted = [i for i, r in results.items() if r["result"] != "stillborn"]
    killed = [i for i in counted if results[i]["result"] == "killed"]
    survived = [i for i in counted if results[i]["result"] == "survived" and i not in EQUIVALENT]
    equivalent = [{"mutant": i, "reason": EQUIVALENT[i]} for i in counted if i in EQUIVALENT
                  and results[i]["result"] == "survived"]
    per_op = {op: {"mutants": sum(results[i]["op"] == op for i in counted),
                   "killed": sum(results[i]["op"] == op for i in killed)} for op in OPERATORS}
    denom = len(counted) - len(equivalent)
    print(json.dumps({
        "mutants": len(counted), "killed": len(killed), "survived": survived, "equivalent": equivalent,
        "stillborn": [i for i, r in results.items() if r["result"] == "stillborn"],
        "score": len(killed) / denom if denom else 1.0, "target_score": 0.95, "per_operator": per_op,
        "killed_by": {i: f"{results[i]['design']}: {results[i]['how']}" for i in killed},
        "killed_by_lint_only": sum(results[i]["how"].startswith("lint") for i in killed),
        "sites": len(all_sites()), "seed": args.seed, "designs": list(designs),
        "seconds": time.perf_counter() - t0, "cpu": cpu_name()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
