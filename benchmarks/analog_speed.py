"""Analog engine speed against the plain float forward of the same network, measured in one process.

Workloads: the default 784-256-128-10 MLP and LeNet-5 (conv layers as im2col MVMs), 10,000 inputs (LeNet:
``--lenet-inputs``), programming error, per-inference read noise, 8-bit DAC and ADC, 16-level cells, 128x128
tiles (the default realistic preset). Float and analog forwards are timed in one window, interleaved (the order
alternates every repetition); the figure is the median of the per-repetition ratios, with its range. Prints JSON.
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
from reram.analog import AnalogModel, resolve_device
from reram.compile import FLOW_SPECS, compile_flow
from reram.config import load_config


def paired(f_float, f_analog, repeats: int) -> dict:
    """Interleaved wall-clock timing; the median of per-repetition analog/float ratios."""
    f_float(), f_analog()  # warm-up
    tf, ta, ratios = [], [], []
    for r in range(repeats):
        order = (f_float, f_analog) if r % 2 == 0 else (f_analog, f_float)
        times = {}
        for fn in order:
            t0 = time.perf_counter()
            fn()
            times[fn] = time.perf_counter() - t0
        tf.append(times[f_float])
        ta.append(times[f_analog])
        ratios.append(times[f_analog] / times[f_float])
    return {"float_wall_s_median": statistics.median(tf), "analog_wall_s_median": statistics.median(ta),
            "analog_over_float_median": statistics.median(ratios),
            "analog_over_float_range": [min(ratios), max(ratios)], "repeats": repeats}


def lenet(n: int, seed: int = 0):
    from reram.models import build_model, spec_from_config

    torch.manual_seed(seed)
    model = build_model(spec_from_config(load_config(None, ['model.arch="lenet5"']).model, (1, 28, 28), 10))
    model.train()
    with torch.no_grad():  # running statistics of real-looking inputs for BatchNorm
        model(torch.rand(256, 784))
    return model.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--lenet-inputs", type=int, default=10000)
    args = ap.parse_args()
    mlp, x_codes, calib, source = workload()
    cfg = load_config(None, ["calibration.finetune_iters=0"])
    dev = resolve_device(cfg)
    x = torch.tensor(x_codes, dtype=torch.float32) / 255.0
    results: dict = {"workload": {"inputs": len(x), "data": source, "preset": dev.name,
                                  "read_noise": dev.read_noise, "read_noise_mode": dev.read_noise_mode,
                                  "program_sigma_model": dev.sigma_model, "dac_bits": cfg.dac.bits,
                                  "adc_bits": cfg.adc.bits, "cell_levels": 2**dev.cell_bits,
                                  "array": f"{cfg.array.rows}x{cfg.array.cols}", "ir_drop": dev.ir_drop},
                     "convention": "wall time, float and analog interleaved in one window; median of "
                                   "per-repetition ratios", "cases": {}}
    cases = {"mlp-784-256-128-10": (mlp.eval(), x),
             "lenet5": (lenet(args.lenet_inputs), x[: args.lenet_inputs])}
    for name, (model, xs) in cases.items():
        cm = compile_flow(model, cfg, dev, FLOW_SPECS["ideal"], calib, progress=False)
        analog = AnalogModel(cm, dev, seed=0)
        analog.eval()
        results["cases"][name] = {"inputs": len(xs), "threads": {}}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            with torch.no_grad():
                res = paired(lambda m=model, v=xs: m(v), lambda a=analog, v=xs: a(v), args.repeats)
            results["cases"][name]["threads"][str(threads)] = res
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
