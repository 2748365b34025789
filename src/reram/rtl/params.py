"""The RTL side of the machine description: the generated headers ``reram_params.vh`` (the machine) and
``reram_rules.vh`` (the datapath rules' constants), and the RTL's width limits.

Everything here reads :class:`reram.ir.machine.Machine` and :mod:`reram.ir.rules`; the analytic cycle model is
:meth:`Machine.schedule` (latency and initiation interval).
"""

from __future__ import annotations

from reram.config.schema import RtlConfig
from reram.errors import CompileError
from reram.ir import rules
from reram.ir.addrmap import STATE_WORDS, WORD_BITS
from reram.ir.core import CompiledModel
from reram.ir.machine import POOL_CODES, Machine, check_rtl_support, machine
from reram.ir.ops import OPS

from .bridge import ABI

# Timing defaults that no source gives: every output that uses them labels them with these lines.

# Practical limits of the generated RTL. Every one is checked by check_widths (one line each, at compile time).
MAX_TILES = 255  # row / column tiles per layer (each is an array instance)
MAX_LAYERS = 8 * STATE_WORDS  # the STATES window: 8 4-bit controller states per word (64 layers)
MAX_PAIRS = 255  # column pairs per array (the macro's 8-bit column count)
MAX_ROWS = 256
HOST_WORD_W = WORD_BITS  # word address inside a host-bus region (reram.ir.addrmap)
FIELD_W = 32  # per-layer fields of the parameter header


def check_widths(m: Machine) -> None:
    """Raise :class:`CompileError` naming the first parameter that exceeds a limit of the RTL."""
    limits: list[tuple[bool, str]] = [
        (m.pairs > MAX_PAIRS, f"the RTL supports at most {MAX_PAIRS} column pairs per array (array.cols <= "
                              f"{2 * MAX_PAIRS}), got {m.pairs}"),
        (m.rows > MAX_ROWS, f"the RTL supports at most {MAX_ROWS} rows per array (array.rows <= {MAX_ROWS}), got "
                            f"{m.rows}"),
        (m.n_layers > MAX_LAYERS, f"the RTL supports at most {MAX_LAYERS} layers, got {m.n_layers}"),
    ]
    for li, ly in enumerate(m.layers):
        limits += [(ly.row_tiles > MAX_TILES, f"layer {li} needs {ly.row_tiles} row tiles of {m.rows} rows; the RTL "
                                              f"allows {MAX_TILES} arrays per layer column: raise array.rows"),
                   (ly.col_tiles > MAX_TILES, f"layer {li} needs {ly.col_tiles} column tiles of {m.pairs} pairs; the "
                                              f"RTL allows {MAX_TILES}: raise array.cols")]
    limits += [
        (m.n_insl > 16, f"{m.n_insl} input slices exceed the RTL's 4-bit slice index: lower dac.bits"),
        (m.gdepth > 2**HOST_WORD_W, f"{m.gdepth} conductance words exceed the host bus's {HOST_WORD_W}-bit word "
                                    "address: raise array.rows or shrink the network"),
        (2 * m.layers[-1].out_features + 2 > 2**HOST_WORD_W, "too many logits for the host bus"),
    ]
    for exceeded, message in limits:
        if exceeded:
            raise CompileError(message)


def rtl_params(cm: CompiledModel, rcfg: RtlConfig) -> Machine:
    """The machine of a compiled model with every RTL limit checked (:class:`CompileError`)."""
    m = machine(cm, rcfg)
    check_widths(m)
    return m


def rtl_supported(m: Machine) -> None:
    """What the RTL cannot run (CompileError): see :func:`reram.ir.machine.check_rtl_support`."""
    check_rtl_support(m)


def _aw(depth: int) -> int:
    """Address width of a memory of ``depth`` words (at least 1)."""
    return max(1, (max(depth, 2) - 1).bit_length())


