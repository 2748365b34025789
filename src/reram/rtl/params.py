"""RTL parameters from the IR: the generated ``reram_params.vh`` header and the analytic cycle model."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from reram.compile.ir import CompiledModel
from reram.config.schema import RtlConfig
from reram.errors import CompileError


@dataclass(frozen=True)
class RtlParams:
    """Everything the RTL build depends on besides its sources (part of the build-cache key)."""

    rows: int
    pairs: int
    n_adc: int
    adc_lat: int
    array_lat: int
    xw: int
    bit_serial: int
    n_insl: int
    adc_bits: int
    cell_bits: int
    slices: int
    gw: int
    sw: int
    mw: int
    acc_w: int
    layer_in: tuple[int, ...]
    layer_out: tuple[int, ...]
    layer_nc: tuple[int, ...]
    layer_t: tuple[int, ...]
    layer_u: tuple[int, ...]
    layer_pos: tuple[int, ...] = ()  # output positions per layer (conv: H_out * W_out; the analytic model only)

    @property
    def n_layers(self) -> int:
        return len(self.layer_in)

    @property
    def layer_gbase(self) -> tuple[int, ...]:
        out, base = [], 0
        for t, nc in zip(self.layer_t, self.layer_nc, strict=True):
            out.append(base)
            base += t * nc * self.rows
        return tuple(out)

    @property
    def gdepth(self) -> int:
        return sum(t * nc * self.rows for t, nc in zip(self.layer_t, self.layer_nc, strict=True))

    @property
    def layer_tbase(self) -> tuple[int, ...]:
        return tuple(sum(self.layer_t[:i]) for i in range(self.n_layers))

    @property
    def layer_cbase(self) -> tuple[int, ...]:
        return tuple(sum(self.layer_out[:i]) for i in range(self.n_layers))

    def to_dict(self) -> dict:
        return asdict(self)


# Timing defaults that no source gives: every output that uses them labels them with these lines.
ASSUMPTIONS = {
    "clock_hz": "assumed clock (rtl.clock_hz), not a measured or cited figure",
    "array_latency": "assumed array read latency in cycles (rtl.array_latency), not cited",
    "adc_latency": "assumed ADC conversion latency in cycles (rtl.adc_latency), not cited",
}


# Index widths of reram_top.v / reram_ctrl.v. Every limit they imply is checked by rtl_params (one line each).
TILE_W = 8  # row / column tile index (TW)
FEATURE_W = 12  # feature index of the controller (FW)
LAYER_W = 4  # layer index (LW)
SLICE_W = 4  # input slice (bit) index
HOST_WORD_W = 24  # word address inside a host-bus region
PACKED_W = 16  # per-layer fields of the parameter header (L_IN, L_T, L_TBASE, ...)


def check_widths(p: RtlParams) -> None:
    """Raise :class:`CompileError` naming the first parameter that overflows an RTL index width."""
    lim_tiles = 2**TILE_W - 1
    for li in range(p.n_layers):
        if p.layer_t[li] > lim_tiles:
            raise CompileError(f"layer {li} needs {p.layer_t[li]} row tiles of {p.rows} rows; the RTL's {TILE_W}-bit "
                               f"tile index allows {lim_tiles}: raise array.rows")
        if p.layer_u[li] > lim_tiles:
            raise CompileError(f"layer {li} needs {p.layer_u[li]} column tiles of {p.pairs} pairs; the RTL's "
                               f"{TILE_W}-bit tile index allows {lim_tiles}: raise array.cols")
    if p.n_insl > 2**SLICE_W:
        raise CompileError(f"{p.n_insl} input slices exceed the RTL's {SLICE_W}-bit slice index: lower dac.bits")
    if sum(p.layer_t) > 2**PACKED_W - 1 or sum(p.layer_out) > 2**PACKED_W - 1:
        raise CompileError(f"the RTL's {PACKED_W}-bit per-layer bases allow {2**PACKED_W - 1} row tiles and outputs "
                           "in all: raise array.rows or shrink the network")
    if p.gdepth > 2**HOST_WORD_W:
        raise CompileError(f"{p.gdepth} conductance words exceed the host bus's {HOST_WORD_W}-bit word address: "
                           "raise array.rows or shrink the network")


def rtl_params(cm: CompiledModel, rcfg: RtlConfig) -> RtlParams:
    """The RTL parameters of a compiled model; every width limit of the RTL is checked here (CompileError)."""
    a = cm.arch
    pairs = a.cols // 2
    if pairs > 255:
        raise CompileError(f"the RTL supports at most 255 column pairs per array (array.cols <= 510), got {pairs}")
    if a.rows > 256:
        raise CompileError(f"the RTL supports at most 256 rows per array (array.rows <= 256), got {a.rows}")
    if len(cm.layers) > 2**LAYER_W - 1:
        raise CompileError(f"the RTL supports at most {2**LAYER_W - 1} layers, got {len(cm.layers)}")
    if max(ly.out_features for ly in cm.layers) > 2**FEATURE_W - 1 or \
            max(ly.in_features for ly in cm.layers) > 2**FEATURE_W - 1:
        raise CompileError(f"the RTL supports at most {2**FEATURE_W - 1} features per layer (model.hidden)")
    gw = max(1, math.ceil(math.log2(a.gmax_code + 1)))
    xs = a.slice_input_max
    sw = 2 + math.ceil(math.log2(a.rows * max(xs, 1) * (a.gmax_code + 1) + 1))
    p = RtlParams(
        rows=a.rows, pairs=pairs, n_adc=min(rcfg.adcs_per_array, pairs), adc_lat=rcfg.adc_latency,
        array_lat=rcfg.array_latency, xw=a.dac_bits, bit_serial=int(a.dac_mode == "bit_serial"),
        n_insl=a.input_slices, adc_bits=a.adc_bits, cell_bits=a.cell_bits, slices=a.slices, gw=gw, sw=sw, mw=20,
        acc_w=48,
        layer_in=tuple(ly.in_features for ly in cm.layers),
        layer_out=tuple(ly.out_features for ly in cm.layers),
        layer_nc=tuple(ly.out_features * a.slices for ly in cm.layers),
        layer_t=tuple(ly.row_tiles(a) for ly in cm.layers),
        layer_u=tuple(ly.col_tiles(a) for ly in cm.layers),
        layer_pos=tuple(ly.positions for ly in cm.layers),
    )
    check_widths(p)
    return p


def _packed(values: tuple[int, ...], width: int) -> str:
    # element 0 in the least significant bits
    return "{" + ", ".join(f"{width}'d{v}" for v in reversed(values)) + "}"


def _aw(depth: int) -> int:
    """Address width of a memory of ``depth`` words (at least 1)."""
    return max(1, math.ceil(math.log2(max(depth, 2))))


def header(p: RtlParams) -> str:
    """The generated Verilog header with one commented localparam per line."""
    n = p.n_layers
    gaw = _aw(p.gdepth)
    lines = [
        "// Generated by reram.rtl.params from the compiled model (IR). Do not edit.",
        f"localparam ROWS = {p.rows};                 // rows per array",
        f"localparam PAIRS = {p.pairs};               // signed column pairs per array (cols / 2)",
        f"localparam N_ADC = {p.n_adc};               // ADCs per array",
        f"localparam ADC_LAT = {p.adc_lat};           // ADC conversion latency (cycles)",
        f"localparam ARRAY_LAT = {p.array_lat};       // array read latency (cycles)",
        f"localparam XW = {p.xw};                     // DAC (input code) bits",
        f"localparam BIT_SERIAL = {p.bit_serial};     // 1: bit-serial inputs, 0: multi-level",
        f"localparam N_INSL = {p.n_insl};             // input slices per array read sequence",
        f"localparam ADC_BITS = {p.adc_bits};         // ADC resolution",
        f"localparam CELL_BITS = {p.cell_bits};       // bits per cell",
        f"localparam SLICES = {p.slices};             // cells per weight (bit slicing)",
        f"localparam GW = {p.gw};                     // conductance code width",
        f"localparam SW = {p.sw};                     // signed column-sum width",
        f"localparam MW = {p.mw};                     // ADC multiplier width",
        f"localparam ACC_W = {p.acc_w};               // accumulator width",
        f"localparam N_LAYERS = {n};                  // crossbar layers",
        f"localparam MAX_FEAT = {max(max(p.layer_in), max(p.layer_out))};  // activation buffer depth",
        f"localparam MAX_OUT = {max(p.layer_out)};    // accumulators / logits",
        f"localparam GDEPTH = {p.gdepth};             // conductance memory depth",
        f"localparam GAW = {gaw};                     // conductance memory address width",
        f"localparam TDEPTH = {sum(p.layer_t)};       // ADC multipliers (one per layer row tile)",
        f"localparam CDEPTH = {sum(p.layer_out)};     // activation-unit constants (one per output)",
        f"localparam FAW = {_aw(max(max(p.layer_in), max(p.layer_out)))};  // activation buffer address width",
        f"localparam OAW = {_aw(max(p.layer_out))};   // accumulator / logit address width",
        f"localparam TAW = {_aw(sum(p.layer_t))};     // ADC multiplier memory address width",
        f"localparam CAW = {_aw(sum(p.layer_out))};   // activation constant memory address width",
        f"localparam LAW = {_aw(n)};                  // layer index width",
        f"localparam [{16 * n - 1}:0] L_IN = {_packed(p.layer_in, 16)};     // inputs per layer",
        f"localparam [{16 * n - 1}:0] L_OUT = {_packed(p.layer_out, 16)};   // outputs per layer",
        f"localparam [{16 * n - 1}:0] L_NC = {_packed(p.layer_nc, 16)};     // logical columns per layer",
        f"localparam [{16 * n - 1}:0] L_T = {_packed(p.layer_t, 16)};       // row tiles per layer",
        f"localparam [{16 * n - 1}:0] L_U = {_packed(p.layer_u, 16)};       // column tiles per layer",
        f"localparam [{32 * n - 1}:0] L_GBASE = {_packed(p.layer_gbase, 32)};  // conductance base per layer",
        f"localparam [{16 * n - 1}:0] L_TBASE = {_packed(p.layer_tbase, 16)};  // ADC multiplier base",
        f"localparam [{16 * n - 1}:0] L_CBASE = {_packed(p.layer_cbase, 16)};  // activation constant base",
        "",
    ]
    return "\n".join(lines)


def layer_cycles(p: RtlParams) -> list[int]:
    """Cycles of each layer, as the controller sequences them (see reram_ctrl.v). A conv layer repeats the
    tiles and the activation unit once per output position (the analytic model of the same time-shared array;
    the RTL itself has no convolution yet)."""
    out_cycles = []
    pos = p.layer_pos or (1,) * p.n_layers
    for nc, t, u, out, n_pos in zip(p.layer_nc, p.layer_t, p.layer_u, p.layer_out, pos, strict=True):
        per_tile = 1  # LATCH
        for ui in range(u):
            cols = nc - ui * p.pairs if ui == u - 1 else p.pairs
            rounds = -(-cols // p.n_adc)
            per_tile += p.n_insl * (p.array_lat + rounds * p.adc_lat)
        out_cycles.append(1 + n_pos * (t * per_tile + out) + 1)  # LAYER, (tiles, ACT) per position, DRAIN
    return out_cycles


def analytic_cycles(p: RtlParams) -> int:
    """Cycles per inference from the IR and the architecture: the layers plus the FINISH cycle."""
    return sum(layer_cycles(p)) + 1
