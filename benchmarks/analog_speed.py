"""Analog engine speed against the plain float forward of the same network, measured in one process.

Workload: 784-256-128-10 MLP, 10,000 inputs, programming error, per-inference read noise, 8-bit DAC and
ADC, 16-level cells, 128x128 tiles (the default realistic preset). Prints JSON.
Target (issue 3): analog forward <= 3x the float forward's time.
"""

from __future__ import annotations

import json
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


def timed(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm-up
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu


def main() -> None:
    model, x_codes, calib, source = workload()
    cfg = load_config(None, ["calibration.finetune_iters=0"])
    dev = resolve_device(cfg)
    cm = compile_flow(model, cfg, dev, FLOW_SPECS["ideal"], calib, progress=False)
    analog = AnalogModel(cm, dev, seed=0)
    analog.eval()
    x = torch.tensor(x_codes, dtype=torch.float32) / 255.0
    n = len(x)
    results = {"workload": {"network": "784-256-128-10", "inputs": n, "data": source, "preset": dev.name,
                            "read_noise": dev.read_noise, "read_noise_mode": dev.read_noise_mode,
                            "program_sigma_model": dev.sigma_model, "dac_bits": cfg.dac.bits,
                            "dac_mode": cfg.dac.mode, "adc_bits": cfg.adc.bits, "cell_levels": 2**dev.cell_bits,
                            "array": f"{cfg.array.rows}x{cfg.array.cols}", "ir_drop": dev.ir_drop}, "threads": {}}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with torch.no_grad():
            fw, fc = timed(lambda: model(x), 5)
            aw, ac = timed(lambda: analog(x), 5)
        results["threads"][str(threads)] = {
            "float_wall_s": fw, "analog_wall_s": aw,
            "float_samples_per_cpu_s": n / fc, "analog_samples_per_cpu_s": n / ac,
            "analog_over_float_wall": aw / fw, "analog_over_float_cpu": ac / fc,
            "target_ratio": 3.0, "meets_target": aw / fw <= 3.0,
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
