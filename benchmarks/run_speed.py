"""Wall time, CPU time and peak memory of a whole ``reram run``, with the time of each stage from the run's own
``timing`` section. Runs the CLI in a child process (the default run unless ``--set``/``--stages`` say otherwise) and
reads the peak resident set size of the largest process from ``resource.getrusage(RUSAGE_CHILDREN)`` and samples that
of the run and its worker processes together from /proc. Prints JSON.

``--mode both`` (default) times a cold first run, with empty Verilator and Yosys caches (a fresh ``RERAM_RTL_CACHE``
folder, as on a new user's machine), then a warm run with the caches it filled, and says whether the two runs'
metrics are equal (everything but ``timing`` and the run name). ``--mode warm`` times one run with the user's caches.

    python benchmarks/run_speed.py --runs-dir /tmp/bench-runs [--mode both|cold|warm] [--set model.arch=lenet5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_name


def tree_rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` and its descendants, in MB, from /proc (0 where it cannot be read)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


RUSAGE_WRAPPER = """import json, resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(json.dumps({"cpu_s": r.ru_utime + r.ru_stime, "maxrss_kb": r.ru_maxrss}))
sys.exit(rc)
"""


def timed_run(args: argparse.Namespace, name: str, env: dict[str, str]) -> dict:
    """One ``reram run`` in a child process: wall and CPU time, peak memory, stage times, its metrics."""
    cmd = [sys.executable, "-m", "reram", "run", "--quiet", "--runs-dir", args.runs_dir, "--name", name]
    for s in args.sets:
        cmd += ["--set", s]
    if args.stages:
        cmd += ["--stages", args.stages]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err, tempfile.NamedTemporaryFile("r") as usage:
        # a small parent of its own, so that each run's CPU time and peak memory are its own
        proc = subprocess.Popen([sys.executable, "-c", RUSAGE_WRAPPER, usage.name, *cmd], stdout=subprocess.DEVNULL,
                                stderr=err, text=True, env=env)
        tree_peak = 0.0
        while proc.poll() is None:  # the run and its worker processes together, sampled
            tree_peak = max(tree_peak, tree_rss_mb(proc.pid))
            time.sleep(0.1)
        err.seek(0)
        stderr = err.read()
        rusage = json.loads(Path(usage.name).read_text() or "{}")
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(stderr, file=sys.stderr)
        raise SystemExit(proc.returncode)
    metrics = json.loads((Path(args.runs_dir) / name / "metrics.json").read_text())
    timing = metrics.get("timing", {})
    return {
        "command": " ".join(cmd[2:]),
        "wall_s": round(wall, 2),
        "cpu_s": round(rusage["cpu_s"], 2),  # the run, its workers, compilers and Yosys
        "peak_rss_mb": round(rusage["maxrss_kb"] / 1024, 1),  # the largest process of this run
        "peak_tree_rss_mb": round(tree_peak, 1),  # the run and its workers together (sampled every 0.1 s)
        "stages_s": {k.removeprefix("stage_").removesuffix("_seconds"): round(v, 2) for k, v in timing.items()
                     if k.startswith("stage_")},
        "rtl_build_s": timing.get("rtl_build_seconds"),
        "synth_yosys_s": timing.get("synth_yosys_seconds"),
        "stages_skipped": list(metrics["meta"].get("stages_skipped") or {}),
        "_metrics": metrics,
    }


def comparable(metrics: dict) -> dict:
    """A run's metrics without what differs between equal runs: wall times and the run's name."""
    out = {k: v for k, v in metrics.items() if k != "timing"}
    out["meta"] = {k: v for k, v in metrics["meta"].items() if k != "run_name"}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs-dir", default="bench-runs")
    ap.add_argument("--name", default=f"speed-{int(time.time())}")
    ap.add_argument("--mode", choices=("both", "cold", "warm"), default="both")
    ap.add_argument("--set", action="append", default=[], dest="sets")
    ap.add_argument("--stages", default=None)
    args = ap.parse_args()
    env = os.environ.copy()
    out: dict = {"cpus": os.cpu_count(), "cpu": cpu_name(), "targets": {"cold_wall_s": 90, "warm_wall_s": 45,
                                                                        "peak_rss_mb": 600}}
    with tempfile.TemporaryDirectory(prefix="reram-cold-cache-") as cache:
        if args.mode in ("both", "cold"):
            out["cold"] = timed_run(args, f"{args.name}-cold", env | {"RERAM_RTL_CACHE": cache})
        if args.mode == "both":
            out["warm"] = timed_run(args, f"{args.name}-warm", env | {"RERAM_RTL_CACHE": cache})
        elif args.mode == "warm":
            out["warm"] = timed_run(args, f"{args.name}-warm", env)
    if "cold" in out and "warm" in out:
        out["same_metrics"] = comparable(out["cold"]["_metrics"]) == comparable(out["warm"]["_metrics"])
    for k in ("cold", "warm"):
        if k in out:
            out[k].pop("_metrics")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
