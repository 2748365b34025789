"""Training step time of a residual network in NCHW against channels-last memory format (what ``reram.models.train``
uses for layer graphs), timed interleaved in one window. Prints JSON: the median of per-repetition ratios.

    python benchmarks/train_memory_format.py [--arch resnet8] [--batch 128] [--repeats 9] [--threads 0]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from torch import nn

from _common import cpu_name
from reram.models.nets import build_model, resnet_layers
from reram.models.train import available_cores, fused_adam


def _step_seconds(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, steps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="resnet8", choices=["resnet8", "resnet20"])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--steps", type=int, default=5, help="training steps per timed repetition")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: every core)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads or available_cores())
    spec = {"arch": a.arch, "in_shape": [1, 28, 28], "classes": 10,
            "layers": resnet_layers(int(a.arch.removeprefix("resnet")))}
    x, y = torch.rand(a.batch, 784), torch.randint(0, 10, (a.batch,))
    nets = {}
    for fmt in ("nchw", "channels_last"):
        torch.manual_seed(0)
        m = build_model(spec)
        if fmt == "channels_last":
            m = m.to(memory_format=torch.channels_last)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3, **fused_adam())
        _step_seconds(m, opt, x, y, 2)  # warm-up
        nets[fmt] = (m, opt)
    times: dict[str, list[float]] = {"nchw": [], "channels_last": []}
    for _ in range(a.repeats):
        for fmt, (m, opt) in nets.items():
            times[fmt].append(_step_seconds(m, opt, x, y, a.steps))
    ratios = [n / c for n, c in zip(times["nchw"], times["channels_last"], strict=True)]
    print(json.dumps({
        "arch": a.arch, "batch": a.batch, "threads": torch.get_num_threads(), "cpu": cpu_name(),
        "step_ms_median": {k: 1e3 * statistics.median(v) for k, v in times.items()},
        "speedup_channels_last_median_of_ratios": statistics.median(ratios),
        "repeats": a.repeats, "steps_per_repeat": a.steps,
    }, indent=2))


if __name__ == "__main__":
    main()
