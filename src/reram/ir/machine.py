"""The machine description: one typed object derived from the compiled IR and the configuration.

It says what the spatial accelerator is made of -- arrays per layer (every row and column tile of a layer is its own
array, all programmed once), ADC lanes per array, activation lanes, the double-buffered feature maps between the
layers and their sizes, the clock -- and how long it takes. The RTL header (:mod:`reram.rtl.params`), the analytic
cycle model (:meth:`Machine.schedule`), the area and the latency of the energy report all read this object, so they
describe one machine.

Timing (the RTL's ``reram_layer_ctrl.v`` sequences exactly this):

* every layer has its own controller and works on one inference at a time; per output position (1 for a dense
  layer) it latches the position's im2col row vector into the DACs of all its arrays (1 cycle for the first
  position; the later ones are latched during the previous position's last activation step), reads its arrays
  group by group (all at once by default) and input slice by input slice -- ``ARRAY_LAT`` cycles for the read
  (``rtl.array_latency``, plus one cycle per unit pulse of integrating inputs), then
  ``rounds x ADC_LAT`` cycles in which every array's ADC lanes convert its columns -- drains the ADC pipeline
  (1 cycle) and runs the activation lanes over the outputs (``ceil(out / act_lanes)`` cycles); then 1 cycle commits
  its output buffer and releases its input buffer;
* the layers form a pipeline over double-buffered feature maps: a layer starts an inference one cycle after it sees
  its input bank full and its output bank free (``go``), so inference i+1 runs in layer 1 while inference i runs in
  layer 2;
* the input streamer takes ``ceil(in / input_codes_per_cycle)`` cycles per image; the host reads the logits the
  cycle the last layer's bank shows full and frees it in that cycle.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

from reram.errors import CompileError
from reram.ir.core import CompiledModel
from reram.ir.ops import OPS
from reram.ir.rules import ADC_MULT_W

POOL_CODES = {None: 0, "max": 1, "avg": 2}

# the timing figures the machine description assumes (cited nowhere: the configuration sets them)
ASSUMPTIONS = {
    "clock_hz": "assumed clock (rtl.clock_hz), not a measured or cited figure",
    "array_latency": "assumed array read latency in cycles (rtl.array_latency), not cited",
    "adc_latency": "assumed ADC conversion latency in cycles (rtl.adc_latency), not cited",
}


def _clog2(n: int) -> int:
    return max(1, math.ceil(math.log2(max(n, 2))))


@dataclass(frozen=True)
class LayerMachine:
    """One layer of the spatial accelerator."""

    name: str
    kind: str  # "dense" | "conv2d"
    in_features: int  # MVM rows used (C * kh * kw for conv)
    out_features: int  # outputs (channels for conv)
    in_size: int  # words of one input-buffer bank (flat input features per sample)
    out_size: int  # flat output features per sample (after pooling)
    positions: int  # output positions per sample (1 for dense)
    row_tiles: int
    col_tiles: int
    cols: tuple[int, ...]  # columns used in each column tile
    groups: int  # array groups read one after the other (1: all arrays at once)
    rounds: int  # ADC rounds per array read: ceil(columns of the widest array / ADC lanes)
    act_steps: int  # activation-unit cycles per position: ceil(out / act_lanes)
    in_bw: int  # input-buffer word width (bits; wider than the code when the previous layer average-pools)
    acc_w: int  # column-accumulator width (bits)
    conv: dict[str, list[int]] | None = None
    pool: dict | None = None
    skip_bits: int = 0  # skip buffer (residual add): two banks of the added operand's codes (signed: one bit more)
    src: int = -1  # the layer whose outputs it reads (-1: the input stream)
    add_src: int | None = None  # the layer whose outputs its residual add adds (None: no add)
    out_signed: bool = False  # signed output codes (read only by residual adds)
    out_bw: int = 0  # output word width in its readers' buffers (bits; 64: the logits)
    cycles: int = 0  # cycles per inference: LATCH .. FIN

    @property
    def arrays(self) -> int:
        return self.row_tiles * self.col_tiles

    @property
    def nc(self) -> int:
        return sum(self.cols)


@dataclass(frozen=True)
class Machine:
    """The spatial accelerator of one compiled model (see the module docstring for its timing)."""

    rows: int
    pairs: int
    n_adc: int  # ADC lanes per array
    adc_lat: int
    array_lat: int
    xw: int  # DAC / input-code bits
    slice_bits: int  # input bits per input slice (xw: multi-level, 1: bit-serial, xw / phases: integrating)
    n_insl: int  # input slices per array read sequence
    adc_bits: int
    cell_bits: int
    slices: int
    gw: int  # conductance code width
    sw: int  # signed column-sum width
    mw: int  # ADC multiplier width (reram.ir.rules.ADC_MULT_W)
    act_lanes: int
    array_group: int  # arrays read at once per layer (0: all)
    in_codes: int  # input codes per cycle of the input stream port
    clock_hz: float
    layers: tuple[LayerMachine, ...] = field(default_factory=tuple)

    # ------------------------------------------------------------------ derived facts
    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def in_beats(self) -> int:
        """Input-stream cycles per image."""
        return -(-self.layers[0].in_size // self.in_codes)

    @property
    def total_arrays(self) -> int:
        return sum(ly.arrays for ly in self.layers)

    @property
    def total_adcs(self) -> int:
        return self.total_arrays * self.n_adc

    @property
    def buffer_bits(self) -> int:
        """Feature-buffer bits: two banks per layer input and per residual add's operand (the skip buffer), plus the
        two 64-bit logit banks."""
        return sum(2 * ly.in_size * ly.in_bw + ly.skip_bits for ly in self.layers) + \
            2 * self.layers[-1].out_features * 64

    @property
    def layer_gbase(self) -> tuple[int, ...]:
        out, base = [], 0
        for ly in self.layers:
            out.append(base)
            base += ly.row_tiles * ly.nc * self.rows
        return tuple(out)

    @property
    def gdepth(self) -> int:
        return sum(ly.row_tiles * ly.nc * self.rows for ly in self.layers)

    @property
    def layer_tbase(self) -> tuple[int, ...]:
        return tuple(sum(ly.row_tiles for ly in self.layers[:i]) for i in range(self.n_layers))

    @property
    def layer_cbase(self) -> tuple[int, ...]:
        return tuple(sum(ly.out_features for ly in self.layers[:i]) for i in range(self.n_layers))

    # ------------------------------------------------------------------ timing
    def schedule(self, n: int) -> list[int]:
        """The cycle (counted from the first input beat of a batch entering an idle pipeline) at which the host
        sees each of ``n`` inferences' logits. Mirrors the RTL's handshakes exactly (see the module docstring)."""
        L = self.n_layers
        nb = self.in_beats
        readers = self.readers
        a = [0] * n  # first input beat
        fin = [[0] * n for _ in range(L)]  # FIN cycle of each layer
        host = [0] * n  # cycle the host sees the logits (and frees the bank in the same cycle)
        for i in range(n):
            # the input streamer writes bank i % 2 of layer 0's buffer once layer 0 has released it (inference i-2)
            a[i] = max(a[i - 1] + nb if i else 0, fin[0][i - 2] + 1 if i >= 2 else 0)
            for li, ly in enumerate(self.layers):  # topological order: every source before its readers
                # the input bank (and the skip bank of a residual add) full: the cycle after its source's FIN
                ready_in = a[i] + nb if ly.src < 0 else fin[ly.src][i] + 1
                if ly.add_src is not None:
                    ready_in = max(ready_in, fin[ly.add_src][i] + 1)
                # the bank it writes free in every reader: the cycle after each reader's FIN of inference i-2
                if li < L - 1:
                    free_out = max((fin[r][i - 2] + 1 for r in readers[li]), default=0) if i >= 2 else 0
                else:
                    free_out = host[i - 2] + 1 if i >= 2 else 0
                idle = fin[li][i - 1] + 1 if i else 0
                start = max(idle, ready_in, free_out) + 1  # the LATCH cycle
                fin[li][i] = start + ly.cycles - 1
            # the logit bank shows full one cycle after FIN (the argmax settles), i.e. two cycles after it
            host[i] = max(fin[L - 1][i] + 2, host[i - 1] + 1 if i else 0)
        return host

    @property
    def readers(self) -> list[list[int]]:
        """Per layer, the layers that read its outputs (into their input or skip buffers)."""
        out: list[list[int]] = [[] for _ in self.layers]
        for r, ly in enumerate(self.layers):
            for j in {ly.src, ly.add_src}:
                if j is not None and j >= 0:
                    out[j].append(r)
        return out

    @property
    def latency_cycles(self) -> int:
        """Cycles from an image's first input beat to its logits, through an idle pipeline."""
        return self.schedule(1)[0]

    @property
    def ii_cycles(self) -> int:
        """Initiation interval: cycles between consecutive inferences of a long stream (steady state)."""
        h = self.schedule(8)
        return h[-1] - h[-2]

    @property
    def stage_cycles(self) -> dict[str, int]:
        """Cycles each pipeline stage is busy per inference (the input stream, then the layers)."""
        return {"input": self.in_beats, **{ly.name: ly.cycles for ly in self.layers}}

    def to_dict(self) -> dict:
        d = asdict(self)
        d["layers"] = [asdict(ly) | {"arrays": ly.arrays} for ly in self.layers]
        d |= {"latency_cycles": self.latency_cycles, "ii_cycles": self.ii_cycles, "total_arrays": self.total_arrays,
              "total_adcs": self.total_adcs, "buffer_bits": self.buffer_bits, "in_beats": self.in_beats}
        return d


