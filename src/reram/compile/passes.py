"""Compiler passes: small named units that transform a :class:`CompiledModel`.

Data-dependent passes take a calibration batch drawn from the training file (never the test set).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from reram.errors import CompileError
from reram.ir import integer, rules
from reram.ir.core import ArchParams, CompiledModel, LayerIR
from reram.ir.ops import float_forward, float_outputs, patches_np  # noqa: F401 (float_forward: re-exported)
from reram.ir.rules import requant_ints, weight_digits


# --------------------------------------------------------------------------- fold_batchnorm
def fold_batchnorm(model: nn.Module, arch: ArchParams, in_shape: list[int] | None = None) -> CompiledModel:
    """Torch model -> IR layers with BatchNorm folded into the preceding Linear/Conv2d layer (see
    :mod:`reram.compile.lower` for the supported ops; anything else is one error naming it)."""
    from .lower import lower

    return lower(model, arch, in_shape)


# --------------------------------------------------------------------------- activation_scaling
def activation_scaling(cm: CompiledModel, calib_x: np.ndarray, percentile: float) -> None:
    """Output code ranges: the ``percentile`` of each hidden layer's calibration outputs maps to full scale; the
    layers that read them (their DAC input range) and the residual adds that add them share that scale.

    The outputs ranked are what the readers get (after pooling), or the layer's outputs before pooling when it
    pools by averaging (the codes are clamped before the average); signed outputs rank their magnitude. Layers that
    read the model input keep pixel codes (images in [0, 1]).
    """
    x_max = cm.arch.x_max
    outs = float_outputs(cm, calib_x)  # per layer (before pooling, after pooling)
    for i, layer in enumerate(cm.layers[:-1]):
        readers = cm.readers(i)
        avg = layer.pool is not None and layer.pool["kind"] == "avg"
        a = outs[i][0] if not cm.is_chain and (avg or not readers) else outs[i][1]
        a = np.abs(a) if layer.out_signed else a
        hi = float(np.percentile(a, percentile)) if a.size else 1.0
        layer.next_scale = max(hi, 1e-6) / x_max
        for j in readers:
            cm.layers[j].in_scale = layer.next_scale
    for layer in cm.layers:
        if layer.src == -1:
            layer.in_scale = 1.0 / x_max
    cm.passes.append("activation_scaling")


def naive_scaling(cm: CompiledModel) -> None:
    """No activation scaling: every layer's DAC covers [0, 1] (and signed outputs [-1, 1])."""
    for layer in cm.layers:
        layer.in_scale = layer.next_scale = 1.0 / cm.arch.x_max


# --------------------------------------------------------------------------- map_conductances
def map_conductances(cm: CompiledModel, w_max: list[float] | None = None, per_column: bool | None = None) -> None:
    """Signed weights -> integer weight codes in [-(L**S - 1), L**S - 1] (differential pairs, S slices).

    ``per_column``: each output column gets its own weight scale (:func:`reram.ir.rules.column_scales`: its largest
    weight maps to the largest code, and the activation unit's multiplier divides it out again), instead of one per
    layer; None keeps what the model was mapped with before (per layer at first). The scales are recomputed from
    the current weights (after fine-tuning, say)."""
    q = cm.arch.q_max
    if per_column is None:
        per_column = bool(cm.meta.get("weight_scale") == "column")
    cm.meta["weight_scale"] = "column" if per_column else "layer"
    for i, layer in enumerate(cm.layers):
        if w_max is not None:
            layer.w_max = w_max[i]
        elif layer.w_max <= 0:
            layer.w_max = float(np.abs(layer.weight).max()) or 1.0
        layer.col_scale = (rules.column_scales(layer.weight, layer.w_max) if per_column
                           else np.ones(layer.out_features, np.float64))
        layer.weight_codes = rules.weight_codes(layer.weight, layer.w_max, q, layer.col_scale)
    if "map_conductances" not in cm.passes:
        cm.passes.append("map_conductances")


def levels_used(cm: CompiledModel) -> list[int]:
    """Distinct programmed target levels per layer (<= 2**cell_bits is checked by the tests)."""
    out = []
    for layer in cm.layers:
        pos, neg = weight_digits(layer.weight_codes, cm.arch)
        out.append(int(torch.unique(torch.cat([pos.flatten(), neg.flatten()])).numel()))
    return out


