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


def load_user_weights(path: Path, spec: dict) -> nn.Sequential:
    """A user's trained weights for the network of ``spec``: a safetensors file or a torch state_dict
    (``torch.load(weights_only=True)``: no pickle code runs). Any mismatch is one RunError naming the file."""
    import torch

    p = Path(path)
    model = build_model(spec)
    try:
        if p.suffix == ".safetensors":
            state = st_load(p.read_bytes())
        else:
            state = torch.load(p, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]
        if not isinstance(state, dict):
            raise ValueError(f"expected a state_dict, got {type(state).__name__}")
        want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        got = {k: tuple(getattr(v, "shape", ())) for k, v in state.items()}
        wrong = [k for k in want if k in got and got[k] != want[k]]
        if set(want) != set(got) or wrong:
            detail = f"{wrong[0]} is {got[wrong[0]]}, expected {want[wrong[0]]}" if wrong else \
                f"missing {sorted(set(want) - set(got))[:3]}, unexpected {sorted(set(got) - set(want))[:3]}"
            raise ValueError(f"its tensors do not fit model.arch = '{spec['arch']}': {detail}")
        model.load_state_dict(state)
    except FileNotFoundError:
        raise RunError(f"--model-file {p}: no such file") from None
    except (OSError, ValueError, RuntimeError, SafetensorError, EOFError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise RunError(f"--model-file {p}: cannot load it ({msg}); give the state_dict of the configured network "
                       "(model.arch / [[model.layers]]) as .safetensors or .pt") from None
    model.eval()
    return model
