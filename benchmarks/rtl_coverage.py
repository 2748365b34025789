"""Line and toggle coverage of the RTL under the fast RTL suite, measured with Verilator's --coverage.

The suite is the fault-finding harness of tests/reram_mutation.py, the one tests/rtl/test_mutations.py and
benchmarks/rtl_mutation.py use: seven small designs that between them reach every RTL feature (dense and conv
layers, max and average pooling, ResNet-8s with forks, joins, projections and a pooled residual add, back-pressure
from a slower later layer, bit-serial and integrating DACs, weight slices, unipolar ADCs, array groups, latencies),
each co-simulated on random inputs and the co-simulation's stress inputs, with tied logits, under random controller
stalls, and with a write during an inference for the protocol checker to flag. Each
design is built with ``--coverage-line --coverage-toggle``; the coverage files of every run are merged (a point
counts as covered when any run reached it in any instance).

Line coverage is over Verilator's line and branch points (each statement block and each branch of an if/case,
per source position); toggle coverage over every signal bit's 0->1 and 1->0 transitions. The behavioural models of
the analog crossbar and the feature buffers are counted too, and listed per module.

    python benchmarks/rtl_coverage.py [--designs dense,conv] [--out coverage-dir]

Prints JSON: line_coverage, toggle_coverage, per module, the least-covered modules, the uncovered line points.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from _common import cpu_name  # noqa: E402


def read_points(path: Path) -> dict[tuple, int]:
    """A Verilator coverage file -> {(file, line, column, type, comment): count}, instances merged (summed)."""
    points: dict[tuple, int] = defaultdict(int)
    for ln in path.read_text(errors="replace").splitlines():
        if not ln.startswith("C '"):
            continue
        body, count = ln[3:].rsplit("' ", 1)
        kv = dict(f.split("\x02", 1) for f in body.split("\x01") if "\x02" in f)
        key = (Path(kv.get("f", "?")).name, int(kv.get("l", 0)), int(kv.get("n", 0)), kv.get("t", "?"),
               kv.get("o", ""))
        points[key] += int(count)
    return points


def summarize(points: dict[tuple, int], least: int = 5) -> dict:
    per: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"line": [0, 0], "toggle": [0, 0]})
    uncovered: list[str] = []
    for (f, line, _col, typ, comment), count in sorted(points.items()):
        kind = "toggle" if typ == "toggle" else "line"
        per[f][kind][1] += 1
        per[f][kind][0] += count > 0
        if kind == "line" and count == 0:
            uncovered.append(f"{f}:{line} {typ} {comment}".strip())

    def frac(kind: str, files=None) -> float:
        hit = sum(v[kind][0] for k, v in per.items() if files is None or k in files)
        tot = sum(v[kind][1] for k, v in per.items() if files is None or k in files)
        return hit / tot if tot else 1.0

    modules = {f: {"line_coverage": v["line"][0] / v["line"][1] if v["line"][1] else None,
                   "line_points": v["line"][1],
                   "toggle_coverage": v["toggle"][0] / v["toggle"][1] if v["toggle"][1] else None,
                   "toggle_points": v["toggle"][1]} for f, v in sorted(per.items())}
    ranked = sorted((f for f in modules if modules[f]["line_coverage"] is not None),
                    key=lambda f: modules[f]["line_coverage"])
    return {"line_coverage": frac("line"), "toggle_coverage": frac("toggle"),
            "line_points": sum(v["line"][1] for v in per.values()),
            "toggle_points": sum(v["toggle"][1] for v in per.values()),
            "least_covered_modules": [{"module": f, **modules[f]} for f in ranked[:least]],
            "modules": modules, "uncovered_line_points": uncovered}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--designs", default="", help="comma-separated harness designs (default: all)")
    ap.add_argument("--out", type=Path, default=None, help="keep the coverage files here (default: a temp folder)")
    args = ap.parse_args()

    from reram.rtl import build as rtl_build
    from reram_mutation import caught, harness_designs

    designs = harness_designs()
    names = [d for d in args.designs.split(",") if d] or list(designs)
    out = args.out or Path(tempfile.mkdtemp(prefix="reram-cov-"))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reram-cov-cache-") as cache:
        saved = rtl_build.cache_root
        rtl_build.cache_root = lambda: Path(cache)  # type: ignore[assignment]
        try:
            failed = {}
            for name in names:
                cm, chip, x, cfg = designs[name]
                (out / name).mkdir(parents=True, exist_ok=True)
                why = caught(cm, chip, x, cfg.rtl, coverage_dir=out / name)
                if why:
                    failed[name] = why
                print(f"{name}: {'passed' if not why else 'FAILED ' + why}", file=sys.stderr)
        finally:
            rtl_build.cache_root = saved
    points: dict[tuple, int] = defaultdict(int)
    for f in sorted(out.glob("*/*.dat")):
        for k, v in read_points(f).items():
            points[k] += v
    res = summarize(points)
    res = {"line_coverage": res.pop("line_coverage"), "toggle_coverage": res.pop("toggle_coverage"),
           "target_line_coverage": 0.95, "designs": names, "suite_failures": failed,
           "coverage_files": str(out), "seconds": time.perf_counter() - t0, "cpu": cpu_name(), **res}
    print(json.dumps(res, indent=1))
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
