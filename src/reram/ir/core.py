"""The typed intermediate representation (IR) of a compiled accelerator.

Every stage after compilation reads only this: the analog engine, the bit-exact golden model, the RTL
images and the energy model. Saved as ``ir.json`` (scalars, format version) plus ``ir.npz`` (arrays),
no pickle.

Numeric contract of one layer (all integers, see :mod:`reram.golden`):

* inputs are DAC codes ``x`` in ``[0, 2**dac_bits - 1]``, standing for ``in_scale * x``;
* weight codes ``q`` in ``[-(L**S - 1), L**S - 1]`` (L levels per cell, S slices) split into per-slice
  digits, each a differential pair ``G+ - G-`` of ``digit * 2**grid_sub_bits`` integer grid steps;
* per row tile, input slice and weight slice the ADC converts ``S = sum_i x_i (g+_i - g-_i)`` into
  ``clamp((S * adc_mult + 2**(adc_shift-1)) >> adc_shift, adc_lo, adc_hi)``;
* codes are shift-added over input bits and weight slices and summed over row tiles into ``acc``;
* the activation unit computes ``(acc * req_mult + req_bias + 2**(req_shift-1)) >> req_shift``, clamped to
  ``[0, 2**dac_bits - 1]`` (ReLU and requantization) for hidden layers; the last layer's
  ``acc * req_mult + req_bias`` are the logits.

Layer kinds (``LayerIR.kind``): ``dense`` (one MVM per input) and ``conv2d`` (im2col: every output position is one
MVM of the layer's arrays over the ``C_in * k_h * k_w`` patch; rows of ``in_features`` in C-major order, zero
padding is input code 0). A layer may end with a digital pooling op on its output codes (``pool``): ``max`` (the
largest code) or ``avg`` (``floor(sum / k + 1/2)`` over the ``k = k_h * k_w`` window, zero padding counted, i.e.
round half up of the mean). Between layers, features are flat in C, H, W order (``torch.flatten``).
:mod:`reram.ir.ops` implements these shapes once for the golden model, the engine and the passes.

The layers form a graph (format version 3), listed in an order where every layer comes after the layers it reads:

* ``src``: the layer whose output codes are this layer's input (``-1``: the model's input pixel codes); a chain has
  ``src = i - 1`` everywhere;
* ``add_src``: a residual add (``None``: none) -- the output codes ``r`` of layer ``add_src`` (at that layer's
  ``next_scale``) are added in the activation unit, aligned by the integer ``add_mult``:
  ``(acc * req_mult + req_bias + r * add_mult + 2**(req_shift-1)) >> req_shift``, one rounding (half up), then the
  clamp (the ReLU after the add) and the pooling. ``r`` has the shape of this layer's output before pooling;
* ``out_signed``: the output codes are clamped to ``[-(2**dac_bits - 1), 2**dac_bits - 1]`` rather than ReLU'd: a
  layer without ReLU whose output only feeds residual adds (a projection shortcut);
* global average pooling is an ``avg`` pool whose window is the whole map.

Every layer's ``next_scale`` is the float value of one of its output codes, shared by all its readers: a layer's
``in_scale`` equals its ``src``'s ``next_scale``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from reram.errors import IRError
from reram.fsutil import atomic_save_npz, atomic_write_json, read_npz

from .layout import ArrayLayout
from .ops import OPS, POOLS
from .rules import REQ_MULT_MAX, adc_limits, round_half_up

IR_FORMAT_VERSION = 3


@dataclass
class ArchParams:
    """Architecture parameters the compiled model was built for."""

    rows: int = 128
    cols: int = 128
    cell_bits: int = 4
    slices: int = 1
    grid_sub_bits: int = 8
    g_min: float = 5e-6
    g_max: float = 50e-6
    dac_bits: int = 8
    dac_mode: str = "multilevel"  # "multilevel", "bit_serial" or "integrating"
    dac_phases: int = 1  # integrating inputs: input phases, each integrated then converted once
    adc_bits: int = 8
    v_read: float = 0.2
    differential: str = "columns"  # a weight's two cells in adjacent "columns" or adjacent "rows"
    # integrating inputs: the bits of each phase, most significant first (empty: dac_phases even phases), and each
    # phase's ADC resolution, most significant first (empty: adc_bits for every phase)
    phase_bits: tuple[int, ...] = ()
    adc_phase_bits: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        self.phase_bits = tuple(int(b) for b in self.phase_bits)
        self.adc_phase_bits = tuple(int(b) for b in self.adc_phase_bits)

    @property
    def levels(self) -> int:
        return 2**self.cell_bits

    @property
    def q_max(self) -> int:
        """Largest weight-code magnitude: L**S - 1."""
        return self.levels**self.slices - 1

    @property
    def tile_rows(self) -> int:
        """Inputs per array: every row, or half of them when a weight's two cells sit on two rows."""
        return self.rows // 2 if self.differential == "rows" else self.rows

    @property
    def pairs_per_array(self) -> int:
        """Signed weight columns (outputs x weight slices) per array: column pairs, or every column when a
        weight's two cells sit on two rows."""
        return self.cols if self.differential == "rows" else self.cols // 2

    @property
    def rows_per_input(self) -> int:
        """Physical rows (drivers, wordlines) per input: 2 when a weight's two cells sit on two rows."""
        return 2 if self.differential == "rows" else 1

    @property
    def g_lsb(self) -> float:
        """Conductance of one integer grid step in S."""
        return (self.g_max - self.g_min) / (self.levels - 1) / 2**self.grid_sub_bits

    @property
    def gmin_code(self) -> int:
        return round_half_up(self.g_min / self.g_lsb)

    @property
    def gmax_code(self) -> int:
        return self.gmin_code + (self.levels - 1) * 2**self.grid_sub_bits

    @property
    def x_max(self) -> int:
        return 2**self.dac_bits - 1

    @property
    def slice_widths(self) -> tuple[int, ...]:
        """Input bits of each input slice, least significant first: all of them for a multi-level DAC, one per
        bit-serial read, each integrating phase's (``phase_bits`` reversed, or ``dac_bits / dac_phases`` each)."""
        if self.dac_mode == "bit_serial":
            return (1,) * self.dac_bits
        if self.dac_mode == "integrating":
            if self.phase_bits:
                return tuple(reversed(self.phase_bits))
            k = -(-self.dac_bits // self.dac_phases)
            return (k,) * -(-self.dac_bits // k)
        return (self.dac_bits,)

    @property
    def slice_offsets(self) -> tuple[int, ...]:
        """The bit position of each input slice's least significant bit."""
        w = self.slice_widths
        return tuple(sum(w[:b]) for b in range(len(w)))

    @property
    def slice_adc_bits(self) -> tuple[int, ...]:
        """The ADC resolution of each input slice, least significant first."""
        if self.adc_phase_bits:
            return tuple(reversed(self.adc_phase_bits))
        return (self.adc_bits,) * self.input_slices

    @property
    def uniform_slices(self) -> bool:
        """Every input slice has the same bits and ADC resolution (what the RTL implements)."""
        return len(set(self.slice_widths)) == 1 and len(set(self.slice_adc_bits)) == 1 \
            and self.slice_adc_bits[0] == self.adc_bits

    @property
    def slice_bits(self) -> int:
        """Input bits per array read sequence ending in one conversion (an input slice): all of them for a
        multi-level DAC, one for bit-serial reads, ``dac_bits / dac_phases`` for integrating inputs (the widest
        phase with ``phase_bits``)."""
        return max(self.slice_widths)

    @property
    def input_slices(self) -> int:
        """Input slices per input code: each is read and converted separately, then shift-added."""
        return len(self.slice_widths)

    @property
    def slice_input_max(self) -> int:
        return 2**self.slice_bits - 1

    @property
    def slice_steps(self) -> tuple[int, ...]:
        """Integrating inputs: unit pulses integrated in each input slice (2^bits - 1: bit b drives 2^b of them);
        zeros for the other modes."""
        if self.dac_mode != "integrating":
            return (0,) * self.input_slices
        return tuple(2**w - 1 for w in self.slice_widths)

    @property
    def integration_steps(self) -> int:
        """Integrating inputs: unit pulses of the longest input slice (the array read it takes); 0 for the other
        modes."""
        return max(self.slice_steps)


@dataclass
class LayerIR:
    """One crossbar layer. Arrays are numpy; shapes are (out, in) for weights and (out,) per column."""

    name: str
    in_features: int
    out_features: int
    relu: bool
    weight: np.ndarray  # float32 (out, in): folded float weights
    bias: np.ndarray  # float32 (out,): folded float bias, applied digitally
    w_max: float = 0.0  # weight magnitude mapped to the largest code
    # per-column weight scale c >= 1 (out,): column o's weights are mapped as ``weight * c`` (so that its largest
    # reaches w_max) and the activation unit divides by c again (:func:`reram.ir.rules.requant_ints`); all ones:
    # one scale per layer
    col_scale: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    in_scale: float = 1.0  # float value of one input code
    out_scale: float = 1.0  # float value of one unit of acc (before gain)
    adc_range: float = 1.0  # pre-ADC |S| mapped to full scale
    adc_signed: bool = True
    adc_mult: int = 1
    adc_shift: int = 0
    gain: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # per-column calibration gain
    offset: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # per-column offset (float)
    next_scale: float = 1.0  # float value of one output code (next layer's in_scale, or logit unit)
    req_mult: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    req_bias: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    req_shift: int = 0
    weight_codes: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int32))  # (out, in)
    kind: str = "dense"  # "dense" or "conv2d"
    # conv2d geometry: in_shape [C, H, W], kernel [kh, kw], stride [sh, sw], padding [ph, pw], out_hw [Ho, Wo]
    conv: dict[str, list[int]] | None = None
    # digital pooling of the output codes: kind "max" | "avg", kernel, stride, padding ([h, w] each)
    pool: dict[str, Any] | None = None
    src: int = -2  # the layer whose output is this layer's input (-1: the model input; -2: the previous one)
    add_src: int | None = None  # residual add of this layer's output codes (see the module docstring)
    add_mult: int = 0  # the add's integer multiplier (units of 2^-req_shift of this layer's output code)
    out_signed: bool = False  # signed output codes (a projection shortcut's, read only by adds)

    ARRAYS = ("weight", "bias", "gain", "offset", "req_mult", "req_bias", "weight_codes", "col_scale")
    OPTIONAL = ("col_scale",)  # absent in files written before it: one weight scale per layer (all ones)

    @property
    def col_scales(self) -> np.ndarray:
        """The per-column weight scale (all ones when the layer has one scale, or none was set)."""
        if self.col_scale.size == self.out_features:
            return self.col_scale
        return np.ones(self.out_features, np.float64)

    @property
    def positions(self) -> int:
        """Output positions: MVMs of this layer's arrays per input sample (1 for dense)."""
        return OPS[self.kind].positions(self)

    @property
    def in_size(self) -> int:
        """Flat input features per sample (the previous layer's out_size)."""
        return OPS[self.kind].in_size(self)

    @property
    def out_maps(self) -> tuple[int, ...]:
        """Output shape per sample before flattening: (C, H, W) after pooling, or (out,) for dense."""
        return OPS[self.kind].out_maps(self)

    @property
    def out_size(self) -> int:
        return int(np.prod(self.out_maps))

    @property
    def macs(self) -> int:
        """Multiply-accumulates per sample."""
        return self.in_features * self.out_features * self.positions

    def layout(self, arch: ArchParams) -> ArrayLayout:
        """Where this layer's cells sit in its arrays (:mod:`reram.ir.layout`)."""
        return ArrayLayout.of(self, arch)

    def row_tiles(self, arch: ArchParams) -> int:
        return self.layout(arch).row_tiles

    def col_tiles(self, arch: ArchParams) -> int:
        return self.layout(arch).col_tiles