# --------------------------------------------------------------------------- tile
def tile(cm: CompiledModel) -> None:
    """Assign each layer to R x C arrays: row tiles split the inputs, column tiles the weight columns.

    A signed weight takes two adjacent physical columns (G+ at 2k, G- at 2k+1 within its array); the two
    column currents are subtracted before the ADC, so one conversion reads one signed weight column. With
    bit slicing, slice s of output o sits in logical column o * slices + s.
    """
    a = cm.arch
    tiles = []
    for layer in cm.layers:
        T, U = layer.row_tiles(a), layer.col_tiles(a)
        tiles.append({"layer": layer.name, "row_tiles": T, "col_tiles": U, "arrays": T * U,
                      "used_rows": layer.in_features, "used_pairs": layer.out_features * a.slices,
                      "utilization": layer.in_features * layer.out_features * a.slices * 2 / (T * U * a.rows * a.cols)})
    cm.meta["tiles"] = tiles
    cm.meta["arrays"] = sum(t["arrays"] for t in tiles)
    if "tile" not in cm.passes:
        cm.passes.append("tile")


# --------------------------------------------------------------------------- ADC and requantization
def set_adc(layer: LayerIR, arch: ArchParams, adc_range: float, signed: bool) -> None:
    """ADC full scale ``adc_range`` (pre-ADC units) -> integer multiplier and shift (16-bit multiplier)."""
    adc_range = max(float(adc_range), 1e-9)
    mult, shift = rules.adc_multiplier(adc_range, arch.adc_bits, signed)
    layer.adc_range, layer.adc_signed, layer.adc_mult, layer.adc_shift = adc_range, signed, mult, shift


def update_requant(cm: CompiledModel) -> None:
    """Digital scale factors: acc -> float (``out_scale``), then to the next layer's input codes."""
    a = cm.arch
    for i, layer in enumerate(cm.layers):
        w_unit = layer.w_max / (a.q_max * 2**a.grid_sub_bits)
        lsb = 2.0**layer.adc_shift / layer.adc_mult
        layer.out_scale = layer.in_scale * w_unit * lsb
        last = i == len(cm.layers) - 1
        readers = cm.readers(i)
        if last:
            layer.next_scale = layer.out_scale
        elif readers:
            layer.next_scale = cm.layers[readers[0]].in_scale
        ratio = float(np.max(np.abs(layer.gain) * rules.acc_scales(layer))) / layer.next_scale
        # headroom for per-chip calibration gains up to 4x the nominal one
        layer.req_shift = rules.requant_shift(ratio)
        if layer.add_src is not None:  # the residual add's operand, aligned to this layer's output codes
            skip_scale = cm.layers[layer.add_src].next_scale
            layer.req_shift, layer.add_mult = rules.add_alignment(skip_scale, layer.next_scale, ratio)
        layer.req_mult, layer.req_bias = requant_ints(layer, layer.gain, layer.offset)


