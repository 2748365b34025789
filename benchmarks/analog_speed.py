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

With read noise on (CPU), a third side times the engine's normal draws alone in the same window: as many standard
normal draws as the forward makes ADC conversions (one each, ``normal_draws_per_forward``), from torch's CPU
generator into one reused 16 MB buffer (``draws_over_float``): a lower bound of any engine that draws the noise of each
conversion with that generator. ``--breakdown`` adds one profiled engine forward per case, its self CPU seconds in
the convolutions and matrix products, the draws and the rest (``engine_self_cpu_s``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from functools import partial
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


def paired(f_float, f_analog, repeats: int, calls: int, f_draws=None) -> dict:
    """Interleaved timing of ``calls`` forwards per side and repetition; medians of per-repetition ratios.
    ``f_draws``: a third side timed in the same window (the engine's random draws alone), reported against the
    float forward too."""
    sides = {"float": f_float, "analog": f_analog} | ({"draws": f_draws} if f_draws is not None else {})
    for f in sides.values():  # warm-up
        f()
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in sides}
    for r in range(repeats):
        order = list(sides) if r % 2 == 0 else list(reversed(sides))
        for side in order:
            times[side].append(_time(sides[side], calls))
    wall = [a[0] / f[0] for a, f in zip(times["analog"], times["float"], strict=True)]
    cpu = [a[1] / max(f[1], 1e-9) for a, f in zip(times["analog"], times["float"], strict=True)]
    res = {"float_wall_s": statistics.median(t[0] for t in times["float"]),
           "analog_wall_s": statistics.median(t[0] for t in times["analog"]),
           "analog_over_float": statistics.median(wall), "analog_over_float_range": [min(wall), max(wall)],
           "analog_over_float_cpu": statistics.median(cpu), "analog_over_float_cpu_range": [min(cpu), max(cpu)],
           "repeats": repeats, "calls_per_repeat": calls}
    if f_draws is not None:
        res["draws_wall_s"] = statistics.median(t[0] for t in times["draws"])
        res["draws_over_float"] = statistics.median(
            d[0] / f[0] for d, f in zip(times["draws"], times["float"], strict=True))
    return res


DRAW_PIECE = 2**22  # draws per call of the draws-alone side: one buffer (16 MB) refilled, as large as the
# engine's own temporaries, not one buffer of the whole count (hundreds of MB that would change the heap both
# sides allocate from)


def normal_draws(n: int, buf: torch.Tensor, gen: torch.Generator) -> None:
    """``n`` standard normal draws from ``gen`` into ``buf``, refilled piece by piece."""
    for i in range(0, n, buf.numel()):
        buf[: min(buf.numel(), n - i)].normal_(generator=gen)


def conversions_per_forward(analog, x) -> int:
    """ADC conversions of one forward of ``x``: with output-referred read noise, one normal draw each."""
    analog.collect_stats(True)
    analog(x)
    n = sum(layer.stats.conversions for layer in analog.layers)
    analog.collect_stats(False)
    return n


def breakdown(analog, x) -> dict[str, float]:
    """Self CPU seconds of one engine forward by kind of operator (torch profiler): the convolutions and matrix
    products (signal and read-noise variance), the normal draws, and the rest (elementwise: noise, ADC, tile sums,
    activation unit)."""
    from torch.profiler import profile

    with profile() as prof:
        analog(x)
    out = {"convolutions_and_matmuls_s": 0.0, "normal_draws_s": 0.0, "other_s": 0.0}
    for ev in prof.key_averages():
        s = ev.self_cpu_time_total / 1e6
        if ev.key in ("aten::mkldnn_convolution", "aten::bmm", "aten::mm", "aten::addmm", "aten::_convolution",
                      "aten::thnn_conv2d", "aten::_slow_conv2d_forward"):
            out["convolutions_and_matmuls_s"] += s
        elif ev.key == "aten::normal_":
            out["normal_draws_s"] += s
        else:
            out["other_s"] += s
    return {k: round(v, 4) for k, v in out.items()}


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
    ap.add_argument("--breakdown", action="store_true",
                    help="profile one engine forward per case: seconds in convolutions, normal draws and the rest")
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
                draws = None
                if dev.read_noise > 0 and device.type == "cpu":  # the engine's normal draws alone, same generator
                    n_draws = conversions_per_forward(analog, xs)
                    draws = partial(normal_draws, n_draws, torch.empty(min(n_draws, DRAW_PIECE)),
                                    torch.Generator().manual_seed(1))
                res = paired(lambda m=model: run(m), lambda a=analog: run(a), args.repeats, calls, draws)
                if draws is not None:
                    res["normal_draws_per_forward"] = n_draws
                    if args.breakdown:
                        res["engine_self_cpu_s"] = breakdown(analog, xs)
            results["cases"][f"{name} batch {batch}"] = res
            draw_note = f", the normal draws alone {res['draws_over_float']:.2f}x" if "draws_over_float" in res else ""
            print(f"{name} batch {batch}: analog/float wall {res['analog_over_float']:.2f}x, cpu "
                  f"{res['analog_over_float_cpu']:.2f}x{draw_note}", file=sys.stderr)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
