"""The host address map, written once. ``reram_addrmap.vh`` (Verilog), ``reram_addrmap.h`` (the C++ bridge) and
the Python side (:mod:`reram.rtl.images`, :mod:`reram.rtl.bridge`) are all generated from / read these tables.

Word addresses: bits [ADDR_BITS-1:WORD_BITS] (31:24) select a region, bits [WORD_BITS-1:0] (23:0) the word in it
(:func:`addr` joins them, :func:`split` takes them apart).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

ADDR_BITS = 32  # host word address
WORD_BITS = 24  # the word inside a region: bits [WORD_BITS-1:0]
REGION_BITS = ADDR_BITS - WORD_BITS  # the region: bits [ADDR_BITS-1:WORD_BITS]
WORD_MASK = (1 << WORD_BITS) - 1
ADDR_MASK = (1 << ADDR_BITS) - 1


@dataclass(frozen=True)
class Region:
    code: int
    name: str
    doc: str


REGIONS = (
    Region(0x00, "REG", "registers (see REGISTERS)"),
    Region(0x01, "GPOS", "G+ conductance codes: layer base + (row tile * columns + column) * rows + row"),
    Region(0x02, "GNEG", "G- conductance codes, same layout"),
    Region(0x03, "ADC", "ADC gain multiplier per (layer, row tile)"),
    Region(0x04, "RMULT", "activation-unit multiplier per (layer, output), signed (REQ_MULT_W bits)"),
    Region(0x05, "RBLO", "activation-unit bias per (layer, output), low word (signed, REQ_BIAS_W bits)"),
    Region(0x06, "RBHI", "activation-unit bias per (layer, output), high word"),
    Region(0x07, "LAYER", "layer l's settings: word SET_STRIDE * l + k holds SETTINGS[k]"),
    Region(0x0B, "LOGIT", "logits of the bank the host reads: 2j low word, 2j + 1 high word"),
)


@dataclass(frozen=True)
class Bit:
    """One bit of a register: its position and the name Python reads it by (``name.lower()``)."""

    pos: int
    name: str
    doc: str


# the bits of the registers that have them (bits not listed read 0 / are ignored)
BITS = {
    "CTRL": (Bit(1, "CLEAR", "clears the event counters and the protocol-error flag"),),
    "STATUS": (Bit(1, "BUSY", "the pipeline holds work"),
               Bit(2, "PROTOCOL_ERROR", "sticky: the host broke the bus or stream protocol"),
               Bit(3, "OUT_READY", "logits ready"),
               Bit(4, "IN_READY", "the input stream takes a beat")),
    "DEBUG": (Bit(0, "STALL", "stalls every layer controller (exercises the watchdog)"),),
}

# the layer controllers' states (reram_layer_ctrl.v), STATE_BITS bits each, 8 layers per word of the STATES window
CTRL_STATES = ("IDLE", "LATCH", "READ", "CONV", "DRAIN", "ACT", "FIN")
STATE_BITS = 4
STATE_WORDS = 8  # STATES + k, k < STATE_WORDS: layers 8k .. 8k + 7 (so at most 64 layers)


def _bits_doc(reg: str, access: str) -> str:
    return f"{access}: " + "; ".join(f"bit{b.pos} {b.name}: {b.doc}" for b in BITS[reg])


_STATES_DOC = ", ".join(f"{i} {s}" for i, s in enumerate(CTRL_STATES))


@dataclass(frozen=True)
class Register:
    addr: int
    name: str
    doc: str


REGISTERS = (
    Register(0, "CTRL", _bits_doc("CTRL", "write")),
    Register(1, "STATUS", _bits_doc("STATUS", "read")),
    Register(2, "CYCLES", "read: cycles since the last counter clear"),
    Register(3, "PRED", "read: argmax of the bank the host reads"),
    Register(6, "DEBUG", _bits_doc("DEBUG", "write")),
    Register(8, "STATES", f"read: STATES + k (k < {STATE_WORDS}) holds layer 8k + l's controller state in bits "
             f"[{STATE_BITS}l +: {STATE_BITS}] ({_STATES_DOC}; 0 where there is no such layer)"),
    Register(16, "COUNT", "read: event counter k (COUNTERS order, index C_<name>) at COUNT + 2k (low word) and "
             "COUNT + 2k + 1 (high word)"),
)

# event counters, in counter order (the RTL increments them; the golden model counts the same events)
COUNTERS = ("dac_row_activations", "array_reads", "adc_conversions", "shift_adds", "input_buffer_reads",
            "output_buffer_writes", "residual_adds", "busy_cycles")

SETTINGS = ("ADC_SHIFT", "ADC_SIGNED", "REQ_SHIFT", "ADD_MULT")  # words SET_STRIDE * l + k of the LAYER region
SET_STRIDE = 4

R = {r.name: r.code for r in REGIONS}
REG = {r.name: r.addr for r in REGISTERS}
STATUS = {b.name.lower(): b.pos for b in BITS["STATUS"]}  # STATUS bit positions by name


def bit(reg: str, name: str) -> int:
    """The mask of bit ``name`` of register ``reg``."""
    return 1 << next(b.pos for b in BITS[reg] if b.name == name)


def addr(region: str | int, word: Any = 0) -> Any:
    """The host address of ``word`` (an int, or a numpy integer array: then a uint32 array) in ``region`` (a name of
    :data:`REGIONS` or its code)."""
    code = R[region] if isinstance(region, str) else int(region)
    if not 0 <= code < 1 << REGION_BITS:
        raise ValueError(f"region {code} does not fit the {REGION_BITS}-bit region field")
    if isinstance(word, np.ndarray):
        if word.size and (word.min() < 0 or word.max() > WORD_MASK):
            raise ValueError(f"a word address is beyond the {WORD_BITS}-bit word field")
        return (np.uint32(code) << np.uint32(WORD_BITS)) | word.astype(np.uint32)
    word = int(word)
    if not 0 <= word <= WORD_MASK:
        raise ValueError(f"word address {word} is beyond the {WORD_BITS}-bit word field")
    return (code << WORD_BITS) | word


def split(addrs: Any) -> tuple[Any, Any]:
    """(region, word) of host addresses (an int, or a numpy unsigned integer array: then two arrays)."""
    if isinstance(addrs, np.ndarray):
        a = addrs.astype(np.uint32)
        return a >> np.uint32(WORD_BITS), a & np.uint32(WORD_MASK)
    return (int(addrs) & ADDR_MASK) >> WORD_BITS, int(addrs) & WORD_MASK


def _constants() -> list[tuple[str, str, int, str]]:
    """(kind, name, value, comment) of every constant the headers declare, in order; kind picks the declaration."""
    out = [("int", "ADDR_W", ADDR_BITS, "host word address bits"),
           ("int", "WORD_W", WORD_BITS, "the word in a region: address bits [WORD_W-1:0]"),
           ("int", "REGION_W", REGION_BITS, "the region: address bits [ADDR_W-1:WORD_W]")]
    out += [("region", f"R_{r.name}", r.code, r.doc) for r in REGIONS]
    out += [("word", f"A_{g.name}", g.addr, g.doc) for g in REGISTERS]
    out += [("int", f"B_{reg}_{b.name}", b.pos, f"{reg} bit: {b.doc}") for reg, bits in BITS.items() for b in bits]
    out += [("int", f"SET_{s}", i, f"LAYER region: word SET_STRIDE * l + SET_{s}") for i, s in enumerate(SETTINGS)]
    out += [("int", "SET_STRIDE", SET_STRIDE, "LAYER region words per layer"),
            ("plain", "NCNT", len(COUNTERS), f"event counters: {', '.join(COUNTERS)}"),
            ("int", "STATE_WORDS", STATE_WORDS, "words of the STATES window (8 controller states each)")]
    out += [("int", f"C_{c.upper()}", i, "event counter index (COUNT + 2 * index)") for i, c in enumerate(COUNTERS)]
    return out


def header_v() -> str:
    """``reram_addrmap.vh``: the address map as Verilog localparams."""
    decl = {"int": "localparam integer {n} = {v};", "plain": "localparam {n} = {v};",
            "region": "localparam [REGION_W-1:0] {n} = " + str(REGION_BITS) + "'h{v:02X};",
            "word": "localparam [WORD_W-1:0] {n} = " + str(WORD_BITS) + "'d{v};"}
    lines = ["// Generated by reram.ir.addrmap (the host address map). Do not edit."]
    lines += [decl[k].format(n=n, v=v) + f"  // {doc}" for k, n, v, doc in _constants()]
    return "\n".join(lines) + "\n"


def header_cpp() -> str:
    """``reram_addrmap.h``: the address map as C++ constants, and the address of a region's word."""
    lines = ["// Generated by reram.ir.addrmap (the host address map). Do not edit.", "#pragma once",
             "#include <cstdint>"]
    lines += [f"static const uint32_t RERAM_{n} = {v}u;  // {doc}" for _, n, v, doc in _constants()]
    lines.append("static inline uint32_t reram_addr(uint32_t region, uint32_t word) "
                 "{ return (region << RERAM_WORD_W) | word; }")
    return "\n".join(lines) + "\n"
