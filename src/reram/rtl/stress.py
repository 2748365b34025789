"""Stress inputs for co-simulation: input codes that reach the corners of the datapath which dataset samples rarely
reach, co-simulated beside them.

Dataset samples leave much of the RTL unexercised: MNIST's borders are blank (2 of 10,000 test images have a
non-zero code in column 0, so an address-generator fault at a map's edge hides), and ADCs calibrated on the data
saturate rarely (a signed clamp at 128 instead of 127 changed 23 of 197,000 codes). The stress set holds:

* ``zeros`` and ``max``: every input code 0, every input code the DAC's largest;
* ``random``: uniform random codes;
* ``borders`` (a convolutional first layer only): each edge of the input map (top row, bottom row, left column,
  right column, every channel) at the largest code with the rest 0, and a frame of random codes;
* ``adc_clamps``: inputs chosen to saturate ADCs at both ends. Candidates are, for each first-layer output column,
  the input that sets the codes under its positive weights to the largest code and the others to 0 (and the
  reverse; tiled with the kernel's period for a convolution), and random binary inputs of several densities. The
  golden model measures which (layer, column, low or high end) each candidate saturates; a greedy set cover keeps
  the fewest candidates that saturate everything any candidate saturates, up to ``budget``.

:func:`stress_coverage` measures what a set of inputs reaches (the golden model's ADC saturation per layer and
column, and the non-zero edges of every convolution's input map), for the co-simulation's metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reram.golden import golden_forward
from reram.ir.core import CompiledModel
from reram.ir.ops import OPS

EDGES = ("top", "bottom", "left", "right")


@dataclass
class StressSet:
    codes: np.ndarray  # (n, in_size) int64 input codes
    kinds: dict[str, int]  # kind -> how many, in the order of ``codes``

    def __len__(self) -> int:
        return len(self.codes)


def _edge_masks(c: int, h: int, w: int) -> dict[str, np.ndarray]:
    masks = {}
    for e in EDGES:
        m = np.zeros((c, h, w), bool)
        if e == "top":
            m[:, 0, :] = True
        elif e == "bottom":
            m[:, h - 1, :] = True
        elif e == "left":
            m[:, :, 0] = True
        else:
            m[:, :, w - 1] = True
        masks[e] = m
    return masks


def _sign_patterns(cm: CompiledModel) -> np.ndarray:
    """(2 * out, in_size) bool: per first-layer output column, the inputs under its positive weights, then those
    under its negative ones (tiled over the map for a convolution, :meth:`LayerOp.tiled_input`)."""
    layer = cm.layers[0]
    op = OPS[layer.kind]
    w = np.asarray(layer.weight, np.float64)  # (out, in_features)
    rows = np.concatenate([w > 0, w < 0])
    return np.stack([op.tiled_input(layer, r) for r in rows])


def _spatial(layer) -> tuple[int, int, int] | None:
    """The layer's input maps (C, H, W), or None for a flat input."""
    maps = OPS[layer.kind].in_maps(layer)
    return (int(maps[0]), int(maps[1]), int(maps[2])) if len(maps) == 3 else None


def _saturation(cm: CompiledModel, chip, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    sat: list = []
    golden_forward(cm, chip, x, saturation=sat)
    return sat


def stress_inputs(cm: CompiledModel, chip, seed: int = 0, budget: int = 256, n_random: int = 8) -> StressSet:
    """The stress set of a compiled model on a programmed chip (see the module docstring)."""
    rng = np.random.default_rng(seed)
    x_max = int(cm.arch.x_max)
    layer0 = cm.layers[0]
    n_in = layer0.in_size
    parts: list[np.ndarray] = []
    kinds: dict[str, int] = {}

    def add(kind: str, codes: np.ndarray) -> None:
        if len(codes):
            parts.append(np.asarray(codes, np.int64).reshape(len(codes), n_in))
            kinds[kind] = len(codes)

    add("zeros", np.zeros((1, n_in)))
    add("max", np.full((1, n_in), x_max))
    add("random", rng.integers(0, x_max + 1, (n_random, n_in)))
    shape = _spatial(layer0)
    if shape is not None:
        masks = _edge_masks(*shape)
        frame = np.any(list(masks.values()), axis=0)
        edges = [m * x_max for m in masks.values()] + [frame * rng.integers(1, x_max + 1, frame.shape)]
        add("borders", np.stack(edges))
    # ADC saturation at both ends: a greedy cover over candidates
    densities = np.repeat([0.1, 0.25, 0.5, 0.75, 0.9], 16)
    cand = np.concatenate([_sign_patterns(cm), rng.random((len(densities), n_in)) < densities[:, None]]) * x_max
    sat = _saturation(cm, chip, cand.astype(np.int64))
    cover = np.concatenate([m for pair in sat for m in pair], axis=1)  # (candidates, targets)
    todo = cover.any(0)
    chosen: list[int] = []
    while todo.any() and len(chosen) < budget:
        gain = cover[:, todo].sum(1)
        k = int(np.argmax(gain))
        if gain[k] == 0:
            break
        chosen.append(k)
        todo &= ~cover[k]
    add("adc_clamps", cand[chosen])
    return StressSet(codes=np.concatenate(parts), kinds=kinds)


def stress_coverage(cm: CompiledModel, chip, x: np.ndarray) -> dict:
    """What the inputs ``x`` reach (:func:`coverage` of a golden-model pass)."""
    sat: list = []
    g = golden_forward(cm, chip, np.asarray(x, np.int64), saturation=sat)
    return coverage(cm, np.asarray(x), sat, g.layer_outputs)


def coverage(cm: CompiledModel, x: np.ndarray, saturation: list, layer_outputs: list[np.ndarray],
             n: int | None = None) -> dict:
    """What the first ``n`` (default: all) of the inputs ``x`` reach, per layer, from a golden-model pass's
    ``saturation`` and ``layer_outputs``: the fraction of output columns whose ADC saturated low and high in some
    sample (``adc_low``, ``adc_high``), and for a convolution the fraction of its input map's edges (4 per channel)
    holding a non-zero code in some sample (``edges``). A column whose ADC full scale exceeds every partial sum its
    weights can reach never saturates: the fractions are of all columns, not of those that can."""
    n = len(x) if n is None else n
    out: dict[str, dict[str, float]] = {}
    for li, layer in enumerate(cm.layers):
        below, above = saturation[li]
        d = {"adc_low": float(below[:n].any(0).mean()), "adc_high": float(above[:n].any(0).mean())}
        shape = _spatial(layer)
        if shape is not None:
            src = x if layer.src == -1 else layer_outputs[layer.src]
            nz = (np.asarray(src[:n]).reshape(n, *shape) != 0).any(0)
            d["edges"] = float(np.mean([(nz & m).any((1, 2)) for m in _edge_masks(*shape).values()]))
        out[layer.name] = d
    return out
