"""Weights are stored as safetensors (no pickle), with the architecture in the metadata."""

from __future__ import annotations

import json
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from reram.errors import ReramError, RunError
from reram.fsutil import atomic_write_bytes

from .nets import build_model, mlp_layers


def save_weights(model: nn.Module, path: Path, spec: dict) -> None:
    """Weights as safetensors, with the model spec (:func:`reram.models.nets.build_model`) in the metadata."""
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    meta = {"spec": json.dumps(spec)}
    atomic_write_bytes(path, st_save(state, metadata=meta))


def spec_of(path: Path) -> dict:
    """The model spec stored with a weight file (older files: the MLP's widths)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata() or {}
    if "spec" in meta:
        return json.loads(meta["spec"])
    arch = json.loads(meta["arch"])  # reram 0.1 files: an MLP on 28x28 digits
    return {"arch": "mlp", "in_shape": [1, 28, 28], "classes": 10,
            "layers": mlp_layers(arch["hidden"], arch["batchnorm"])}


def load_weights(path: Path) -> nn.Sequential:
    """Rebuild the network from its spec and load the weights; any problem is one RunError."""
    try:
        data = Path(path).read_bytes()
        model = build_model(spec_of(path))
        model.load_state_dict(st_load(data))
    except (OSError, KeyError, TypeError, ValueError, RuntimeError, SafetensorError, ReramError) as e:
        raise RunError(f"{path}: cannot load model weights ({e}); re-run the train stage") from None
    model.eval()
    return model
