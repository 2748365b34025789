"""Helpers shared by the benchmarks: a model and inputs for the standard workload."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch


def workload(n: int = 10000, seed: int = 0):
    """The 784-256-128-10 MLP (trained briefly on MNIST if the data is there, else random) and n inputs."""
    from reram.data import load_dataset
    from reram.models import build_mlp

    torch.manual_seed(seed)
    model = build_mlp(784, [256, 128], 10, True).eval()
    data_dir = os.environ.get("RERAM_DATA_DIR") or str(Path(__file__).resolve().parents[2] / "shared/data/mnist")
    try:
        ds = load_dataset("mnist", data_dir, download=False, progress=False)
        x = ds.test_images.reshape(-1, 784)[:n]
        calib = ds.train_images.reshape(-1, 784)[:1000].astype(np.float32) / 255
        source = "mnist"
    except Exception:
        rng = np.random.default_rng(seed)
        x = rng.integers(0, 256, (n, 784), dtype=np.uint8)
        calib = rng.random((1000, 784), dtype=np.float32)
        source = "random"
    return model, x, calib, source


def cpu_name() -> str:
    """The CPU model and its widest vector unit (speed figures depend on it)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    model = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), "unknown")
    flags = next((ln.split(":", 1)[1].split() for ln in info.splitlines() if ln.startswith("flags")), [])
    isa = "AVX-512" if "avx512f" in flags else ("AVX2" if "avx2" in flags else "no AVX2")
    return f"{model} ({isa})"
