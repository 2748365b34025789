"""Lowering a torch model to the IR's layer graph, BatchNorm folded into the crossbar layer before it.

Supported ops (each with its module path in errors): ``nn.Linear``, ``nn.Conv2d`` (groups 1, dilation 1, zero
padding; any stride, 1 x 1 kernels included), ``nn.BatchNorm1d``/``nn.BatchNorm2d`` (folded into the preceding
Linear/Conv2d), ``nn.ReLU``, ``nn.MaxPool2d``/``nn.AvgPool2d``/``nn.AdaptiveAvgPool2d(1)`` (digital, on a conv
layer's output codes; the adaptive one is global average pooling), ``nn.Flatten``, ``nn.Unflatten`` (declares the
input image shape), ``nn.Dropout``/``nn.Identity`` (identity at inference), and the residual add of two values
(``+``, ``torch.add``, ``operator.add``). In a traced ``forward``, ``torch.flatten``, ``x.view(N, -1)`` /
``x.reshape(N, -1)``, ``F.relu``/``torch.relu``/``x.relu()``, ``F.adaptive_avg_pool2d(x, 1)``, ``F.avg_pool2d`` and
``F.max_pool2d`` count as the modules. A model that is not an ``nn.Sequential`` is traced with ``torch.fx``; the
first op outside this set, in graph order, is one error naming it and its module path.

A residual add is fused into the activation unit of the later of its two crossbar layers (:mod:`reram.ir.core`): it
must come after that layer's BatchNorm and before its ReLU; its other operand is another layer's finished output
codes (an identity shortcut), or a layer without ReLU whose output only feeds adds (a projection shortcut, signed
codes).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reram.errors import CompileError
from reram.ir.core import ArchParams, CompiledModel, LayerIR, check_graph
from reram.ir.ops import OPS, pair

SUPPORTED = ("Linear, Conv2d, BatchNorm1d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Flatten, "
             "Unflatten, Dropout, Identity, residual add")
_MODULES = (nn.Linear, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d, nn.AvgPool2d,
            nn.AdaptiveAvgPool2d, nn.Flatten, nn.Unflatten, nn.Dropout, nn.Identity)
_ADDS = (operator.add, operator.iadd, torch.add)
_RELUS = (torch.relu, F.relu)
_FLATTENS = (torch.flatten,)
_POOL_FNS = {F.adaptive_avg_pool2d: "gap", F.avg_pool2d: "avg", F.max_pool2d: "max"}


@dataclass
class Op:
    """One op of the model in execution order: ``what`` is a module, or a name ('flatten', 'relu', 'add', 'gap',
    'avg', 'max', 'size', 'pass') for a traced call; ``inputs`` are the ids of the values it reads; ``args`` the
    call's other arguments."""

    path: str
    what: Any
    inputs: list[int]
    args: tuple = ()


