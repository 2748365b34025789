"""RTL figures of the spatial accelerator, printed as JSON: latency and initiation interval (cycles and us at the
configured clock, co-simulated and analytic), co-simulation speed with a cached build, build time, per-layer
match, for the default MLP, LeNet-5, ResNet-8 and ResNet-20 (``--cases``).

Targets (spatial-RTL issue): the MLP's latency and interval far below the single-array design's 702 cycles;
LeNet-5 on 1,000 MNIST test samples: match rate 1.0 over every layer's codes, RTL accuracy = golden accuracy,
co-simulation <= 30 s with a cached build, build <= 60 s on 2 cores.

    python benchmarks/rtl_speed.py [--mlp runs/MLP] [--lenet runs/LENET] [--resnet8 runs/R8] [--resnet20 runs/R20]
                                   [--cases mlp,lenet5,resnet8,resnet20] [--samples 1000] [--fresh-build]
                                   [--workers N]

A run folder gives its trained, compiled model and chip 0 (``reram run --set model.arch=lenet5`` for LeNet);
without one a case compiles a briefly initialised model (its accuracy is then meaningless, its timing is not).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_name, workload
from reram.chip.program import load_chip, program_chip
from reram.config import load_config
from reram.config.presets import resolve_device
from reram.golden import pixel_codes
from reram.ir import CompiledModel
from reram.pipeline.flows import FLOW_SPECS, compile_flow
from reram.rtl import build as rtl_build
from reram.rtl.cosim import run_cosim
from reram.rtl.params import rtl_params


def _case(name: str, run_dir: Path | None, samples: int, fresh: bool, tmp: Path, workers: int) -> dict:
    model, x_pix, calib, source = workload(samples)
    y = None
    if run_dir:
        cfg = load_config(run_dir / "config.toml")
        cm = CompiledModel.load(run_dir / "compiled")
        chip = load_chip(run_dir / "chip0.npz", cm)
        source = f"run {run_dir}"
        from reram.data import load_dataset

        ds = load_dataset(cfg.data.dataset, cfg.data.dir, cfg.data.download, progress=False)
        x_pix, y = ds.test_images[:samples], ds.test_labels[:samples]
    else:
        sets = ["calibration.finetune_iters=0"] + ([f'model.arch="{name}"'] if name != "mlp" else [])
        cfg = load_config(None, sets)
        if name != "mlp":
            import torch

            from reram.models import build_model, spec_from_config

            torch.manual_seed(0)
            model = build_model(spec_from_config(cfg.model, (1, 28, 28), 10)).eval()
        dev = resolve_device(cfg)
        cm = compile_flow(model, cfg, dev, FLOW_SPECS["ideal"], calib, progress=False)
        chip = program_chip(cm, dev, seed=0)
    cfg.rtl.sim_workers = workers
    m = rtl_params(cm, cfg.rtl)
    if fresh:
        rtl_build.cache_root = lambda: tmp / name  # a cold cache: time the build
    t0 = time.perf_counter()
    _, manifest = rtl_build.build_library(m, progress=False)
    build_call = time.perf_counter() - t0
    x = pixel_codes(cm, x_pix[:samples])
    labels = np.zeros(len(x), np.int64) if y is None else np.asarray(y)
    t0 = time.perf_counter()
    res = run_cosim(cm, chip, x, labels, cfg.rtl, progress=False)
    wall = time.perf_counter() - t0
    hz = cfg.rtl.clock_hz
    return {
        "model": source, "samples": len(x), "arrays": m.total_arrays, "adc_lanes": m.total_adcs,
        "latency_cycles": res.latency_cycles, "analytic_latency_cycles": res.analytic_latency_cycles,
        "latency_us": 1e6 * res.latency_cycles / hz, "ii_cycles": res.ii_cycles,
        "analytic_ii_cycles": res.analytic_ii_cycles, "ii_us": 1e6 * res.ii_cycles / hz,
        "inferences_per_s": hz / res.ii_cycles, "clock_hz": hz, "cycles_match_analytic": res.cycles_match,
        "stage_cycles": m.stage_cycles,
        "compared_codes": res.compared_codes, "codes_per_layer": res.codes_per_layer,
        "match_rate": res.matched_codes / res.compared_codes, "mismatched_predictions": res.mismatched_predictions,
        "rtl_accuracy": res.hw_accuracy if y is not None else None,
        "golden_accuracy": res.golden_accuracy if y is not None else None,
        "cosim_wall_s": wall, "of_which_rtl_simulation_s": res.sim_seconds,
        "simulators": res.simulators, "cpu": cpu_name(),
        "build_s": manifest.get("build_seconds"), "build_was_cached": manifest.get("cached"),
        "build_call_s": build_call, "generated_cpp_bytes": manifest.get("generated_cpp_bytes"),
    }


def main() -> None:
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("--mlp", type=Path, help="run folder of the default MLP")
    ap.add_argument("--lenet", type=Path, help="run folder of LeNet-5 (reram run --set model.arch=lenet5)")
    ap.add_argument("--resnet8", type=Path, help="run folder of ResNet-8 (reram run --set model.arch=resnet8)")
    ap.add_argument("--resnet20", type=Path, help="run folder of ResNet-20 (reram run --set model.arch=resnet20)")
    ap.add_argument("--cases", default="mlp,lenet5", help="which of mlp, lenet5, resnet8, resnet20")
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--fresh-build", action="store_true", help="build into an empty cache to time the build")
    ap.add_argument("--workers", type=int, default=0,
                    help="simulators side by side (rtl.sim_workers; 0: one per available core)")
    args = ap.parse_args()
    out = {"single_array_design_cycles_per_inference": 702}
    runs = {"mlp": args.mlp, "lenet5": args.lenet, "resnet8": args.resnet8, "resnet20": args.resnet20}
    cases = args.cases.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        for name in cases:
            out[name] = _case(name, runs[name], args.samples, args.fresh_build, Path(tmp), args.workers)
            print(f"{name}: co-simulation {out[name]['cosim_wall_s']:.1f} s for {out[name]['samples']} samples",
                  file=sys.stderr)
    targets = {}
    if "mlp" in out:
        targets["mlp_latency_and_ii_below_702"] = out["mlp"]["latency_cycles"] < 702 and out["mlp"]["ii_cycles"] < 702
    if "lenet5" in out:
        le = out["lenet5"]
        targets |= {
            "lenet_match_rate_1": le["match_rate"] == 1.0,
            "lenet_rtl_accuracy_equals_golden": le["rtl_accuracy"] == le["golden_accuracy"],
            "lenet_cosim_le_30s": le["cosim_wall_s"] <= 30.0,
            "lenet_build_le_60s": None if le["build_was_cached"] else le["build_s"] <= 60.0,
        }
    for name in ("resnet8", "resnet20"):
        if name in out:
            r = out[name]
            targets[f"{name}_match_rate_1"] = r["match_rate"] == 1.0
            targets[f"{name}_cycles_match_analytic"] = r["cycles_match_analytic"]
    if "resnet8" in out and out["resnet8"]["samples"] >= 1000:
        targets["resnet8_cosim_le_60s"] = out["resnet8"]["cosim_wall_s"] <= 60.0
    out["targets"] = targets
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
