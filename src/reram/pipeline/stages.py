"""The stages of ``reram run``: an explicit, ordered list. Each reads earlier stages' outputs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from reram.fsutil import atomic_write_json

from .context import RunContext

log = logging.getLogger("reram")


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[RunContext], None]
    needs: tuple[str, ...] = ()  # files in the run folder that must exist if the producing stage is skipped
    produces: tuple[str, ...] = ()
    help: str = ""


def stage_data(ctx: RunContext) -> None:
    ds = ctx.dataset
    sp = ctx.splits
    meta = ctx.metrics["meta"]
    meta["dataset"] = ds.describe()
    meta["splits"] = {"train": len(sp.train_y), "calibration": len(sp.calib_y), "test": len(sp.test_y)}
    if ds.fallback:
        for note in ds.notes:
            log.warning(note)


def stage_train(ctx: RunContext) -> None:
    from reram.models import save_weights, train_mlp

    sp = ctx.splits
    cfg = ctx.cfg
    res = train_mlp(sp.train_x, sp.train_y, sp.test_x, sp.test_y, cfg.model, cfg.train, cfg.run.seed,
                    progress=ctx.progress)
    save_weights(res.model, ctx.path("model.safetensors"), cfg.model.hidden, cfg.model.batchnorm)
    atomic_write_json(ctx.path("train_history.json"), res.history)
    ctx.cache["model"] = res.model
    n_params = sum(p.numel() for p in res.model.parameters())
    ctx.metrics["software"] = {
        "test_accuracy": res.test_accuracy,
        "test_samples": len(sp.test_y),
        "train_samples": len(sp.train_y),
        "epochs": cfg.train.epochs,
        "parameters": n_params,
        "architecture": [784, *cfg.model.hidden, 10],
        "history": res.history,
    }
    ctx.metrics["timing"]["train_seconds"] = res.train_seconds
    log.info("software test accuracy %.4f after %.1f s of training", res.test_accuracy, res.train_seconds)


STAGES: list[Stage] = [
    Stage("data", stage_data, help="load and split the dataset"),
    Stage("train", stage_train, produces=("model.safetensors",), help="train the MLP on the CPU"),
]


def stage_names() -> list[str]:
    return [s.name for s in STAGES]
