"""What the command line's allocator settings (reram.memory.tune_allocator: large buffers reused rather than mapped
and zeroed afresh) are worth: a ResNet-8's compile and its evaluation on one chip (per-chip re-calibration on the
calibration images, the calibration-split check, the test images), each repetition a fresh process with the default
glibc allocator and one with the tuned settings, interleaved; prints wall, user and system seconds per side and the
median of the per-repetition wall ratios as JSON.

    python benchmarks/allocator.py [--reps 3] [--samples 1000]

Uses MNIST from $RERAM_DATA_DIR (or ../shared/data/mnist; random images without it) and a briefly initialised
ResNet-8: the timing, not the accuracy, is the figure.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_name

CHILD = """
import sys
import numpy as np
import torch
from reram.memory import tune_allocator
if sys.argv[1] == "tuned":
    assert tune_allocator()
torch.set_num_threads(2)
sys.path.insert(0, sys.argv[3])
from _common import workload
from reram.config import load_config
from reram.config.presets import resolve_device
from reram.models import build_model, spec_from_config
from reram.pipeline.evaluate import evaluate_chips
from reram.pipeline.flows import FLOW_SPECS, compile_flow

n = int(sys.argv[2])
_, x, calib, _ = workload(n)
cfg = load_config(None, ['model.arch="resnet8"'])
torch.manual_seed(0)
model = build_model(spec_from_config(cfg.model, (1, 28, 28), 10)).train()
with torch.no_grad():  # running statistics of real inputs for BatchNorm
    model(torch.from_numpy(calib[:256]))
model.eval()
dev = resolve_device(cfg)
cm = compile_flow(model, cfg, dev, FLOW_SPECS["default"], calib, progress=False)
labels = np.zeros(len(x), np.int64)
evaluate_chips(cm, dev, x, labels, [1], calib, bias_recal=True, progress=False, calib_y=np.zeros(len(calib), np.int64))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--samples", type=int, default=1000)
    args = ap.parse_args()
    here = str(Path(__file__).resolve().parent)
    rows: dict[str, list[dict]] = {"default": [], "tuned": []}
    for _ in range(args.reps):
        for mode in ("default", "tuned"):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", CHILD, mode, str(args.samples), here], check=True)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall = time.perf_counter() - t0
            rows[mode].append({"wall_s": round(wall, 2), "user_s": round(r1.ru_utime - r0.ru_utime, 2),
                               "sys_s": round(r1.ru_stime - r0.ru_stime, 2)})
    ratios = [d["wall_s"] / t["wall_s"] for d, t in zip(rows["default"], rows["tuned"], strict=True)]
    print(json.dumps({"cpu": cpu_name(), "threads": 2, "samples": args.samples, "reps": args.reps, "runs": rows,
                      "wall_ratio_default_over_tuned_median": round(statistics.median(ratios), 3)}, indent=1))


if __name__ == "__main__":
    main()
