"""Co-simulation speed: 1,000 MNIST samples through the default 784-256-128-10 accelerator (Verilator).

Target (issue 5): at most 20 s wall once the build is cached. The build time is reported separately.
Uses a run folder's compiled model and chip 0 if given, else compiles a briefly initialised model.

    python benchmarks/rtl_speed.py [runs/NAME] [--samples 1000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import workload
from reram.analog import resolve_device
from reram.analog.program import load_chip, program_chip
from reram.compile import FLOW_SPECS, CompiledModel, compile_flow
from reram.config import load_config
from reram.golden import pixel_codes
from reram.rtl.build import build_library
from reram.rtl.cosim import run_cosim
from reram.rtl.params import rtl_params


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir", nargs="?", type=Path)
    ap.add_argument("--samples", type=int, default=1000)
    args = ap.parse_args()
    model, x_pix, calib, source = workload(args.samples)
    if args.run_dir:
        cfg = load_config(args.run_dir / "config.toml")
        cm = CompiledModel.load(args.run_dir / "compiled")
        chip = load_chip(args.run_dir / "chip0.npz", cm)
        source = f"run {args.run_dir}"
    else:
        cfg = load_config(None, ["calibration.finetune_iters=0"])
        dev = resolve_device(cfg)
        cm = compile_flow(model, cfg, dev, FLOW_SPECS["ideal"], calib, progress=False)
        chip = program_chip(cm, dev, seed=0)
    t0 = time.perf_counter()
    _, manifest = build_library(rtl_params(cm, cfg.rtl), progress=False)
    build_s = time.perf_counter() - t0
    x = pixel_codes(cm, x_pix[: args.samples])
    t0 = time.perf_counter()
    res = run_cosim(cm, chip, x, np.zeros(len(x), np.int64), cfg.rtl, progress=False)
    wall = time.perf_counter() - t0
    print(json.dumps({
        "samples": len(x), "model": source, "wall_s_cached_build": wall, "target_s": 20.0, "meets_target": wall <= 20,
        "of_which_rtl_simulation_s": res.sim_seconds, "of_which_image_load_s": res.load_seconds,
        "samples_per_s": len(x) / wall,
        "build_call_s": build_s, "build_s": manifest.get("build_seconds") if not manifest.get("cached") else 0.0,
        "build_was_cached": manifest.get("cached"), "first_build_s": manifest.get("build_seconds"),
        "generated_cpp_bytes": manifest.get("generated_cpp_bytes"), "mismatched_codes": res.mismatched_codes,
        "cycles_per_inference": res.cycles_per_inference, "simulated_cycles_per_s":
            res.cycles_per_inference * len(x) / res.sim_seconds,
    }, indent=2))


if __name__ == "__main__":
    main()
