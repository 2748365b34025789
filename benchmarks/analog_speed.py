"""Analog engine speed against the plain float forward of the same network, measured in one process.

Workloads: the default 784-256-128-10 MLP, LeNet-5 (conv layers as im2col MVMs) and ResNet-20 (CIFAR-style, 16/32/64
channels, on 28x28 one-channel inputs: residual adds in the activation units, global average pooling), at batches of
1, 256 and 10,000 inputs, with the default realistic preset (state-dependent programming error after program-and-verify,
per-read output-referred read noise, approximate IR drop folded into the conductances, 8-bit DAC and ADC,
16-level cells, 128x128 tiles). Float and analog forwards are timed in one window, interleaved (the order alternates
every repetition), 1 torch thread; each case reports the median of the per-repetition ratios of wall time
(``analog_over_float``) and of process CPU time (``analog_over_float_cpu``), with their ranges.
``--allocator tuned`` runs both sides with glibc's allocator as the command line tunes it
(``reram.memory.tune_allocator``); it speeds the float forward more than the engine (ResNet-20 at batch 256 on 2 AVX2
cores: float 0.31 -> 0.21 s, analog 1.08 s either way). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import workload
from reram.analog import AnalogModel
from reram.config import load_config
from reram.config.presets import resolve_device
from reram.memory import tune_allocator
from reram.pipeline.flows import FLOW_SPECS, compile_flow


def _time(fn, calls: int) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - w0) / calls, (time.process_time() - c0) / calls


def paired(f_float, f_analog, repeats: int, calls: int) -> dict:
    """Interleaved timing of ``calls`` forwards per side and repetition; medians of per-repetition ratios."""
    f_float(), f_analog()  # warm-up
    wall, cpu, tf, ta = [], [], [], []
    for r in range(repeats):
        order = ("float", "analog") if r % 2 == 0 else ("analog", "float")
        t = {}
        for side in order:
            t[side] = _time(f_float if side == "float" else f_analog, calls)
        tf.append(t["float"][0])
        ta.append(t["analog"][0])
        wall.append(t["analog"][0] / t["float"][0])
        cpu.append(t["analog"][1] / max(t["float"][1], 1e-9))
    return {"float_wall_s": statistics.median(tf), "analog_wall_s": statistics.median(ta),
            "analog_over_float": statistics.median(wall), "analog_over_float_range": [min(wall), max(wall)],
            "analog_over_float_cpu": statistics.median(cpu), "analog_over_float_cpu_range": [min(cpu), max(cpu)],
            "repeats": repeats, "calls_per_repeat": calls}


def lenet(seed: int = 0):
    from reram.models import build_model, spec_from_config

    torch.manual_seed(seed)
    model = build_model(spec_from_config(load_config(None, ['model.arch="lenet5"']).model, (1, 28, 28), 10))
    model.train()
    with torch.no_grad():  # running statistics of real-looking inputs for BatchNorm
        model(torch.rand(256, 784))
    return model.eval()


def resnet20(seed: int = 0):
    from reram.models import build_model, spec_from_config

    torch.manual_seed(seed)
    model = build_model(spec_from_config(load_config(None, ['model.arch="resnet20"']).model, (1, 28, 28), 10))
    model.train()
    with torch.no_grad():
        model(torch.rand(256, 784))
    return model.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batches", default="1,256,10000")
    ap.add_argument("--nets", default="mlp,lenet5,resnet20")
    ap.add_argument("--device", default="cpu", help="torch device of both sides (cuda: the card is named)")
    ap.add_argument("--allocator", choices=("tuned", "default"), default="default",
                    help="glibc's allocator as the command line sets it (reram.memory.tune_allocator), or as it comes")
    args = ap.parse_args()
    torch.set_num_threads(1)
    tuned = args.allocator == "tuned" and tune_allocator()
    mlp, x_codes, calib, source = workload()
    cfg = load_config(None, ["calibration.finetune_iters=0"])
    dev = resolve_device(cfg)
    device = torch.device(args.device)
    x = torch.tensor(x_codes, dtype=torch.float32, device=device) / 255.0
    results: dict = {
        "workload": {"data": source, "preset": dev.name, "program_sigma_model": dev.sigma_model,
                     "program_and_verify_cycles": dev.verify_cycles, "read_noise": dev.read_noise,
                     "read_noise_mode": dev.read_noise_mode, "ir_drop": dev.ir_drop, "dac_bits": cfg.dac.bits,
                     "dac_mode": cfg.dac.mode, "adc_bits": cfg.adc.bits, "cell_levels": 2**dev.cell_bits,
                     "array": f"{cfg.array.rows}x{cfg.array.cols}", "dtype": "float32", "threads": 1,
                     "allocator": "tuned" if tuned else "default",
                     "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"},
        "convention": "float and analog interleaved in one window, 1 thread; medians of per-repetition ratios of "
                      "wall and process CPU time", "cases": {}}
    nets = {"mlp": ("mlp-784-256-128-10", mlp.eval), "lenet5": ("lenet5", lenet), "resnet20": ("resnet20", resnet20)}
    for key in args.nets.split(","):
        name, make = nets[key]
        model = make()
        cm = compile_flow(model, cfg, dev, FLOW_SPECS["ideal"], calib, progress=False)
        model = model.to(device)
        analog = AnalogModel(cm, dev, seed=0, device=device)
        analog.eval()
        for batch in (int(b) for b in args.batches.split(",")):
            xs = x[:batch]
            calls = max(1, min(200, 2000 // batch))
            def run(f, v=xs):
                f(v)
                if device.type == "cuda":
                    torch.cuda.synchronize()

            with torch.no_grad():
                res = paired(lambda m=model: run(m), lambda a=analog: run(a), args.repeats, calls)
            results["cases"][f"{name} batch {batch}"] = res
            print(f"{name} batch {batch}: analog/float wall {res['analog_over_float']:.2f}x, cpu "
                  f"{res['analog_over_float_cpu']:.2f}x", file=sys.stderr)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
