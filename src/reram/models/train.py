"""Seeded, deterministic CPU training with a progress bar."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from reram.config.schema import ModelConfig, TrainConfig

from .hwa import HwaNoise, hardware_aware
from .mlp import predict
from .nets import build_model, is_graph, spec_from_config


@dataclass
class TrainResult:
    model: nn.Module
    spec: dict
    test_accuracy: float
    train_seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` torch CPU threads (0: every core this process may use), then restore it."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads if threads > 0 else available_cores())
    try:
        yield
    finally:
        torch.set_num_threads(before)


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def host_tensor(a: np.ndarray) -> torch.Tensor:
    """A tensor sharing ``a``'s memory (a copy only when ``a`` is read-only or not contiguous)."""
    a = np.ascontiguousarray(a)
    return torch.from_numpy(a if a.flags.writeable else a.copy())


def fused_adam() -> dict[str, bool]:
    """Keyword arguments selecting torch's fused Adam/AdamW kernel where this torch has it on the CPU (2.4 and
    later): one kernel for every parameter's update instead of about ten ops per tensor (15 % of a training step of
    the default MLP). Its updates round differently from the per-tensor loop, so weights differ in the last bits
    between torch versions either side of 2.4 (as between BLAS builds); runs are reproducible on one installation."""
    major, minor = (int(v) for v in torch.__version__.split(".")[:2])
    return {"fused": True} if (major, minor) >= (2, 4) else {}


def make_optimizer(model: nn.Module, train_cfg: TrainConfig) -> torch.optim.Optimizer:
    """``train.optimizer``: AdamW (fused where torch has it), or SGD with Nesterov momentum (0.9 here; the one-cycle
    schedule then cycles it between 0.95 and 0.85, as it does AdamW's beta1); weight decay on every parameter either
    way."""
    if train_cfg.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=train_cfg.lr, momentum=0.9, nesterov=True,
                               weight_decay=train_cfg.weight_decay)
    return torch.optim.AdamW(model.parameters(), lr=train_cfg.lr, weight_decay=train_cfg.weight_decay,
                             **fused_adam())


def accuracy(logits: torch.Tensor, labels: torch.Tensor | np.ndarray) -> float:
    y = torch.as_tensor(labels)
    return float((logits.argmax(1) == y).float().mean())


def augments(spec: dict, train_cfg: TrainConfig) -> str:
    """How training augments image batches (``train.augment``): 'on' (crops and flips), 'flip' or 'off'; 'auto' is
    'on' for colour images, 'flip' for the residual networks on one-channel images, 'off' otherwise."""
    if train_cfg.augment != "auto":
        return train_cfg.augment
    in_shape = spec["in_shape"]
    if len(in_shape) != 3:
        return "off"
    if in_shape[0] > 1:
        return "on"
    return "flip" if str(spec.get("arch", "")).startswith("resnet") else "off"