def ideal_pre_adc(layer: LayerIR, arch: ArchParams, x_codes: torch.Tensor, positive: bool = False,
                  stride: int = 1) -> torch.Tensor:
    """All ideal pre-ADC values S of a layer (every tile, input slice and weight slice), flattened: their magnitudes
    |S| (``positive=False``) or their positive parts (``positive=True``) -- what the ADC calibration ranks. With
    ``stride`` > 1, every ``stride``-th of them (exactly ``full[::stride]``), computed one tile and slice at a time so
    that the full set is never held."""
    pos, neg = weight_digits(layer.weight_codes, arch)
    dG = ((pos - neg) * 2**arch.grid_sub_bits).to(torch.float64)  # (S, in, out)
    n = x_codes.shape[0]
    block = n * layer.out_features
    out = torch.empty(-(-pre_adc_count(layer, arch, n) // stride), dtype=torch.float64)
    buf = torch.empty(n, layer.out_features, dtype=torch.float64) if stride > 1 else None
    slices = rules.input_slices(x_codes, arch)
    for k, (b, _, rs, s) in enumerate(rules.mvm_blocks(layer, arch)):
        start = k * block  # flat index of this block's first value
        first = -start % stride  # offset in the block of its first kept value
        lo = -(-start // stride)  # its position in ``out``
        dst = out[lo : lo + -(-(block - first) // stride)] if first < block else out[:0]
        blk = torch.mm(slices[b][:, rs], dG[s, rs], out=buf if buf is not None else dst.view(n, -1))
        if positive:
            blk.clamp_(min=0)
        else:
            blk.abs_()
        if buf is not None:
            dst.copy_(blk.reshape(-1)[first::stride])
    return out


def pre_adc_count(layer: LayerIR, arch: ArchParams, rows: int) -> int:
    """How many pre-ADC values :func:`ideal_pre_adc` ranks for ``rows`` MVM input rows (stride 1)."""
    return arch.input_slices * layer.row_tiles(arch) * arch.slices * rows * layer.out_features


def worst_case_range(layer: LayerIR, arch: ArchParams) -> float:
    """Largest |S| any input could produce: no saturation, coarse LSB (the naive choice)."""
    pos, neg = weight_digits(layer.weight_codes, arch)
    dG = ((pos - neg) * 2**arch.grid_sub_bits).to(torch.float64)
    worst = 0.0
    for rs in rules.row_tiles(layer, arch):
        blk = dG[:, rs]
        worst = max(worst, float(blk.clamp(min=0).sum(1).max()), float((-blk).clamp(min=0).sum(1).max()))
    return worst * arch.slice_input_max


def adc_naive(cm: CompiledModel) -> None:
    for layer in cm.layers:
        set_adc(layer, cm.arch, worst_case_range(layer, cm.arch), signed=True)
    update_requant(cm)




def quantile(x: torch.Tensor, q: float, overwrite_input: bool = False) -> float:
    """``torch.quantile(x, q)`` (linear interpolation between order statistics), by one selection of both order
    statistics instead of a sort: in a copy, or with ``overwrite_input`` in ``x`` itself (its order is lost)."""
    flat = x.reshape(-1).numpy()
    n = flat.size
    rank = q * (n - 1)
    lo = int(np.floor(rank))
    hi = min(lo + 1, n - 1)
    if overwrite_input:
        flat.partition([lo, hi])
        part = flat
    else:
        part = np.partition(flat, [lo, hi])
    v_lo, v_hi = torch.tensor(part[lo], dtype=x.dtype), torch.tensor(part[hi], dtype=x.dtype)
    if rank == lo:
        return float(v_lo)
    return float(torch.lerp(v_lo, v_hi, torch.tensor(rank - lo, dtype=x.dtype)))


def adc_calibration(cm: CompiledModel, calib_x: np.ndarray, percentile: float, target: str = "pre_relu") -> None:
    """ADC ranges from calibration data, layer by layer on the ideal chip.

    ``pre_relu``: signed ADC; the ``percentile`` of |S| maps to full scale (the analog output has
    negatives). ``post_relu``: on layers followed by a ReLU the range is derived from the positive side only and
    the ADC is unipolar, as if calibrated against post-ReLU targets: negative column sums (partial sums of row
    tiles included) clip to zero. A layer without ReLU (the logits) keeps its signed pre-ReLU calibration.
    """
    if target not in ("pre_relu", "post_relu"):
        raise CompileError(f"unknown ADC calibration target {target!r}")

    def step(i: int, h: np.ndarray, skip: np.ndarray | None) -> np.ndarray:
        # layer i's input codes on the ideal chip, the layers before it already calibrated
        layer = cm.layers[i]
        # post-ReLU calibration clips negative sums: not where a residual add follows (the add comes before the ReLU)
        signed = target == "pre_relu" or not layer.relu or layer.add_src is not None
        codes = torch.from_numpy(patches_np(layer, h).astype(np.float64))
        stride = max(1, pre_adc_count(layer, cm.arch, codes.shape[0]) // 2_000_000)  # at most ~2 M values ranked
        S = ideal_pre_adc(layer, cm.arch, codes, positive=not signed, stride=stride)  # |S| or max(S, 0)
        rng = quantile(S, percentile / 100, overwrite_input=True)
        set_adc(layer, cm.arch, rng, signed=signed)
        del S, codes
        update_requant(cm)
        return integer.layer_forward(cm, i, h, skip=skip)[1]

    cm.walk(integer.pixel_codes(cm, calib_x), step)
    cm.passes.append(f"adc_calibration[{target}]")
