"""Wall time, CPU time and peak memory of a whole ``reram run``, with the time of each stage from the run's own
``timing`` section. Runs the CLI in a child process (the default run unless ``--set``/``--stages`` say otherwise) and
reads the peak resident set size of the largest process from ``resource.getrusage(RUSAGE_CHILDREN)`` and samples that
of the run and its worker processes together from /proc. Prints JSON.

    python benchmarks/run_speed.py --runs-dir /tmp/bench-runs [--set model.arch=lenet5] [--stages ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs-dir", default="bench-runs")
    ap.add_argument("--name", default=f"speed-{int(time.time())}")
    ap.add_argument("--set", action="append", default=[], dest="sets")
    ap.add_argument("--stages", default=None)
    args = ap.parse_args()
    cmd = [sys.executable, "-m", "reram", "run", "--quiet", "--runs-dir", args.runs_dir, "--name", args.name]
    for s in args.sets:
        cmd += ["--set", s]
    if args.stages:
        cmd += ["--stages", args.stages]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, text=True, env=os.environ.copy())
        tree_peak = 0.0
        while proc.poll() is None:  # the run and its worker processes together, sampled
            tree_peak = max(tree_peak, tree_rss_mb(proc.pid))
            time.sleep(0.1)
        err.seek(0)
        stderr = err.read()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        print(stderr, file=sys.stderr)
        raise SystemExit(proc.returncode)
    metrics = json.loads((Path(args.runs_dir) / args.name / "metrics.json").read_text())
    timing = metrics.get("timing", {})
    print(json.dumps({
        "command": " ".join(cmd[2:]),
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "peak_rss_mb": after.ru_maxrss / 1024,  # the largest process (Linux: kilobytes)
        "peak_tree_rss_mb": round(tree_peak, 1),  # the run and its workers together (sampled every 0.1 s)
        "stages_s": {k.removeprefix("stage_").removesuffix("_seconds"): round(v, 2) for k, v in timing.items()
                     if k.startswith("stage_")},
        "cpus": os.cpu_count(),
        "targets": {"wall_s": 45, "peak_rss_mb": 600},
    }, indent=2))


if __name__ == "__main__":
    main()
