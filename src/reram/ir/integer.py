"""The integer datapath of one layer, composed of the rules of :mod:`reram.ir.rules` (numpy, int64): what the golden
model (:mod:`reram.golden`) runs and the compiler's calibration reads for the codes of earlier layers.

Integer matrix products are computed in float64, which is exact here: every partial sum is an integer below 2**53
(rows * max input * max conductance code < 2**31).
"""

from __future__ import annotations

import numpy as np

from . import rules
from .core import CompiledModel, LayerIR
from .ops import OPS, finish_np, patches_np


def target_conductances(cm: CompiledModel, layer: LayerIR) -> tuple[np.ndarray, np.ndarray]:
    tp, tn = rules.target_codes(layer, cm.arch)
    return tp.numpy().astype(np.int64), tn.numpy().astype(np.int64)


def forward(cm: CompiledModel, x: np.ndarray, chip=None, stop_after: int | None = None, each=None,
            saturation: list | None = None) -> np.ndarray:
    """The integer datapath over the layer graph: pixel codes (N, pixels) -> the output of ``stop_after`` (default:
    the logits). ``each(i, acc, out, slices)`` sees every layer's results; ``saturation`` collects every layer's
    ADC saturation (:func:`layer_forward`), in layer order."""

    def step(i, h, skip):
        acc, out, slices = layer_forward(cm, i, h, chip, skip, saturation)
        if each is not None:
            each(i, acc, out, slices)
        return out

    return cm.walk(np.asarray(x, np.int64), step, stop_after)


def pixel_codes(cm: CompiledModel, x01: np.ndarray) -> np.ndarray:
    """Images in [0, 1] (or uint8 pixels) -> first-layer DAC codes, as the engine computes them."""
    x = np.asarray(x01)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    x = x.reshape(x.shape[0], -1).astype(np.float32)
    return rules.input_codes(x, cm.layers[0].in_scale, cm.arch.x_max).astype(np.int64)


def layer_forward(cm: CompiledModel, li: int, x: np.ndarray, chip=None, skip: np.ndarray | None = None,
                  saturation: list | None = None) -> tuple[np.ndarray, np.ndarray, list]:
    """One layer: flat input codes (N, in_size) int64 -> (acc (N * positions, out), output codes (N, out_size) or
    logits, the input slices of its MVM rows). Conv layers run one MVM per output position on im2col patches
    (:mod:`reram.ir.ops`). ``chip``: a programmed :class:`~reram.chip.Chip` (None: the target conductances).
    ``skip``: the flat output codes of the layer's ``add_src`` (its residual add). ``saturation``: a list to which
    the layer's ADC saturation is appended, (below, above) bool (n_samples, out): a conversion of that sample and
    column fell below the ADC's lowest code or above its highest (before the clamp)."""
    a = cm.arch
    layer = cm.layers[li]
    n_samples = x.shape[0]
    x = patches_np(layer, x)
    if chip is not None:
        cl = chip.layers[li]
        gp, gn = cl.g_pos.astype(np.int64), cl.g_neg.astype(np.int64)
        mults = cl.adc_mult.astype(np.int64)
        M = (cl.req_mult if cl.req_mult is not None else layer.req_mult).astype(np.int64)
        B = (cl.req_bias if cl.req_bias is not None else layer.req_bias).astype(np.int64)
    else:
        gp, gn = target_conductances(cm, layer)
        mults = np.full(layer.row_tiles(a), layer.adc_mult, np.int64)
        M, B = layer.req_mult.astype(np.int64), layer.req_bias.astype(np.int64)
    dG = (gp - gn).astype(np.float64)  # (S, in, out)
    lo, hi = cm.adc_limits(layer)
    acc = np.zeros((x.shape[0], layer.out_features), np.int64)
    slices = rules.input_slices(x, a)
    xf = [xs.astype(np.float64) for xs in slices]
    weights = rules.shift_add_weights(a)
    below = above = None
    if saturation is not None:
        below, above = np.zeros(acc.shape, bool), np.zeros(acc.shape, bool)
    uniform = a.uniform_slices
    for b, t, rs, s in rules.mvm_blocks(layer, a):
        S = np.rint(xf[b][:, rs] @ dG[s, rs]).astype(np.int64)
        shift, lo_b, hi_b = layer.adc_shift, lo, hi
        if not uniform:  # this phase's ADC resolution
            shift += rules.slice_adc_drop(a, b)
            lo_b, hi_b = rules.slice_adc_limits(a, b, layer.adc_signed)
        acc += rules.adc_convert(S, mults[t], shift, lo_b, hi_b) * np.int64(weights[b][s])
        if below is not None:
            v = rules.adc_convert(S, mults[t], shift, lo_b - 1, hi_b + 1)  # one code past each limit
            below |= v < lo_b
            above |= v > hi_b
    if saturation is not None:
        saturation.append(tuple(m.reshape(n_samples, -1, layer.out_features).any(1) for m in (below, above)))
    if li == len(cm.layers) - 1:
        out = acc * M + B
    else:
        r = None if skip is None else OPS[layer.kind].skip_rows(layer, np.asarray(skip, np.int64))
        out = finish_np(layer, rules.requant(acc, M, B, layer.req_shift, a.x_max, r, layer.add_mult,
                                             layer.out_signed), n_samples)
    return acc, out, slices
