"""Accuracy against programming sigma (0, 2, 5, 10 %), ADC bits (4, 6, 8, 10) and cell bits (2, 4, 6),
mean and std over chips, on the full test set. Reads a run folder's trained model; prints JSON and writes it to
RUN_DIR/sensitivity.json (the report reads it).

    python benchmarks/accuracy_sweep.py runs/NAME [--chips 5]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from reram.config import load_config
from reram.fsutil import atomic_write_json
from reram.pipeline.context import RunContext
from reram.pipeline.sensitivity import accuracy_sensitivity


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--chips", type=int, default=5)
    args = ap.parse_args()
    cfg = load_config(args.run_dir / "config.toml")
    ctx = RunContext(cfg=cfg, run_dir=args.run_dir, progress=False)
    t0 = time.perf_counter()
    res = accuracy_sensitivity(ctx.model, cfg, ctx.splits, args.chips, progress=False)
    atomic_write_json(args.run_dir / "sensitivity.json", res)
    print(json.dumps({"seconds": time.perf_counter() - t0, "chips": args.chips, "sweeps": res}, indent=2))


if __name__ == "__main__":
    main()
