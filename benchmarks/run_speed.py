"""Wall time, CPU time and peak memory of a whole ``reram run``, with the time of each stage from the run's own
``timing`` section. Runs the CLI in a child process (the default run unless ``--set``/``--stages`` say otherwise) and
reads the child's peak resident set size from ``resource.getrusage(RUSAGE_CHILDREN)``. Prints JSON.

    python benchmarks/run_speed.py --runs-dir /tmp/bench-runs [--set model.arch=lenet5] [--stages ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


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
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit(proc.returncode)
    metrics = json.loads((Path(args.runs_dir) / args.name / "metrics.json").read_text())
    timing = metrics.get("timing", {})
    print(json.dumps({
        "command": " ".join(cmd[2:]),
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "peak_rss_mb": after.ru_maxrss / 1024,  # Linux: kilobytes
        "stages_s": {k.removeprefix("stage_").removesuffix("_seconds"): round(v, 2) for k, v in timing.items()
                     if k.startswith("stage_")},
        "cpus": os.cpu_count(),
        "targets": {"wall_s": 45, "peak_rss_mb": 600},
    }, indent=2))


if __name__ == "__main__":
    main()
