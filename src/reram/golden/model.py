"""The bit-exact integer reference model of the accelerator's datapath (numpy, int64).

This is the single reference the RTL must match on every output: the integer datapath of :mod:`reram.ir.integer`
(itself the rules of :mod:`reram.ir.rules`) run layer by layer, with the data-dependent event counts that the RTL's
counters count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reram.ir import integer
from reram.ir.core import CompiledModel
from reram.ir.integer import pixel_codes, target_conductances

__all__ = ["GoldenResult", "count_events", "golden_forward", "layer_forward", "pixel_codes", "target_conductances"]


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


def layer_forward(cm: CompiledModel, li: int, x: np.ndarray, chip=None,
                  events: dict[str, int] | None = None,
                  skip: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One layer (:func:`reram.ir.integer.layer_forward`): flat input codes (N, in_size) int64 -> (acc (N *
    positions, out), output codes (N, out_size) or logits), counting its events into ``events`` if given."""
    acc, out, slices = integer.layer_forward(cm, li, x, chip, skip)
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
    for xs in slices:  # signed inputs (sign-magnitude): a negative code's pulses are its magnitude's
        active += int((xs != 0).sum())
        pulses += int(np.abs(xs).sum())
    integrating = a.dac_mode == "integrating"

    def add(key: str, v: int) -> None:
        ev[key] = ev.get(key, 0) + v

    # every column tile's array has its own row drivers. An activation is an input driven at a non-zero level (the
    # RTL's count); its pulses drive two physical rows (opposite polarities) with differential rows.
    rpi = a.rows_per_input
    add("dac_row_activations", active * U)
    # physical row pulses: the unit pulses of integrating inputs (bit b of a slice lasts 2^b steps), one pulse per
    # activation otherwise
    add("dac_pulses", (pulses if integrating else active) * U * rpi)
    add("array_reads", N * n_slices * T * U)
    # input bits read per input (every bit of an integrating phase has its own wordline pulse and column sample;
    # one read per slice otherwise)
    bits_read = a.dac_bits if integrating else n_slices
    # every used row's wordline switches once per input bit read, in every column tile's array
    add("wordline_pulses", N * bits_read * layer.in_features * rpi * U)
    per_slice = N * T * layer.out_features * a.slices  # conversions of one input slice
    add("adc_conversions", per_slice * n_slices)
    add("bit_samples", per_slice * bits_read)
    add("shift_adds", per_slice * n_slices)
    add("integrator_steps", per_slice * sum(a.slice_steps))
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
    if layer.add_src is not None:
        # the residual add: one per output value before pooling; its operand held in the skip buffer from when its
        # source wrote it until this layer reads it (written once, read once)
        add("residual_adds", N * layer.out_features)
        add("skip_buffer_bytes", 2 * N * layer.out_features * code_bytes)


def golden_forward(cm: CompiledModel, chip, x_codes: np.ndarray, stop_after: int | None = None,
                   collect_events: bool = False, saturation: list | None = None) -> GoldenResult:
    """Run input pixel codes (N, pixels) through the integer datapath of a programmed chip (or the targets).
    ``saturation`` collects each layer's ADC saturation per sample and column (:func:`reram.ir.integer.forward`)."""
    outs, accs = [], []
    events: dict[str, int] = {}
    per_layer: list[dict[str, int]] = []

    def each(li: int, acc: np.ndarray, out: np.ndarray, slices: list[np.ndarray]) -> None:
        ev: dict[str, int] = {}
        if collect_events:
            count_events(cm, li, slices, ev)
        for k, v in ev.items():
            events[k] = events.get(k, 0) + v
        per_layer.append(ev)
        accs.append(acc)
        outs.append(out)

    integer.forward(cm, x_codes, chip, stop_after, each, saturation)
    return GoldenResult(logits=outs[-1], layer_outputs=outs, accs=accs, events=events,
                        layer_events=per_layer if collect_events else [])