def layer_fields(m: Machine) -> dict[str, tuple[list[int], str]]:
    """Per-layer header fields: name -> (values, comment)."""
    L = m.layers

    def conv(ly, key, i, default):
        return ly.conv[key][i] if ly.conv else default

    def pool(ly, i):
        return ly.pool["kernel"][i] if ly.pool else 1

    def hw_out(ly, i):
        return ly.conv["out_hw"][i] if ly.conv else 1

    def pooled(ly, i):
        return hw_out(ly, i) // pool(ly, i)

    out_sz = [ly.out_size if i + 1 < len(L) else ly.out_features for i, ly in enumerate(L)]
    sk = [L[ly.add_src] if ly.add_src is not None else None for ly in L]  # the operand's source layer
    sk_sz = [s.out_size if s else 1 for s in sk]
    # the reader whose buffer returns a layer's earlier words (pooling reads them back): an input buffer if any
    wrd, wrk = [], []
    for li, rd in enumerate(m.readers):
        ins = [r for r in rd if L[r].src == li]
        wrd.append(ins[0] if ins else (rd[0] if rd else 0))
        wrk.append(0 if ins or not rd else 1)
    return {
        "L_KIND": ([OPS[ly.kind].rtl_code for ly in L], ", ".join(f"{o.rtl_code} {k}" for k, o in OPS.items())),
        "L_IN": ([ly.in_features for ly in L], "MVM rows used (inputs, or C * kh * kw)"),
        "L_OUT": ([ly.out_features for ly in L], "outputs (channels)"),
        "L_NC": ([ly.nc for ly in L], "logical columns (outputs x slices)"),
        "L_T": ([ly.row_tiles for ly in L], "row tiles"),
        "L_U": ([ly.col_tiles for ly in L], "column tiles"),
        "L_COLS_LAST": ([ly.cols[-1] for ly in L], "columns of the last column tile's arrays"),
        "L_GROUP": ([-(-ly.arrays // ly.groups) for ly in L], "arrays read at once"),
        "L_NGROUPS": ([ly.groups for ly in L], "array groups"),
        "L_ROUNDS": ([ly.rounds for ly in L], "ADC rounds per array read"),
        "L_ASTEPS": ([ly.act_steps for ly in L], "activation steps per position"),
        "L_P": ([ly.positions for ly in L], "output positions"),
        "L_HO": ([hw_out(ly, 0) for ly in L], "output rows"),
        "L_WO": ([hw_out(ly, 1) for ly in L], "output columns"),
        "L_C": ([conv(ly, "in_shape", 0, 1) for ly in L], "input channels"),
        "L_H": ([conv(ly, "in_shape", 1, 1) for ly in L], "input rows"),
        "L_W": ([conv(ly, "in_shape", 2, 1) for ly in L], "input columns"),
        "L_KH": ([conv(ly, "kernel", 0, 1) for ly in L], "kernel rows"),
        "L_KW": ([conv(ly, "kernel", 1, 1) for ly in L], "kernel columns"),
        "L_SH": ([conv(ly, "stride", 0, 1) for ly in L], "stride rows"),
        "L_SWD": ([conv(ly, "stride", 1, 1) for ly in L], "stride columns"),
        "L_PH": ([conv(ly, "padding", 0, 0) for ly in L], "padding rows"),
        "L_PW": ([conv(ly, "padding", 1, 0) for ly in L], "padding columns"),
        "L_POOL": ([POOL_CODES[ly.pool["kind"] if ly.pool else None] for ly in L], "0 none, 1 max, 2 avg"),
        "L_PKH": ([pool(ly, 0) for ly in L], "pool window rows"),
        "L_PKW": ([pool(ly, 1) for ly in L], "pool window columns"),
        "L_HP": ([pooled(ly, 0) for ly in L], "pooled rows"),
        "L_WP": ([pooled(ly, 1) for ly in L], "pooled columns"),
        "L_INSZ": ([ly.in_size for ly in L], "input-buffer bank words"),
        "L_INAW": ([_aw(ly.in_size) for ly in L], "input-buffer bank address width"),
        "L_INBW": ([ly.in_bw for ly in L], "input-buffer word width"),
        "L_INWL": ([m.in_codes if ly.src < 0 else m.act_lanes for ly in L], "input-buffer write lanes"),
        "L_OUTSZ": (out_sz, "words of the output buffer bank (its readers' input or skip bank, or the logits)"),
        "L_OUTAW": ([_aw(s) for s in out_sz], "output-buffer bank address width"),
        "L_OUTBW": ([ly.out_bw for ly in L], "output word width in its readers' buffers (64: logits)"),
        "L_OSIGNED": ([int(ly.out_signed) for ly in L], "1: signed output codes (XW + 1 bits, read by adds only)"),
        "L_SRC": ([ly.src + 1 for ly in L], "the layer whose outputs it reads, + 1 (0: the input stream)"),
        "L_ASRC": ([0 if ly.add_src is None else ly.add_src + 1 for ly in L], "the layer its residual add adds, "
                   "+ 1 (0: none)"),
        "L_SKAW": ([_aw(s) for s in sk_sz], "skip-buffer bank address width"),
        "L_SKBW": ([s.out_bw if s else 1 for s in sk], "skip-buffer word width"),
        "L_SKXW": ([m.xw + int(s.out_signed) if s else 1 for s in sk], "width of a residual operand's code"),
        "L_SKSIGNED": ([int(s.out_signed) if s else 0 for s in sk], "1: the residual operand's codes are signed"),
        "L_WRD": (wrd, "the reader whose buffer returns this layer's earlier words (pooling)"),
        "L_WRK": (wrk, "0: that reader's input buffer, 1: its skip buffer"),
        "L_ACW": ([ly.acc_w for ly in L], "column-accumulator width"),
        "L_GBASE": (list(m.layer_gbase), "host word base of the conductance codes"),
        "L_TBASE": (list(m.layer_tbase), "host word base of the ADC multipliers"),
        "L_CBASE": (list(m.layer_cbase), "host word base of the activation constants"),
    }


def _packed(values: list[int]) -> str:
    # element 0 in the least significant bits
    return "{" + ", ".join(f"32'd{v}" for v in reversed(values)) + "}"


def header(m: Machine) -> str:
    """The generated Verilog header: one commented localparam per line."""
    n = m.n_layers
    last = m.layers[-1]
    lines = [
        "// Generated by reram.rtl.params from the machine description (reram.ir.machine). Do not edit.",
        f"localparam ROWS = {m.rows};                 // rows per array",
        f"localparam PAIRS = {m.pairs};               // signed column pairs per array (cols / 2)",
        f"localparam N_ADC = {m.n_adc};               // ADC lanes per array",
        f"localparam ADC_LAT = {m.adc_lat};           // ADC conversion latency (cycles)",
        f"localparam ARRAY_LAT = {m.array_lat};       // array read latency (cycles)",
        f"localparam XW = {m.xw};                     // DAC (input code) bits",
        f"localparam SLICE_BITS = {m.slice_bits};     // input bits per array read (XW: multi-level, 1: bit-serial)",
        f"localparam N_INSL = {m.n_insl};             // input slices per array read sequence",
        f"localparam ADC_BITS = {m.adc_bits};         // ADC resolution",
        *adc_code_lines(m.adc_bits),
        f"localparam CELL_BITS = {m.cell_bits};       // bits per cell",
        f"localparam SLICES = {m.slices};             // cells per weight (bit slicing)",
        f"localparam GW = {m.gw};                     // conductance code width",
        f"localparam SUMW = {m.sw};                   // signed column-sum width",
        f"localparam ACT_LANES = {m.act_lanes};       // activation lanes per layer",
        f"localparam IN_CODES = {m.in_codes};         // input codes per input-stream beat",
        f"localparam IN_BEATS = {m.in_beats};         // input-stream beats per image",
        f"localparam N_LAYERS = {n};                  // crossbar layers",
        f"localparam N_LOGITS = {last.out_features};  // logits (outputs of the last layer)",
        f"localparam LOAW = {_aw(last.out_features)};  // logit address width",
        f"localparam FIELD_W = {FIELD_W};             // width of one per-layer field below",
    ]
    for name, (values, comment) in layer_fields(m).items():
        lines.append(f"localparam [{FIELD_W * n - 1}:0] {name} = {_packed(values)};  // {comment}")
    return "\n".join(lines) + "\n"


def adc_code_lines(bits: int) -> list[str]:
    """The ADC code ranges of ``bits``-bit ADCs (:func:`reram.ir.rules.adc_limits`) as localparams."""
    lines = []
    for suffix, signed in (("S", True), ("U", False)):
        lo, hi = rules.adc_limits(bits, signed)
        if not -(2**31) <= lo <= hi < 2**31:
            raise CompileError(f"the {bits}-bit ADC's code range [{lo}, {hi}] exceeds the RTL's 32-bit parameters")
        kind = "signed" if signed else "unipolar"
        lines += [f"localparam integer ADC_CODE_MIN_{suffix} = {lo};  // {kind} ADC codes: reram.ir.rules.adc_limits",
                  f"localparam integer ADC_CODE_MAX_{suffix} = {hi};"]
    return lines


def rules_header() -> str:
    """``reram_rules.vh``: the datapath rules' constants (:mod:`reram.ir.rules`) that the RTL modules use,
    independent of the machine."""
    for name, w, lo, hi in (("REQ_MULT_W", rules.REQ_MULT_W, 2, 32), ("REQ_BIAS_W", rules.REQ_BIAS_W, 33, 64),
                            ("ADC_MULT_W", rules.ADC_MULT_W, 1, 32), ("ADC_SHIFT_W", rules.ADC_SHIFT_W, 1, 8),
                            ("REQ_SHIFT_W", rules.REQ_SHIFT_W, 1, 8)):
        if not lo <= w <= hi:  # the host bus (32-bit words; the bias in two) and the 64-bit activation arithmetic
            raise CompileError(f"{name} = {w} is outside the RTL's range {lo}..{hi}")
    return "\n".join([
        "// Generated by reram.rtl.params from the datapath rules (reram.ir.rules). Do not edit.",
        f"// Rounding: {rules.ROUNDING}",
        f"localparam integer ADC_MULT_W = {rules.ADC_MULT_W};  // ADC multiplier: unsigned, at most ADC_MULT_MAX = "
        f"{rules.ADC_MULT_MAX}",
        f"localparam integer ADC_SHIFT_W = {rules.ADC_SHIFT_W};  // ADC shift: at most ADC_SHIFT_MAX = "
        f"{rules.ADC_SHIFT_MAX}",
        f"localparam integer REQ_MULT_W = {rules.REQ_MULT_W};  // activation multiplier M: signed, |M| <= "
        f"REQ_MULT_MAX = {rules.REQ_MULT_MAX}",
        f"localparam integer REQ_BIAS_W = {rules.REQ_BIAS_W};  // activation bias B: signed, |B| <= REQ_BIAS_MAX = "
        f"{rules.REQ_BIAS_MAX}",
        f"localparam integer REQ_SHIFT_W = {rules.REQ_SHIFT_W};  // requantization shift: at most REQ_SHIFT_MAX = "
        f"{rules.REQ_SHIFT_MAX}",
    ]) + "\n"


def header_cpp(m: Machine) -> str:
    """The machine parameters the C++ bridge needs (``reram_params.h``)."""
    vals = {"IN_SIZE": m.layers[0].in_size, "XW": m.xw, "IN_CODES": m.in_codes, "IN_BEATS": m.in_beats,
            "IN_WORDS": -(-m.in_codes * m.xw // 32), "N_LAYERS": m.n_layers, "ACT_LANES": m.act_lanes,
            "N_LOGITS": m.layers[-1].out_features, "ABI": ABI}
    lines = ["// Generated by reram.rtl.params from the machine description. Do not edit.", "#pragma once"]
    lines += [f"#define RERAM_{k} {v}" for k, v in vals.items()]
    return "\n".join(lines) + "\n"