def op_graph(model: nn.Module) -> list[Op]:
    """The model's ops in execution order; op ``i`` makes value ``i + 1`` (value 0 is the model input)."""
    if isinstance(model, (nn.Sequential, *_MODULES)):
        mods: list[tuple[str, nn.Module]] = []

        def walk(seq: nn.Module, prefix: str) -> None:
            for name, m in seq.named_children():
                path = f"{prefix}.{name}"
                if isinstance(m, nn.Sequential):
                    walk(m, path)
                else:
                    mods.append((path, m))

        if isinstance(model, nn.Sequential):
            walk(model, "model")
        else:
            mods = [("model", model)]
        return [Op(path, m, [i]) for i, (path, m) in enumerate(mods)]
    import torch.fx as fx

    try:
        graph = fx.symbolic_trace(model).graph
    except Exception as e:  # data-dependent control flow and the like
        raise CompileError(f"model: cannot trace its forward with torch.fx ({type(e).__name__}: {e}); give an "
                           f"nn.Sequential or a forward of {SUPPORTED}") from None
    named = dict(model.named_modules())
    ids: dict[fx.Node, int] = {}
    ops: list[Op] = []
    for node in graph.nodes:
        if node.op == "placeholder":
            if ids:
                raise CompileError(f"model: the forward takes more than one input ({node.target})")
            ids[node] = 0
            continue
        if node.op == "output":
            out = node.args[0]
            if not isinstance(out, fx.Node) or out not in ids:
                raise CompileError("model: the forward must return one tensor (the logits)")
            ops.append(Op("model: output", "output", [ids[out]]))
            break
        fn = node.target
        fn_name = getattr(fn, "__name__", fn)
        path = f"model.{fn}" if node.op == "call_module" else f"model: {fn_name}"
        inputs = [ids[a] for a in node.args if isinstance(a, fx.Node)]
        rest = tuple(a for a in node.args if not isinstance(a, fx.Node))
        if node.op == "get_attr":
            raise CompileError(f"model: a parameter or buffer used directly in forward ({fn}) is not supported; "
                               f"supported: {SUPPORTED}")
        if node.op == "call_module":
            what: Any = named[fn]
            if not isinstance(what, _MODULES):
                raise CompileError(f"{path}: nn.{type(what).__name__} is not supported; supported: {SUPPORTED}")
        elif fn in _ADDS or fn == "add":
            what = "add"
        elif fn in _RELUS or fn in ("relu", "relu_"):
            what = "relu"
        elif fn in _FLATTENS or fn == "flatten":
            what = "flatten"
            if (len(rest) > 0 and rest[0] not in (1,)) or node.kwargs.get("start_dim", 1) != 1:
                raise CompileError(f"{path}: flatten from dimension 1 only (keeps the batch)")
        elif fn in ("view", "reshape"):
            what = "flatten"
            if not (len(node.args) == 3 and node.args[2] == -1):
                raise CompileError(f"{path}: {fn}(N, -1) (a flatten) is the only reshape supported")
            inputs = inputs[:1]
        elif fn == "size":
            what = "size"
        elif fn in _POOL_FNS:
            what = _POOL_FNS[fn]
        elif fn in (F.dropout, "contiguous"):
            what = "pass"
        elif fn is operator.getitem:
            raise CompileError(f"{path}: indexing is not supported; supported: {SUPPORTED}")
        else:
            raise CompileError(f"{path}: {fn_name} is not supported; supported: {SUPPORTED}")
        ids[node] = len(ops) + 1
        ops.append(Op(path, what, inputs, rest + tuple(node.kwargs.items())))
    return ops


@dataclass
class _Val:
    layer: int  # the crossbar layer that produced it (-1: the model input)
    version: int  # the number of ops applied to that layer's output when this value was taken
    shape: tuple[int, ...] | None


