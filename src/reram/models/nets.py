"""The networks reram builds from its configuration: an MLP of any width, LeNet-5, CIFAR-style ResNets (ResNet-8,
ResNet-20: He et al. 2016, section 4.2), or a layer list (a chain, or a graph with named entries and residual adds).

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


RESNET_DEPTHS = {"resnet8": 8, "resnet20": 20}


def resnet_layers(depth: int, widths: Sequence[int] = (16, 32, 64)) -> list[dict[str, Any]]:
    """A CIFAR-style ResNet of ``depth`` = 6 n + 2 layers (He et al. 2016, 4.2): a 3x3 stem, three stages of n basic
    blocks (two 3x3 conv-BN, the second's output added to the block's input before the ReLU), the first block of the
    second and third stage at stride 2 with a 1x1 stride-2 projection shortcut (conv-BN), global average pooling and
    the classifier. Convolutions carry no bias (BatchNorm follows each)."""
    if (depth - 2) % 6 or depth < 8:
        raise ConfigError(f"a CIFAR-style ResNet has depth 6n + 2 >= 8, got {depth}")
    n = (depth - 2) // 6
    out: list[dict[str, Any]] = [
        {"op": "conv2d", "out": widths[0], "kernel": 3, "padding": 1, "bias": False}, {"op": "batchnorm"},
        {"op": "relu", "name": "stem"},
    ]
    prev, c_prev = "stem", widths[0]
    for stage, c in enumerate(widths):
        for b in range(n):
            stride = 2 if stage > 0 and b == 0 else 1
            tag = f"s{stage + 1}b{b + 1}"
            skip = prev
            if stride != 1 or c != c_prev:  # the projection shortcut
                out += [{"op": "conv2d", "out": c, "kernel": 1, "stride": stride, "bias": False, "input": prev},
                        {"op": "batchnorm", "name": f"{tag}_proj"}]
                skip = f"{tag}_proj"
            out += [{"op": "conv2d", "out": c, "kernel": 3, "stride": stride, "padding": 1, "bias": False,
                     "input": prev},
                    {"op": "batchnorm"}, {"op": "relu"},
                    {"op": "conv2d", "out": c, "kernel": 3, "padding": 1, "bias": False}, {"op": "batchnorm"},
                    {"op": "add", "from": skip}, {"op": "relu", "name": tag}]
            prev, c_prev = tag, c
    out += [{"op": "gap"}, {"op": "flatten"}, {"op": "linear", "out": "classes"}]
    return out


def spec_from_config(model_cfg, in_shape: Sequence[int], classes: int) -> dict[str, Any]:
    """The model spec of ``model.arch`` for inputs of ``in_shape`` (C, H, W) and ``classes`` outputs."""
    if model_cfg.arch == "mlp":
        layers = mlp_layers(model_cfg.hidden, model_cfg.batchnorm)
    elif model_cfg.arch == "lenet5":
        layers = [d for d in lenet5_layers() if model_cfg.batchnorm or d["op"] != "batchnorm"]
    elif model_cfg.arch in RESNET_DEPTHS:
        layers = resnet_layers(RESNET_DEPTHS[model_cfg.arch])
    else:
        layers = [dict(d) for d in model_cfg.layers]
    return {"arch": model_cfg.arch, "in_shape": [int(v) for v in in_shape], "classes": int(classes),
            "layers": layers}


def is_graph(layers: list[dict[str, Any]]) -> bool:
    """The layer list names inputs or adds: built as a :class:`GraphNet` rather than an ``nn.Sequential``."""
    return any(d.get("op") in ("add", "gap") or "input" in d for d in layers)


class GraphNet(nn.Module):
    """A layer graph: entry ``i``'s module reads value ``srcs[i]`` (value 0 is the input, value ``j + 1`` entry
    ``j``'s output); an ``add`` entry adds value ``adds[i]`` to it instead. Traceable by ``torch.fx``."""

    def __init__(self, in_shape: Sequence[int], mods: list[nn.Module], srcs: list[int], adds: list[int | None]):
        super().__init__()
        self.unflatten = nn.Unflatten(1, tuple(in_shape))
        self.entries = nn.ModuleList(mods)
        self.srcs, self.adds = list(srcs), list(adds)

    def forward(self, x):
        vals = [self.unflatten(x)]
        for mod, src, add in zip(self.entries, self.srcs, self.adds, strict=True):
            vals.append(vals[src] + vals[add] if add is not None else mod(vals[src]))
        return vals[-1]


def build_model(spec: dict[str, Any]) -> nn.Module:
    """The module of a spec: an ``nn.Sequential`` for a chain, a :class:`GraphNet` for a graph; shapes are inferred
    from ``in_shape``. Errors name the entry."""
    layers = spec["layers"]
    check_layers(layers)
    if is_graph(layers):
        return _build_graph(spec)
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
        shape = _entry(d, i, len(layers), shape, classes, mods)
    return nn.Sequential(*mods)


def _build_graph(spec: dict[str, Any]) -> GraphNet:
    layers = spec["layers"]
    classes = int(spec["classes"])
    names = {d["name"]: i + 1 for i, d in enumerate(layers) if "name" in d}
    shapes: list[tuple[int, ...]] = [tuple(spec["in_shape"])]
    mods: list[nn.Module] = []
    srcs: list[int] = []
    adds: list[int | None] = []
    for i, d in enumerate(layers):
        src = names[d["input"]] if "input" in d else i
        shape = shapes[src]
        if d["op"] == "add":
            add = names[d["from"]]
            if shapes[add] != shape:
                raise ConfigError(f"model.layers[{i}] (add): adds an output of shape {shapes[add]} to one of shape "
                                  f"{shape}")
            mods.append(nn.Identity())
            adds.append(add)
        else:
            entry: list[nn.Module] = []
            shape = _entry(d, i, len(layers), shape, classes, entry)
            mods.append(entry[0] if len(entry) == 1 else nn.Sequential(*entry))
            adds.append(None)
        srcs.append(src)
        shapes.append(shape)
    return GraphNet(spec["in_shape"], mods, srcs, adds)


def _entry(d: dict[str, Any], i: int, n: int, shape: tuple[int, ...], classes: int,
           mods: list[nn.Module]) -> tuple[int, ...]:
    """Append the module(s) of entry ``i`` (of ``n``) reading ``shape`` to ``mods``; its output shape."""
    op = d["op"]
    kw = {**LAYER_KEYS[op], **{k: v for k, v in d.items() if k not in ("op", "name", "input")}}
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
        if i == n - 1 and out != classes:
            raise ConfigError(f"{where}: the last layer must have out = {classes} (the classes) or \"classes\"")
        mods.append(nn.Linear(shape[0], out, bias=kw["bias"]))
        shape = (out,)
    elif op == "batchnorm":
        mods.append(nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.BatchNorm1d(shape[0]))
    elif op == "relu":
        mods.append(nn.ReLU())
    elif op == "dropout":
        mods.append(nn.Dropout(kw["p"]))
    elif op == "gap":
        if len(shape) != 3:
            raise ConfigError(f"{where}: global average pooling needs an image input, the previous entry gives "
                              f"{shape}")
        mods.append(nn.AdaptiveAvgPool2d(1))
        shape = (shape[0], 1, 1)
    elif op == "add":
        raise ConfigError(f"{where}: 'add' is part of a graph (give the entries names)")
    return shape


def _prod(shape: Sequence[int]) -> int:
    out = 1
    for v in shape:
        out *= int(v)
    return out