def layer_cycles(ly: LayerMachine, m: Machine) -> int:
    """Cycles of one inference in one layer, LATCH through FIN (``reram_layer_ctrl.v``)."""
    read = m.array_lat + ly.rounds * m.adc_lat
    # one LATCH cycle; later positions latch during the previous position's last activation step
    return 1 + ly.positions * (ly.groups * m.n_insl * read + 1 + ly.act_steps) + 1


def machine(cm: CompiledModel, rcfg) -> Machine:
    """The machine of a compiled model under the ``[rtl]`` configuration (``rcfg``)."""
    a = cm.arch
    pairs = a.pairs_per_array
    n_adc = min(rcfg.adcs_per_array, pairs)
    gw = max(1, math.ceil(math.log2(a.gmax_code + 1)))
    xs = a.slice_input_max
    sw = 2 + math.ceil(math.log2(a.tile_rows * max(xs, 1) * (a.gmax_code + 1) + 1))
    act_lanes = rcfg.act_lanes
    # integrating inputs: the read of one input slice lasts its unit pulses, one clock cycle each (an assumption)
    array_lat = rcfg.array_latency + a.integration_steps
    base = Machine(rows=a.tile_rows, pairs=pairs, n_adc=n_adc, adc_lat=rcfg.adc_latency, array_lat=array_lat,
                   xw=a.dac_bits, slice_bits=a.slice_bits, n_insl=a.input_slices,
                   adc_bits=a.adc_bits, cell_bits=a.cell_bits, slices=a.slices, gw=gw, sw=sw, mw=ADC_MULT_W,
                   act_lanes=act_lanes, array_group=rcfg.array_group, in_codes=rcfg.input_codes_per_cycle,
                   clock_hz=rcfg.clock_hz)
    layers = []
    for layer in cm.layers:
        lay = layer.layout(a)
        T, U, cols = lay.row_tiles, lay.col_tiles, lay.tile_pairs()
        arrays = T * U
        group = arrays if rcfg.array_group in (0, None) else min(rcfg.array_group, arrays)
        groups = -(-arrays // group)
        rounds = -(-max(cols) // n_adc)
        # |column accumulator| <= T * 2^(ADC_BITS-1) * (sum of the slice weights 2^(b*k) < 2^xw) (+ sign)
        acc_w = a.adc_bits + 1 + _clog2(T + 1) + (a.dac_bits if a.input_slices > 1 else 0) + 1
        in_bw = layers[layer.src].out_bw if layer.src >= 0 else a.dac_bits  # the word its source writes
        ly = LayerMachine(
            name=layer.name, kind=layer.kind, in_features=layer.in_features, out_features=layer.out_features,
            in_size=layer.in_size, out_size=layer.out_size, positions=layer.positions, row_tiles=T, col_tiles=U,
            cols=cols, groups=groups, rounds=rounds, act_steps=-(-layer.out_features // act_lanes), in_bw=in_bw,
            acc_w=acc_w, conv=layer.conv, pool=layer.pool, src=layer.src, add_src=layer.add_src,
            out_signed=layer.out_signed)
        if layer.add_src is not None:  # two banks of the words its operand's source writes
            ly = replace(ly, skip_bits=2 * layers[layer.add_src].out_size * layers[layer.add_src].out_bw)
        pool = layer.pool
        avg_k = pool["kernel"][0] * pool["kernel"][1] if pool and pool["kind"] == "avg" else 0
        # the word its readers' buffers hold: the code (signed: one bit more), wide enough for an average's sum
        out_bw = 64 if len(layers) == len(cm.layers) - 1 else \
            a.dac_bits + int(layer.out_signed) + (_clog2(avg_k) if avg_k > 1 else 0)
        layers.append(replace(ly, out_bw=out_bw))
    return replace(base, layers=tuple(replace(ly, cycles=layer_cycles(ly, base)) for ly in layers))


def check_rtl_support(m: Machine) -> None:
    """Raise :class:`CompileError` for what the RTL cannot run: pooling with overlapping windows or padding, a layer
    other than the first reading the input, a layer nothing reads, or a convolution as the last layer."""
    for ly in m.layers:
        p = ly.pool
        if p is not None and (list(p["stride"]) != list(p["kernel"]) or any(p["padding"])):
            raise CompileError(f"layer {ly.name}: the RTL pools non-overlapping windows without padding (stride = "
                               f"kernel, padding 0); got kernel {p['kernel']}, stride {p['stride']}, padding "
                               f"{p['padding']}")
    for li, (ly, rd) in enumerate(zip(m.layers, m.readers, strict=True)):
        if (ly.src < 0) != (li == 0):
            raise CompileError(f"layer {ly.name}: in the RTL only the first layer reads the input stream")
        if not rd and li < m.n_layers - 1:
            raise CompileError(f"layer {ly.name}: no layer reads its outputs (the RTL's buffers need a reader)")
    if OPS[m.layers[-1].kind].spatial:
        raise CompileError(f"the RTL's last layer must be dense (it writes the logits); {m.layers[-1].name} is "
                           f"{m.layers[-1].kind}")