class _Lowering:
    """The interpreter of :func:`op_graph`'s ops: crossbar layers, and the digital ops attached to them."""

    def __init__(self, shape: tuple[int, ...] | None) -> None:
        self.vals: dict[int, _Val | None] = {0: _Val(-1, 0, shape)}
        self.layers: list[LayerIR] = []
        self.version: list[int] = []
        self.frozen: list[bool] = []  # read by a crossbar or an add: its output must not change any more
        self.folded: list[bool] = []  # only BatchNorm applied so far (BatchNorm may still be folded)

    def current(self, vid: int, path: str) -> _Val:
        v = self.vals.get(vid)
        if v is None:
            raise CompileError(f"{path}: reads a value that is not a tensor of the supported ops")
        if v.layer >= 0 and v.version != self.version[v.layer]:
            raise CompileError(f"{path}: reads the output of {self.layers[v.layer].name} before an op that was "
                               "applied to it later (each layer has one output; use it after all its ops)")
        return v

    def modify(self, v: _Val, path: str, what: str) -> LayerIR:
        if v.layer < 0:
            raise CompileError(f"{path}: {what} must follow a Linear or Conv2d layer (or its BatchNorm), not the "
                               "model input")
        if self.frozen[v.layer]:
            raise CompileError(f"{path}: {what} changes the output of {self.layers[v.layer].name}, which another op "
                               "already read")
        return self.layers[v.layer]

    def bump(self, v: _Val, shape: tuple[int, ...] | None = None, folded: bool = False) -> _Val:
        self.version[v.layer] += 1
        self.folded[v.layer] = folded
        return _Val(v.layer, self.version[v.layer], v.shape if shape is None else shape)

    def run(self, ops: list[Op]) -> int:
        out = None
        for i, op in enumerate(ops):
            vid = i + 1
            if op.what == "output":
                out = self.current(op.inputs[0], op.path)
                break
            if op.what == "size":
                self.vals[vid] = None
                continue
            if len(op.inputs) != (2 if op.what == "add" else 1):
                raise CompileError(f"{op.path}: takes {len(op.inputs)} tensor inputs; supported: {SUPPORTED}")
            self.vals[vid] = self.apply(op)
        if out is None:
            out = self.current(len(ops), ops[-1].path if ops else "model")
        return out.layer

    def apply(self, op: Op) -> _Val:
        m, path = op.what, op.path
        v = self.current(op.inputs[0], path)
        if isinstance(m, nn.Unflatten):
            if self.layers or v.layer >= 0:
                raise CompileError(f"{path}: Unflatten is supported only as the first op (the input image shape)")
            return _Val(-1, 0, tuple(int(s) for s in m.unflattened_size))
        if m == "flatten" or isinstance(m, nn.Flatten):
            return _Val(v.layer, v.version, (int(np.prod(v.shape)),) if v.shape is not None else None)
        if m == "pass" or isinstance(m, nn.Dropout | nn.Identity):
            return v
        if (kind := next((o for o in OPS.values() if isinstance(m, getattr(nn, o.module))), None)) is not None:
            if v.layer >= 0:
                self.frozen[v.layer] = True
            layer = kind.lower(m, path, v.shape, len(self.layers))  # the registry's lowering of the module
            layer.src = v.layer
            self.layers.append(layer)
            self.version.append(0)
            self.frozen.append(False)
            self.folded.append(True)
            return _Val(len(self.layers) - 1, 0, layer.out_maps)
        if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            last = self.modify(v, path, "BatchNorm")
            if not self.folded[v.layer]:
                raise CompileError(f"{path}: BatchNorm must directly follow a Linear or Conv2d layer to be folded")
            self.fold(m, last, path)
            return self.bump(v, folded=True)
        if m == "relu" or isinstance(m, nn.ReLU):
            last = self.modify(v, path, "ReLU")
            if last.relu:
                raise CompileError(f"{path}: a second ReLU on {last.name}")
            if last.pool is not None and last.pool["kind"] != "max":
                raise CompileError(f"{path}: ReLU after average pooling is not supported (ReLU comes first)")
            last.relu = True
            return self.bump(v)
        if m == "add":
            return self.add(v, self.current(op.inputs[1], path), path)
        if m in ("gap", "avg", "max") or isinstance(m, nn.MaxPool2d | nn.AvgPool2d | nn.AdaptiveAvgPool2d):
            last = self.modify(v, path, "pooling")
            if not OPS[last.kind].spatial or last.pool is not None:
                raise CompileError(f"{path}: pooling is supported once, directly after a Conv2d layer (and its "
                                   "BatchNorm/ReLU/add)")
            last.pool = self.pool(m, op, last)
            return self.bump(v, shape=last.out_maps)
        raise CompileError(f"{path}: {m!r} is not supported; supported: {SUPPORTED}")

    @staticmethod
    def fold(m: nn.Module, last: LayerIR, path: str) -> None:
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

    def add(self, a: _Val, b: _Val, path: str) -> _Val:
        """The residual add, fused into the later crossbar layer's activation unit."""
        if a.layer < 0 or b.layer < 0:
            raise CompileError(f"{path}: adding the model input is not supported (add two layers' outputs)")
        if a.layer == b.layer:
            raise CompileError(f"{path}: adds {self.layers[a.layer].name}'s output to itself")
        hold, skip = (a, b) if a.layer > b.layer else (b, a)
        layer = self.modify(hold, path, "the residual add")
        if layer.relu or layer.pool is not None or layer.add_src is not None:
            raise CompileError(f"{path}: the residual add must come after {layer.name}'s BatchNorm and before its "
                               "ReLU and pooling (it is fused into that layer's activation unit)")
        self.frozen[skip.layer] = True
        layer.add_src = skip.layer
        return self.bump(hold)

    @staticmethod
    def pool(m: Any, op: Op, last: LayerIR) -> dict[str, Any]:
        path = op.path
        h, w = OPS[last.kind].pre_maps(last)[1:]
        kwargs = dict(a for a in op.args if isinstance(a, tuple) and len(a) == 2 and isinstance(a[0], str))
        pos = [a for a in op.args if not (isinstance(a, tuple) and len(a) == 2 and isinstance(a[0], str))]
        if m == "gap" or isinstance(m, nn.AdaptiveAvgPool2d):
            size = m.output_size if isinstance(m, nn.AdaptiveAvgPool2d) else (pos[0] if pos else
                                                                               kwargs.get("output_size"))
            if pair(size) != [1, 1]:
                raise CompileError(f"{path}: adaptive average pooling to 1 x 1 (global) only, got {size}")
            if not last.relu:
                raise CompileError(f"{path}: average pooling must follow the ReLU (pooling acts on output codes)")
            return {"kind": "avg", "kernel": [h, w], "stride": [h, w], "padding": [0, 0]}
        if isinstance(m, str):  # F.avg_pool2d / F.max_pool2d
            names = ("kernel_size", "stride", "padding")
            vals = {**dict(zip(names, pos, strict=False)), **kwargs}
            kind, kernel = m, vals.get("kernel_size")
            stride, padding = vals.get("stride") or kernel, vals.get("padding", 0)
            if kernel is None or any(vals.get(k) for k in ("ceil_mode", "divisor_override")) or \
                    vals.get("count_include_pad", True) is False or vals.get("dilation", 1) not in (1, (1, 1)):
                raise CompileError(f"{path}: pooling with a kernel size, and no ceil_mode, dilation or "
                                   "divisor_override only")
        else:
            kind = "max" if isinstance(m, nn.MaxPool2d) else "avg"
            if m.ceil_mode or (kind == "max" and pair(m.dilation) != [1, 1]):
                raise CompileError(f"{path}: ceil_mode and dilation are not supported")
            if kind == "avg" and (m.divisor_override is not None or (not m.count_include_pad and m.padding)):
                raise CompileError(f"{path}: AvgPool2d with padding needs count_include_pad=True and no "
                                   "divisor_override")
            kernel, stride, padding = m.kernel_size, m.stride if m.stride is not None else m.kernel_size, m.padding
        if kind == "avg" and not last.relu:
            raise CompileError(f"{path}: AvgPool2d must follow the ReLU (pooling acts on output codes)")
        return {"kind": kind, "kernel": pair(kernel), "stride": pair(stride), "padding": pair(padding)}