def augment_batch(xb: torch.Tensor, in_shape: list[int], gen: torch.Generator, crop: bool = True) -> torch.Tensor:
    """Random crop of the zero-padded images (padding 1/8 of the side; none with ``crop`` false) and a horizontal
    flip of half of them, on a flat batch (B, C * H * W); the same draws for the same generator state."""
    C, H, W = in_shape
    B = xb.shape[0]
    p = max(1, H // 8) if crop else 0
    maps = torch.nn.functional.pad(xb.reshape(B, C, H, W), (p, p, p, p))
    oy = torch.randint(0, 2 * p + 1, (B,), generator=gen)
    ox = torch.randint(0, 2 * p + 1, (B,), generator=gen)
    flip = torch.rand(B, generator=gen) < 0.5
    cols = torch.arange(W)
    cols = torch.where(flip[:, None], W - 1 - cols, cols) + ox[:, None]  # (B, W)
    rows = oy[:, None] + torch.arange(H)  # (B, H)
    b = torch.arange(B)[:, None, None]
    out = maps.permute(0, 2, 3, 1)[b, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2).reshape(B, -1)


def train_model(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
                model_cfg: ModelConfig, train_cfg: TrainConfig, seed: int, progress: bool = True,
                spec: dict | None = None, hwa: HwaNoise | None = None) -> TrainResult:
    """Train the configured network (``spec``; default: ``model_cfg`` on square one-channel images, 10 classes)
    on pixel codes (uint8, flattened); inputs are scaled to [0, 1]. ``hwa``: the crossbar noise to train through
    (hardware-aware training, :mod:`reram.models.hwa`)."""
    if spec is None:
        side = math.isqrt(np.asarray(train_x).shape[1])
        spec = spec_from_config(model_cfg, (1, side, side), 10)
    with torch_threads(train_cfg.threads):
        return _train(train_x, train_y, test_x, test_y, spec, train_cfg, seed, progress, hwa)


train_mlp = train_model  # the name of reram 0.1


def _train(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
           spec: dict, train_cfg: TrainConfig, seed: int, progress: bool, hwa: HwaNoise | None = None) -> TrainResult:
    from rich.progress import TextColumn

    from reram.progress import progress_bar

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x = host_tensor(train_x)  # uint8 pixels: each batch is scaled when it is drawn (no float copy of the split)
    y = torch.tensor(np.asarray(train_y), dtype=torch.int64)
    tx = host_tensor(test_x)  # uint8 too: predict() scales it batch by batch
    model = build_model(spec)
    channels_last = is_graph(spec["layers"])  # layer graphs (residual networks): see below
    if channels_last:  # NHWC convolutions: a ResNet-8 training step 1.35x faster on 2 AVX2 cores
        model = model.to(memory_format=torch.channels_last)  # (benchmarks/train_memory_format.py); chains keep the
        # format of earlier releases (bit-identical weights)
    opt = make_optimizer(model, train_cfg)
    steps_per_epoch = (len(x) + train_cfg.batch_size - 1) // train_cfg.batch_size
    total = steps_per_epoch * train_cfg.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=train_cfg.lr, total_steps=total)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=train_cfg.label_smoothing)
    history: list[dict[str, float]] = []
    t0 = time.perf_counter()
    label = "train (epochs, hardware-aware)" if hwa else "train (epochs)"
    augment = augments(spec, train_cfg)
    aug_gen = torch.Generator().manual_seed(seed + 7)
    with progress_bar(label, progress, TextColumn("{task.fields[info]}")) as bar, \
            (hardware_aware(model, hwa) if hwa else nullcontext()):
        task = bar.add_task("train", total=train_cfg.epochs, info="")
        for epoch in range(train_cfg.epochs):
            model.train()
            perm = torch.randperm(len(x), generator=gen)
            tot_loss, correct = 0.0, 0
            for i in range(0, len(x), train_cfg.batch_size):
                idx = perm[i : i + train_cfg.batch_size]
                if len(idx) < 2:  # BatchNorm needs two samples
                    continue
                xb, yb = x[idx].to(torch.float32).div_(255.0), y[idx]
                if augment != "off":
                    xb = augment_batch(xb, spec["in_shape"], aug_gen, crop=augment == "on")
                out = model(xb)
                loss = loss_fn(out, yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                tot_loss += loss.item() * len(idx)
                correct += int((out.argmax(1) == yb).sum())
            test_acc = accuracy(predict(model, tx), test_y)
            rec = {"epoch": epoch + 1, "loss": tot_loss / len(x), "train_accuracy": correct / len(x),
                   "test_accuracy": test_acc}
            history.append(rec)
            bar.update(task, advance=1,
                       info=f"loss {rec['loss']:.4f}  train {rec['train_accuracy']:.4f}  test {test_acc:.4f}")
    if channels_last:  # contiguous again for saving and compiling
        model = model.to(memory_format=torch.contiguous_format)
    model.eval()
    return TrainResult(model=model, spec=spec, test_accuracy=history[-1]["test_accuracy"],
                       train_seconds=time.perf_counter() - t0, history=history)
