"""A 24-point sweep (ADC bits x programming sigma x array size) with 3 chips per point on full MNIST, sharing one
trained model. Target (issue 9): within 10 minutes on 2 cores. Prints JSON with the knee of the accuracy-energy
front.

    python benchmarks/sweep_speed.py [--folder runs/sweep-bench]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from reram.config import load_config
from reram.dse import run_sweep

GRID = ["adc.bits=4,6,8,10", "device.program_sigma=0.02,0.05", "array.rows=64,128,256"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", type=Path, default=Path("runs/sweep-bench"))
    args = ap.parse_args()
    if args.folder.exists():
        shutil.rmtree(args.folder)
    cfg = load_config(None, ["device.sigma_model=constant"])
    t0 = time.perf_counter()
    run_sweep(cfg, GRID, args.folder, chips=3, progress=False)
    wall = time.perf_counter() - t0
    summary = json.loads((args.folder / "pareto.json").read_text())
    front = sorted((p for p in summary["points"] if p["point"] in summary["pareto_energy"]),
                   key=lambda p: p["energy_per_inference_j"])
    # knee: the front point with the largest accuracy gain per unit of log-energy before the gain flattens
    best = max(front, key=lambda p: p["test_accuracy_mean"])
    knee = next(p for p in front if p["test_accuracy_mean"] >= best["test_accuracy_mean"] - 0.001)
    print(json.dumps({"points": len(summary["points"]), "chips_per_point": 3, "wall_s": wall, "target_s": 600,
                      "meets_target": wall <= 600, "pareto_energy_front": front, "knee_within_0.1pp_of_best": knee},
                     indent=2))


if __name__ == "__main__":
    main()