def lower(model: nn.Module, arch: ArchParams, in_shape: Sequence[int] | None = None) -> CompiledModel:
    """Torch model -> IR layer graph (BatchNorm folded; ReLU, residual adds and pooling attached). ``in_shape`` is the
    per-sample input shape, (C, H, W) for images; a leading ``nn.Unflatten`` declares it too."""
    ops = op_graph(model)
    bad = [f"{op.path}: nn.{type(op.what).__name__} is not supported" for op in ops
           if isinstance(op.what, nn.Module) and not isinstance(op.what, _MODULES)]
    if bad:
        raise CompileError(f"{bad[0]}; supported: {SUPPORTED}")
    low = _Lowering(tuple(in_shape) if in_shape else None)
    out = low.run(ops)
    layers = low.layers
    if not layers:
        raise CompileError("the model has no Linear or Conv2d layer")
    if out != len(layers) - 1:
        name = layers[out].name if out >= 0 else "the model input"
        raise CompileError(f"the model returns the output of {name}, not of its last crossbar layer "
                           f"{layers[-1].name}")
    last = layers[-1]
    if last.relu or last.pool is not None or OPS[last.kind].spatial or last.add_src is not None:
        raise CompileError("the last layer must be a Linear layer without ReLU, add or pooling (its outputs are the "
                           "logits)")
    for i, layer in enumerate(layers):
        layer.weight = layer.weight.astype(np.float32)
        layer.bias = layer.bias.astype(np.float32)
        layer.gain = np.ones(layer.out_features, np.float32)
        layer.offset = layer.bias.copy()
        layer.in_scale = 1.0 / arch.x_max
        adders = [j for j, b in enumerate(layers) if b.add_src == i]
        readers = [j for j, b in enumerate(layers) if b.src == i]
        if i < len(layers) - 1 and not adders and not readers:
            raise CompileError(f"the output of layer {layer.name} is not used")
        if adders and not layer.relu:
            if readers:
                raise CompileError(f"the output of layer {layer.name} has no ReLU and is read by "
                                   f"{layers[readers[0]].name} as well as added: signed codes can only be added")
            layer.out_signed = True  # a projection shortcut
    cm = CompiledModel(arch=arch, layers=layers, passes=["fold_batchnorm"])
    problem = check_graph(cm)
    if problem:
        raise CompileError(problem)
    first = layers[0]
    cm.meta["input_shape"] = list(first.conv["in_shape"]) if first.conv else [first.in_features]
    return cm