@dataclass
class CompiledModel:
    arch: ArchParams
    layers: list[LayerIR]
    passes: list[str] = field(default_factory=list)
    flow: str = "default"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, layer in enumerate(self.layers):
            if layer.src == -2:
                layer.src = i - 1

    # ---------------- the graph
    def readers(self, i: int) -> list[int]:
        """The layers whose crossbars read layer ``i``'s output codes (``i = -1``: the model input)."""
        return [j for j, layer in enumerate(self.layers) if layer.src == i]

    def adders(self, i: int) -> list[int]:
        """The layers that add layer ``i``'s output codes in their activation unit."""
        return [j for j, layer in enumerate(self.layers) if layer.add_src == i]

    @property
    def is_chain(self) -> bool:
        """Each layer reads the one before it, and nothing is added: the graph is a chain."""
        return all(layer.src == i - 1 and layer.add_src is None for i, layer in enumerate(self.layers))

    def walk(self, x: Any, step: Any, stop_after: int | None = None) -> Any:
        """Run the graph: ``step(i, input, skip)`` -> layer ``i``'s output, where ``input`` is its ``src``'s output
        (``x`` for -1) and ``skip`` its ``add_src``'s (or None). Each output is kept only while a later layer (up to
        ``stop_after``) still reads it; returns the output of ``stop_after`` (default: the last layer)."""
        last = len(self.layers) - 1 if stop_after is None else stop_after
        uses: dict[int, int] = {}
        for layer in self.layers[: last + 1]:
            for j in (layer.src, layer.add_src):
                if j is not None:
                    uses[j] = uses.get(j, 0) + 1
        outs: dict[int, Any] = {-1: x}
        for i, layer in enumerate(self.layers[: last + 1]):
            h = outs[layer.src]
            skip = outs[layer.add_src] if layer.add_src is not None else None
            outs[i] = step(i, h, skip)
            for j in (layer.src, layer.add_src):
                if j is not None:
                    uses[j] -= 1
                    if uses[j] == 0 and j != last:
                        del outs[j]
        return outs[last]

    def adc_limits(self, layer: LayerIR) -> tuple[int, int]:
        return adc_limits(self.arch.adc_bits, layer.adc_signed)

    def total_arrays(self) -> int:
        return sum(layer.row_tiles(self.arch) * layer.col_tiles(self.arch) for layer in self.layers)

    # ---------------- persistence ----------------
    def save(self, folder: Path) -> None:
        folder = Path(folder)
        arrays: dict[str, np.ndarray] = {}
        layers_json = []
        for i, layer in enumerate(self.layers):
            d: dict[str, Any] = {}
            for f in fields(LayerIR):
                v = getattr(layer, f.name)
                if f.name in LayerIR.ARRAYS:
                    arrays[f"l{i}.{f.name}"] = np.ascontiguousarray(v)
                else:
                    d[f.name] = v
            layers_json.append(d)
        doc = {
            "format": "reram-ir",
            "version": IR_FORMAT_VERSION,
            "flow": self.flow,
            "passes": self.passes,
            "arch": asdict(self.arch),
            "layers": layers_json,
            "meta": self.meta,
        }
        atomic_save_npz(folder / "ir.npz", arrays)
        atomic_write_json(folder / "ir.json", doc)

    @classmethod
    def load(cls, folder: Path) -> CompiledModel:
        folder = Path(folder)
        jpath, npath = folder / "ir.json", folder / "ir.npz"
        try:
            doc = json.loads(jpath.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IRError(f"{jpath} is missing: run the 'compile' stage") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise IRError(f"{jpath}: corrupt IR file ({e}); re-run the 'compile' stage") from None
        if not isinstance(doc, dict) or doc.get("format") != "reram-ir":
            raise IRError(f"{jpath}: not a reram IR file")
        if doc.get("version") != IR_FORMAT_VERSION:
            raise IRError(f"{jpath}: IR format version {doc.get('version')!r}, this reram reads {IR_FORMAT_VERSION}; "
                      "re-run the 'compile' stage (reram run --resume NAME --stages compile,...)")
        arrays = read_npz(npath, IRError, "IR arrays", "re-run the 'compile' stage")
        try:
            arch = ArchParams(**doc["arch"])
            layers = []
            for i, d in enumerate(doc["layers"]):
                kw = dict(d)
                for name in LayerIR.ARRAYS:
                    key = f"l{i}.{name}"
                    if key in arrays:
                        kw[name] = arrays[key]
                    elif name not in LayerIR.OPTIONAL:
                        raise IRError(f"{npath}: array {key} is missing")
                layer = LayerIR(**kw)
                _check_layer(layer, npath)
                layers.append(layer)
            model = cls(arch=arch, layers=layers, passes=list(doc["passes"]), flow=str(doc["flow"]),
                        meta=dict(doc.get("meta", {})))
        except IRError:
            raise
        except (KeyError, TypeError, ValueError) as e:
            raise IRError(f"{jpath}: malformed IR ({type(e).__name__}: {e}); re-run the 'compile' stage") from None
        problem = check_graph(model)
        if problem:
            raise IRError(f"{jpath}: {problem}")
        return model


def check_graph(cm: CompiledModel) -> str | None:
    """What is wrong with the layer graph (order, shapes, adds, signed outputs), or None."""
    layers = cm.layers
    for i, b in enumerate(layers):
        for what, j in (("reads", b.src), ("adds", b.add_src)):
            if j is None and what == "adds":
                continue
            if not isinstance(j, int) or isinstance(j, bool) or not -1 <= j < i or (what == "adds" and j < 0):
                return f"layer {b.name} {what} {j!r}: not an earlier layer"
        if not isinstance(b.out_signed, bool) or not isinstance(b.add_mult, int) or isinstance(b.add_mult, bool):
            return f"layer {b.name} has a malformed out_signed {b.out_signed!r} or add_mult {b.add_mult!r}"
        if b.src >= 0 and layers[b.src].out_signed:
            return f"layer {b.name} reads the signed outputs of {layers[b.src].name} (DAC codes are unsigned)"
        if b.src >= 0 and layers[b.src].out_size != b.in_size:
            a = layers[b.src]
            return f"layer {a.name} has {a.out_size} outputs, {b.name} {b.in_size} inputs"
        if b.add_src is not None:
            r = layers[b.add_src]
            pre = OPS[b.kind].pre_maps(b)
            if tuple(r.out_maps) != tuple(pre):
                return f"layer {b.name} adds {r.name}'s outputs of shape {tuple(r.out_maps)} to its own {tuple(pre)}"
        if b.add_src is not None and not 0 <= b.add_mult <= REQ_MULT_MAX:
            return f"layer {b.name} has an add_mult {b.add_mult} outside 0..{REQ_MULT_MAX}"
        if b.add_src is not None and i == len(layers) - 1:
            return f"the last layer {b.name} (the logits) has a residual add"
        if b.out_signed and (i == len(layers) - 1 or b.relu or b.pool is not None):
            return f"layer {b.name} has signed outputs but is the last layer, or ReLUs or pools them"
    if layers and any(j == len(layers) - 1 for layer in layers for j in (layer.src, layer.add_src)):
        return f"the last layer {layers[-1].name} (the logits) is read by another layer"
    return None


def _check_layer(layer: LayerIR, where: Path) -> None:
    problem = OPS[layer.kind].check(layer) if layer.kind in OPS else f"an unknown kind {layer.kind!r}"
    if problem:
        raise IRError(f"{where}: layer {layer.name} has {problem}")
    if layer.pool is not None:
        p = layer.pool
        try:
            ok = OPS[layer.kind].spatial and p["kind"] in POOLS and all(
                len(p[k]) == 2 and all(isinstance(v, int) and v >= lo for v in p[k])
                for k, lo in (("kernel", 1), ("stride", 1), ("padding", 0)))
            ok = ok and min(layer.out_maps[1:]) >= 1
        except (KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            raise IRError(f"{where}: layer {layer.name} has a malformed pool {p!r}")
    o, i = layer.out_features, layer.in_features
    expect = {
        "weight": (o, i), "bias": (o,), "gain": (o,), "offset": (o,), "req_mult": (o,), "req_bias": (o,),
        "weight_codes": (o, i),
    }
    if layer.col_scale.size:  # an empty one is the per-layer scale
        expect["col_scale"] = (o,)
    for name, shape in expect.items():
        arr = getattr(layer, name)
        if not isinstance(arr, np.ndarray) or arr.shape != shape:
            got = getattr(arr, "shape", type(arr).__name__)
            raise IRError(f"{where}: layer {layer.name} array '{name}' has shape {got}, expected {shape}")
        if arr.dtype.kind not in "fiu":
            raise IRError(f"{where}: layer {layer.name} array '{name}' has dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise IRError(f"{where}: layer {layer.name} array '{name}' holds NaN or infinity")
    if layer.col_scale.size and float(layer.col_scale.min()) < 1.0:
        raise IRError(f"{where}: layer {layer.name} has a column weight scale below 1")
    limits = {"adc_mult": (1, 2**20 - 1), "adc_shift": (0, 62), "req_shift": (0, 62)}
    for name, (lo, hi) in limits.items():
        v = getattr(layer, name)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise IRError(f"{where}: layer {layer.name} {name}={v!r} is not an integer in [{lo}, {hi}]")
