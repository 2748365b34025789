"""Weights are stored as safetensors (no pickle), with the architecture in the metadata."""

from __future__ import annotations

import json
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from reram.errors import RunError
from reram.fsutil import atomic_write_bytes

from .mlp import build_mlp


def save_weights(model: nn.Module, path: Path, hidden: list[int], batchnorm: bool) -> None:
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    meta = {"arch": json.dumps({"hidden": list(hidden), "batchnorm": batchnorm})}
    atomic_write_bytes(path, st_save(state, metadata=meta))


def load_weights(path: Path) -> nn.Sequential:
    try:
        data = Path(path).read_bytes()
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
        arch = json.loads(meta["arch"])
        model = build_mlp(784, arch["hidden"], 10, arch["batchnorm"])
        model.load_state_dict(st_load(data))
    except (OSError, KeyError, ValueError, RuntimeError, SafetensorError) as e:
        raise RunError(f"{path}: cannot load model weights ({e}); re-run the train stage") from None
    model.eval()
    return model
