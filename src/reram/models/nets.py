"""The networks reram builds from its configuration: an MLP of any width, LeNet-5, or a layer list.

Every model takes flat images (N, C * H * W) in [0, 1], as the datasets store them; a convolutional model starts
with ``nn.Unflatten`` to its input shape. A spec (a JSON-able dict) describes a model completely; it is stored in
the weight file's metadata, so a run folder's weights rebuild the same network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from reram.config.layers import LAYER_KEYS, check_layers
from reram.errors import ConfigError
from reram.ir.rules import window_out


def lenet5_layers() -> list[dict[str, Any]]:
    """LeNet-5 for 28x28 inputs (conv1 padded to keep 28x28, as the original's 32x32), with BatchNorm."""
    return [
        {"op": "conv2d", "out": 6, "kernel": 5, "padding": 2}, {"op": "batchnorm"}, {"op": "relu"},
        {"op": "maxpool2d", "kernel": 2},
        {"op": "conv2d", "out": 16, "kernel": 5}, {"op": "batchnorm"}, {"op": "relu"}, {"op": "maxpool2d", "kernel": 2},
        {"op": "flatten"},
        {"op": "linear", "out": 120}, {"op": "batchnorm"}, {"op": "relu"},
        {"op": "linear", "out": 84}, {"op": "batchnorm"}, {"op": "relu"},
        {"op": "linear", "out": "classes"},
    ]


def mlp_layers(hidden: Sequence[int], batchnorm: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"op": "flatten"}]
    for h in hidden:
        out.append({"op": "linear", "out": int(h)})
        if batchnorm:
            out.append({"op": "batchnorm"})
        out.append({"op": "relu"})
    out.append({"op": "linear", "out": "classes"})
    return out


def spec_from_config(model_cfg, in_shape: Sequence[int], classes: int) -> dict[str, Any]:
    """The model spec of ``model.arch`` for inputs of ``in_shape`` (C, H, W) and ``classes`` outputs."""
    if model_cfg.arch == "mlp":
        layers = mlp_layers(model_cfg.hidden, model_cfg.batchnorm)
    elif model_cfg.arch == "lenet5":
        layers = [d for d in lenet5_layers() if model_cfg.batchnorm or d["op"] != "batchnorm"]
    else:
        layers = [dict(d) for d in model_cfg.layers]
    return {"arch": model_cfg.arch, "in_shape": [int(v) for v in in_shape], "classes": int(classes),
            "layers": layers}


def build_model(spec: dict[str, Any]) -> nn.Sequential:
    """The nn.Sequential of a spec; shapes are inferred from ``in_shape``. Errors name the entry."""
    layers = spec["layers"]
    check_layers(layers)
    shape: tuple[int, ...] = tuple(spec["in_shape"])
    classes = int(spec["classes"])
    mods: list[nn.Module] = []
    if any(d["op"] in ("conv2d", "maxpool2d", "avgpool2d") for d in layers):
        mods.append(nn.Unflatten(1, shape))
    else:
        shape = (int(_prod(shape)),)
        if layers[0]["op"] != "flatten":
            mods.append(nn.Flatten())
    for i, d in enumerate(layers):
        op = d["op"]
        kw = {**LAYER_KEYS[op], **{k: v for k, v in d.items() if k != "op"}}
        where = f"model.layers[{i}] ({op})"
        if op == "conv2d":
            if len(shape) != 3:
                raise ConfigError(f"{where}: needs an image input (C, H, W), the previous entry gives {shape}")
            C, H, W = shape
            k, s, p = kw["kernel"], kw["stride"], kw["padding"]
            Ho, Wo = window_out(H, k, s, p), window_out(W, k, s, p)
            if Ho < 1 or Wo < 1:
                raise ConfigError(f"{where}: kernel {k} does not fit the {H}x{W} input")
            out = classes if kw["out"] == "classes" else kw["out"]
            mods.append(nn.Conv2d(C, out, k, stride=s, padding=p, bias=kw["bias"]))
            shape = (out, Ho, Wo)
        elif op in ("maxpool2d", "avgpool2d"):
            if len(shape) != 3:
                raise ConfigError(f"{where}: pooling needs an image input, the previous entry gives {shape}")
            k, s, p = kw["kernel"], kw["stride"] or kw["kernel"], kw["padding"]
            cls = nn.MaxPool2d if op == "maxpool2d" else nn.AvgPool2d
            mods.append(cls(k, stride=s, padding=p))
            C, H, W = shape
            shape = (C, window_out(H, k, s, p), window_out(W, k, s, p))
            if shape[1] < 1 or shape[2] < 1:
                raise ConfigError(f"{where}: the {k}x{k} window does not fit the {H}x{W} input")
        elif op == "flatten":
            mods.append(nn.Flatten())
            shape = (int(_prod(shape)),)
        elif op == "linear":
            if len(shape) != 1:
                mods.append(nn.Flatten())
                shape = (int(_prod(shape)),)
            out = classes if kw["out"] == "classes" else kw["out"]
            if i == len(layers) - 1 and out != classes:
                raise ConfigError(f"{where}: the last layer must have out = {classes} (the classes) or \"classes\"")
            mods.append(nn.Linear(shape[0], out, bias=kw["bias"]))
            shape = (out,)
        elif op == "batchnorm":
            mods.append(nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.BatchNorm1d(shape[0]))
        elif op == "relu":
            mods.append(nn.ReLU())
        elif op == "dropout":
            mods.append(nn.Dropout(kw["p"]))
    return nn.Sequential(*mods)


def _prod(shape: Sequence[int]) -> int:
    out = 1
    for v in shape:
        out *= int(v)
    return out
