"""The bit-exact integer reference model of the accelerator's datapath (numpy, int64).

This is the single reference the RTL must match on every output. Semantics are documented in
:mod:`reram.compile.ir`. Integer matrix products are computed in float64, which is exact here: every
partial sum is an integer below 2**53 (rows * max input * max conductance code < 2**31).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reram.compile.datapath import finish_np, patches_np
from reram.compile.ir import CompiledModel, LayerIR


@dataclass
class GoldenResult:
    logits: np.ndarray  # int64 (N, classes)
    layer_outputs: list[np.ndarray]  # per layer: next input codes (hidden) or logits (last), int64
    accs: list[np.ndarray]  # per layer: acc before the activation unit, int64
    events: dict[str, int] = field(default_factory=dict)  # totals over the batch
    layer_events: list[dict[str, int]] = field(default_factory=list)  # per layer, totals over the batch

    @property
    def predictions(self) -> np.ndarray:
        return np.argmax(self.logits, axis=1)


def target_conductances(cm: CompiledModel, layer: LayerIR) -> tuple[np.ndarray, np.ndarray]:
    from reram.analog.program import target_codes

    tp, tn = target_codes(layer, cm.arch)
    return tp.numpy().astype(np.int64), tn.numpy().astype(np.int64)


def rshift_round(v: np.ndarray, sh: int) -> np.ndarray:
    """Round-half-up arithmetic right shift: (v + 2**(sh-1)) >> sh."""
    if sh == 0:
        return v
    return (v + (np.int64(1) << np.int64(sh - 1))) >> np.int64(sh)


def input_slices(x: np.ndarray, cm: CompiledModel) -> list[np.ndarray]:
    """The input slices of codes ``x``: slice ``b`` holds bits ``b*k .. b*k+k-1`` (``k = arch.slice_bits``);
    one slice, the whole code, for multi-level inputs."""
    a = cm.arch
    if a.input_slices == 1:
        return [x]
    k, mask = a.slice_bits, np.int64(a.slice_input_max)
    return [(x >> np.int64(b * k)) & mask for b in range(a.input_slices)]


def layer_forward(cm: CompiledModel, li: int, x: np.ndarray, chip=None,
                  events: dict[str, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One layer: flat input codes (N, in_size) int64 -> (acc (N * positions, out), output codes (N, out_size) or
    logits). Conv layers run one MVM per output position on im2col patches (:mod:`reram.compile.datapath`)."""
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
    N = x.shape[0]
    acc = np.zeros((N, layer.out_features), np.int64)
    R = a.rows
    T = layer.row_tiles(a)
    slices = input_slices(x, cm)
    for b, xs in enumerate(slices):
        xf = xs.astype(np.float64)
        for t in range(T):
            rs = slice(t * R, min((t + 1) * R, layer.in_features))
            for s in range(a.slices):
                S = np.rint(xf[:, rs] @ dG[s, rs]).astype(np.int64)
                code = np.clip(rshift_round(S * mults[t], layer.adc_shift), lo, hi)
                acc += code << np.int64(b * a.slice_bits + a.cell_bits * s)
    y = acc * M + B
    if li == len(cm.layers) - 1:
        out = y
    else:
        out = finish_np(layer, np.clip(rshift_round(y, layer.req_shift), 0, a.x_max), n_samples)
    if events is not None:
        count_events(cm, li, slices, events)
    return acc, out


def count_events(cm: CompiledModel, li: int, slices: list[np.ndarray], ev: dict[str, int]) -> None:
    """Data-dependent event counts of one layer (totals over the batch); the RTL counts the same. ``slices`` are
    the layer's MVM rows (for a conv layer one row per sample and output position, so every count is per
    position)."""
    a = cm.arch
    layer = cm.layers[li]
    T, U = layer.row_tiles(a), layer.col_tiles(a)
    N = slices[0].shape[0]
    n_slices = len(slices)
    active = 0
    pulses = 0
    for xs in slices:
        active += int((xs != 0).sum())
        pulses += int(xs.sum())
    integrating = a.dac_mode == "integrating"

    def add(key: str, v: int) -> None:
        ev[key] = ev.get(key, 0) + v

    # every column tile's array has its own row drivers
    add("dac_row_activations", active * U)
    # unit pulses of integrating inputs (bit b of a slice lasts 2^b steps); one pulse per activation otherwise
    add("dac_pulses", (pulses if integrating else active) * U)
    add("array_reads", N * n_slices * T * U)
    conv = N * n_slices * T * layer.out_features * a.slices
    add("adc_conversions", conv)
    add("shift_adds", conv)
    add("integrator_steps", conv * a.integration_steps)
    add("input_buffer_reads", N * layer.in_features)
    add("output_buffer_writes", N * layer.out_features)
    # feature-map buffer bytes: the gathered row vectors read, the (pooled) outputs of a hidden layer written, and
    # the first layer's input written by the input stream
    code_bytes = -(-a.dac_bits // 8)
    n_samples = N // layer.positions
    written = layer.out_size if li < len(cm.layers) - 1 else 0
    if li == 0:
        written += layer.in_size
    add("feature_buffer_bytes", (N * layer.in_features + n_samples * written) * code_bytes)
    add("macs", N * layer.in_features * layer.out_features)


def golden_forward(cm: CompiledModel, chip, x_codes: np.ndarray, stop_after: int | None = None,
                   collect_events: bool = False) -> GoldenResult:
    """Run input pixel codes (N, pixels) through the integer datapath of a programmed chip (or the targets)."""
    h = np.asarray(x_codes, dtype=np.int64)
    outs, accs = [], []
    events: dict[str, int] = {}
    per_layer: list[dict[str, int]] = []
    last = len(cm.layers) - 1 if stop_after is None else stop_after
    for li in range(last + 1):
        ev: dict[str, int] = {}
        acc, h = layer_forward(cm, li, h, chip, ev if collect_events else None)
        for k, v in ev.items():
            events[k] = events.get(k, 0) + v
        per_layer.append(ev)
        accs.append(acc)
        outs.append(h)
    return GoldenResult(logits=outs[-1], layer_outputs=outs, accs=accs, events=events,
                        layer_events=per_layer if collect_events else [])


def pixel_codes(cm: CompiledModel, x01: np.ndarray) -> np.ndarray:
    """Images in [0, 1] (or uint8 pixels) -> first-layer DAC codes, as the engine computes them."""
    x = np.asarray(x01)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    x = x.reshape(x.shape[0], -1).astype(np.float32)
    scale = np.float32(cm.layers[0].in_scale)
    return np.clip(np.floor(x / scale + np.float32(0.5)), 0, cm.arch.x_max).astype(np.int64)
