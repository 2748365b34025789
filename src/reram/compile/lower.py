"""Lowering a torch model to the IR: a chain of supported ops, BatchNorm folded into the crossbar layer before it.

Supported ops (each with its module path in errors): ``nn.Linear``, ``nn.Conv2d`` (groups 1, dilation 1, zero
padding), ``nn.BatchNorm1d``/``nn.BatchNorm2d`` (folded into the preceding Linear/Conv2d), ``nn.ReLU``,
``nn.MaxPool2d``/``nn.AvgPool2d`` (digital, on a conv layer's output codes), ``nn.Flatten``, ``nn.Unflatten``
(declares the input image shape), ``nn.Dropout`` (identity at inference). ``torch.flatten`` and ``F.relu`` calls
in a traced ``forward`` count as Flatten and ReLU. Any other op is one error naming it and its module path.
A model that is not an ``nn.Sequential`` is traced with ``torch.fx``; its forward must be a chain of these ops.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from reram.errors import CompileError
from reram.ir.core import ArchParams, CompiledModel, LayerIR
from reram.ir.ops import OPS, pair

SUPPORTED = ("Linear, Conv2d, BatchNorm1d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, Flatten, Unflatten, Dropout")
_MODULES = (nn.Linear, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d, nn.AvgPool2d, nn.Flatten,
            nn.Unflatten, nn.Dropout)


def op_chain(model: nn.Module) -> list[tuple[str, object]]:
    """(module path, op) in execution order: a module, or the strings 'flatten' / 'relu' for traced calls."""
    if isinstance(model, nn.Sequential):
        out: list[tuple[str, object]] = []

        def walk(seq: nn.Sequential, prefix: str) -> None:
            for name, m in seq.named_children():
                path = f"{prefix}.{name}"
                if isinstance(m, nn.Sequential):
                    walk(m, path)
                else:
                    out.append((path, m))

        walk(model, "model")
        return out
    if isinstance(model, _MODULES):
        return [("model", model)]
    import torch.fx as fx

    try:
        graph = fx.symbolic_trace(model).graph
    except Exception as e:  # data-dependent control flow and the like
        raise CompileError(f"model: cannot trace its forward with torch.fx ({type(e).__name__}: {e}); give an "
                           f"nn.Sequential of {SUPPORTED}") from None
    mods = dict(model.named_modules())
    out = []
    prev = None
    for node in graph.nodes:
        if node.op in ("placeholder", "output", "get_attr"):
            if node.op == "placeholder":
                prev = node
            continue
        args = [a for a in node.args if isinstance(a, fx.Node)]
        if prev is None or args != [prev]:
            raise CompileError(f"model.{node.target}: the forward is not a chain of single-input ops (supported: "
                               f"{SUPPORTED})")
        fn_name = getattr(node.target, "__name__", node.target)
        path = f"model.{node.target}" if node.op == "call_module" else f"model: {fn_name}"
        if node.op == "call_module":
            out.append((path, mods[node.target]))
        elif node.target in (torch.flatten,) or node.target == "flatten":
            out.append((path, "flatten"))
        elif node.target in (torch.relu, torch.nn.functional.relu) or node.target == "relu":
            out.append((path, "relu"))
        elif node.target in (operator.getitem,):
            raise CompileError(f"{path}: indexing is not supported; supported: {SUPPORTED}")
        else:
            raise CompileError(f"{path}: {getattr(node.target, '__name__', node.target)} is not supported; supported: "
                               f"{SUPPORTED}")
        prev = node
    return out


def lower(model: nn.Module, arch: ArchParams, in_shape: Sequence[int] | None = None) -> CompiledModel:
    """Torch model -> IR crossbar layers (BatchNorm folded, ReLU and pooling attached). ``in_shape`` is the
    per-sample input shape, (C, H, W) for images; a leading ``nn.Unflatten`` declares it too."""
    chain = op_chain(model)
    bad = [f"{path}: nn.{type(m).__name__} is not supported" for path, m in chain
           if not isinstance(m, str) and not isinstance(m, _MODULES)]
    if bad:
        raise CompileError(f"{bad[0]}; supported: {SUPPORTED}")
    shape: tuple[int, ...] | None = tuple(in_shape) if in_shape else None
    layers: list[LayerIR] = []
    after_layer = False  # True while the last op was the crossbar layer or something folded into it
    for path, m in chain:
        if isinstance(m, nn.Unflatten):
            if layers:
                raise CompileError(f"{path}: Unflatten is supported only as the first op (the input image shape)")
            shape = tuple(int(v) for v in m.unflattened_size)
        elif m == "flatten" or isinstance(m, nn.Flatten):
            if shape is not None:
                shape = (int(np.prod(shape)),)
        elif isinstance(m, nn.Dropout):
            continue
        elif (op := next((o for o in OPS.values() if isinstance(m, getattr(nn, o.module))), None)) is not None:
            layers.append(op.lower(m, path, shape, len(layers)))  # the registry's lowering of the module
            shape = layers[-1].out_maps
            after_layer = True
        elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            if not layers or not after_layer or layers[-1].relu or layers[-1].pool:
                raise CompileError(f"{path}: BatchNorm must directly follow a Linear or Conv2d layer to be folded")
            last = layers[-1]
            if (isinstance(m, nn.BatchNorm2d)) != OPS[last.kind].spatial or m.num_features != last.out_features:
                raise CompileError(f"{path}: {type(m).__name__}({m.num_features}) does not match layer {last.name}")
            g = m.weight.detach().double().numpy() if m.affine else np.ones(m.num_features)
            beta = m.bias.detach().double().numpy() if m.affine else np.zeros(m.num_features)
            if m.running_mean is None or m.running_var is None:
                raise CompileError(f"{path}: BatchNorm without running statistics cannot be folded")
            mean, var = m.running_mean.double().numpy(), m.running_var.double().numpy()
            s = g / np.sqrt(var + m.eps)
            last.weight = last.weight * s[:, None]
            last.bias = (last.bias - mean) * s + beta
        elif m == "relu" or isinstance(m, nn.ReLU):
            if not layers or not after_layer:
                raise CompileError(f"{path}: ReLU must follow a Linear or Conv2d layer (or its BatchNorm or max "
                                   "pooling)")
            if layers[-1].pool is not None and layers[-1].pool["kind"] != "max":
                raise CompileError(f"{path}: ReLU after average pooling is not supported (ReLU comes first)")
            layers[-1].relu = True
        elif isinstance(m, nn.MaxPool2d | nn.AvgPool2d):
            last = layers[-1] if layers else None
            if last is None or not after_layer or not OPS[last.kind].spatial or last.pool is not None:
                raise CompileError(f"{path}: pooling is supported once, directly after a Conv2d layer (and its "
                                   "BatchNorm/ReLU)")
            kind = "max" if isinstance(m, nn.MaxPool2d) else "avg"
            if m.ceil_mode or (kind == "max" and pair(m.dilation) != [1, 1]):
                raise CompileError(f"{path}: ceil_mode and dilation are not supported")
            if kind == "avg" and (m.divisor_override is not None or (not m.count_include_pad and m.padding)):
                raise CompileError(f"{path}: AvgPool2d with padding needs count_include_pad=True and no "
                                   "divisor_override")
            if kind == "avg" and not last.relu:
                raise CompileError(f"{path}: AvgPool2d must follow the ReLU (pooling acts on output codes)")
            kernel = pair(m.kernel_size)
            stride = pair(m.stride if m.stride is not None else m.kernel_size)
            last.pool = {"kind": kind, "kernel": kernel, "stride": stride, "padding": pair(m.padding)}
            shape = last.out_maps
    if not layers:
        raise CompileError("the model has no Linear or Conv2d layer")
    last = layers[-1]
    if last.relu or last.pool is not None or OPS[last.kind].spatial:
        raise CompileError("the last layer must be a Linear layer without ReLU or pooling (its outputs are the logits)")
    for layer in layers:
        layer.weight = layer.weight.astype(np.float32)
        layer.bias = layer.bias.astype(np.float32)
        layer.gain = np.ones(layer.out_features, np.float32)
        layer.offset = layer.bias.copy()
        layer.in_scale = 1.0 / arch.x_max
    for a, b in itertools.pairwise(layers):
        if a.out_size != b.in_size:
            raise CompileError(f"layer {a.name} gives {a.out_size} features, {b.name} takes {b.in_size}")
    cm = CompiledModel(arch=arch, layers=layers, passes=["fold_batchnorm"])
    cm.meta["input_shape"] = list(layers[0].conv["in_shape"]) if layers[0].conv else [layers[0].in_features]
    return cm
