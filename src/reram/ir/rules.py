"""The datapath rules, each written once, for numpy (golden model, passes, energy counts, cocotb references) and
torch (engine, fine-tuning) alike: every function takes either kind of array and answers in the same kind.

**The rounding rule** (everywhere a value becomes an integer: DAC codes, weight codes, ADC codes, the activation
unit, average pooling, ADC and requantization multipliers, conductance grid codes): *round half up*,
``floor(x + 1/2)``; on integers an arithmetic right shift by ``k`` rounds as ``(v + 2^(k-1)) >> k``
(:func:`rshift_round`). Python's ``round`` and ``torch.round`` (half to even) are not used.

The constants the Verilog uses (code ranges, widths, rounding offsets) are written into its generated headers from
here (:mod:`reram.rtl.params`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .core import ArchParams, LayerIR

REQ_MULT_MAX = 2**15 - 1  # activation-unit multiplier M: signed 16 bits
REQ_BIAS_MAX = 2**46  # activation-unit bias B: |B| at most this (48-bit signed register)
REQ_SHIFT_MAX = 40  # activation-unit (requantization) shift
ADC_MULT_BITS = 16  # the ADC multiplier is chosen with this many significant bits
ADC_MULT_MAX = 2**20 - 1  # ADC multiplier register: unsigned 20 bits (drift compensation may raise it)
ADC_SHIFT_MAX = 62  # ADC shift
ROUNDING = "half up: floor(x + 1/2); integer shifts (v + 2^(k-1)) >> k"

# the register widths these limits need (the RTL's widths: reram.rtl.params writes them into reram_rules.vh)
REQ_MULT_W = REQ_MULT_MAX.bit_length() + 1  # signed: 16
REQ_BIAS_W = REQ_BIAS_MAX.bit_length() + 1  # signed: 48
REQ_SHIFT_W = REQ_SHIFT_MAX.bit_length()  # 6
ADC_MULT_W = ADC_MULT_MAX.bit_length()  # unsigned: 20
ADC_SHIFT_W = ADC_SHIFT_MAX.bit_length()  # 6


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


# --------------------------------------------------------------------------- rounding
def ste_round(x: Any) -> Any:
    """:func:`round_half_up` of a torch tensor, with a straight-through gradient when autograd needs one."""
    import torch

    if not (torch.is_grad_enabled() and x.requires_grad):
        return torch.floor(x + 0.5)
    return x + (torch.floor(x + 0.5) - x).detach()


def round_half_up(x: Any) -> Any:
    """``floor(x + 1/2)`` of a float array (numpy or torch) or a Python float (then an int)."""
    if _is_torch(x):
        import torch

        return torch.floor(x + 0.5)
    if isinstance(x, np.ndarray | np.generic):
        return np.floor(x + 0.5)
    return int(np.floor(float(x) + 0.5))


def round_half_up_(x: Any) -> Any:
    """:func:`round_half_up` in place (torch tensors; the engine's hot path)."""
    return x.add_(0.5).floor_()


def rshift_round(v: Any, sh: int) -> Any:
    """Round-half-up arithmetic right shift of integers: ``(v + 2**(sh-1)) >> sh``."""
    if sh == 0:
        return v
    if _is_torch(v):
        return (v + (1 << (sh - 1))) >> sh
    return (v + (np.int64(1) << np.int64(sh - 1))) >> np.int64(sh)


def clip(x: Any, lo: float, hi: float) -> Any:
    return x.clamp(lo, hi) if _is_torch(x) else np.clip(x, lo, hi)


# --------------------------------------------------------------------------- window sizes
def window_out(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output length of a convolution or pooling window along one axis."""
    return (size + 2 * padding - kernel) // stride + 1


def window_out_hw(hw: tuple[int, int] | list[int], kernel, stride, padding) -> tuple[int, int]:
    """(H_out, W_out) of a 2-d window op with per-axis ``kernel``, ``stride`` and ``padding``."""
    return (window_out(hw[0], kernel[0], stride[0], padding[0]), window_out(hw[1], kernel[1], stride[1], padding[1]))


# --------------------------------------------------------------------------- DAC: input codes and slices
def input_codes(x: Any, scale: float, x_max: int) -> Any:
    """Float activations -> DAC codes: ``clip(round_half_up(x / scale), 0, x_max)`` (float array of integers)."""
    if _is_torch(x):
        return round_half_up_(x / scale).clamp_(0, x_max)
    return np.clip(np.floor(x / np.float32(scale) + np.float32(0.5)), 0, x_max)


def input_slices(x: Any, arch: ArchParams, dtype: Any = None) -> list[Any]:
    """The input slices of codes ``x``, least significant first: slice ``b`` holds the ``arch.slice_widths[b]``
    bits from ``arch.slice_offsets[b]``; one slice, the whole code, for multi-level inputs. Signed inputs are
    sign-magnitude: a negative code's slices are its magnitude's, negated (the same pulses at the opposite
    polarity). numpy: int64 in, int64 out; torch: any dtype in, ``dtype`` out (default float64)."""
    parts = list(zip(arch.slice_offsets, arch.slice_widths, strict=True))
    if _is_torch(x):
        import torch

        dtype = dtype or torch.float64
        if arch.input_slices == 1:
            return [x.to(dtype)]
        xi = x.to(torch.int64)
        if bool((xi < 0).any()):
            sign, mag = xi.sign(), xi.abs()
            return [(sign * ((mag >> off) & (2**w - 1))).to(dtype) for off, w in parts]
        return [((xi >> off) & (2**w - 1)).to(dtype) for off, w in parts]
    if arch.input_slices == 1:
        return [x]
    if (x < 0).any():
        sign, mag = np.sign(x), np.abs(x)
        return [sign * ((mag >> np.int64(off)) & np.int64(2**w - 1)) for off, w in parts]
    return [(x >> np.int64(off)) & np.int64(2**w - 1) for off, w in parts]


def slice_adc_drop(arch: ArchParams, b: int) -> int:
    """Bits that input slice ``b``'s ADC has fewer than ``adc_bits``: it converts at the same full scale with a
    step ``2^drop`` times coarser (its code's shift grows by ``drop``; its shift-add weight by ``2^drop``)."""
    return arch.adc_bits - arch.slice_adc_bits[b]


def slice_adc_limits(arch: ArchParams, b: int, signed: bool) -> tuple[int, int]:
    """The code range of input slice ``b``'s ADC."""
    return adc_limits(arch.slice_adc_bits[b], signed)


def shift_add_weights(arch: ArchParams) -> list[list[int]]:
    """The shift-add weight of input slice ``b`` and weight slice ``s``: ``2^offset_b * 2^drop_b * levels^s``
    (``offset_b`` the slice's bit position, ``drop_b`` its ADC's missing bits: :func:`slice_adc_drop`)."""
    return [[2 ** (off + slice_adc_drop(arch, b)) * arch.levels**s for s in range(arch.slices)]
            for b, off in enumerate(arch.slice_offsets)]


# --------------------------------------------------------------------------- weights: codes, digits, conductances
def weight_codes(weight: np.ndarray, w_max: float, q_max: int, col_scale: np.ndarray | None = None) -> np.ndarray:
    """Signed float weights (out, in) -> integer weight codes in [-q_max, q_max] (``w_max`` maps to ``q_max``);
    with ``col_scale`` (out,), column ``o``'s weights are scaled by ``col_scale[o]`` first."""
    w = weight if col_scale is None else weight * np.asarray(col_scale, np.float64)[:, None]
    return np.clip(round_half_up(w / w_max * q_max), -q_max, q_max).astype(np.int32)


COL_SCALE_MAX = 256.0  # the largest per-column weight scale (a column of near-zero weights is not blown up further)


def column_scales(weight: np.ndarray, w_max: float) -> np.ndarray:
    """Per-column weight scales ``c_o = w_max / max|w_o|`` (>= 1, at most ``COL_SCALE_MAX``): each column's largest
    weight maps to the largest code."""
    col = np.abs(np.asarray(weight, np.float64)).max(axis=1)
    return np.clip(w_max / np.maximum(col, w_max / COL_SCALE_MAX), 1.0, COL_SCALE_MAX)


def weight_digits(codes: Any, arch: ArchParams):
    """Signed weight codes (out, in) -> positive/negative digits (slices, in, out), least significant first
    (torch int64)."""
    import torch

    q = torch.as_tensor(codes).to(torch.int64).t()
    mag = q.abs()
    L = arch.levels
    digits = torch.stack([(mag // L**s) % L for s in range(arch.slices)])
    pos = torch.where(q > 0, digits, torch.zeros_like(digits))
    neg = torch.where(q < 0, digits, torch.zeros_like(digits))
    return pos, neg


def target_codes(layer: LayerIR, arch: ArchParams):
    """The target conductance grid codes of a layer's differential pairs, G+ and G- (slices, in, out)."""
    pos, neg = weight_digits(layer.weight_codes, arch)
    step = 2**arch.grid_sub_bits
    return arch.gmin_code + pos * step, arch.gmin_code + neg * step


def grid_codes(g: Any, arch: ArchParams) -> np.ndarray:
    """Conductances in grid units (torch float) -> integer grid codes in [0, gmax_code] (int32 numpy)."""
    import torch

    return round_half_up(g).clamp(0, arch.gmax_code).to(torch.int32).numpy()


# --------------------------------------------------------------------------- tiles and slices
def row_tiles(layer: LayerIR, arch: ArchParams) -> list[slice]:
    """The input rows of each row tile of a layer: tile ``t`` reads rows ``t R .. min((t + 1) R, in)``, ``R`` the
    inputs per array."""
    R = arch.tile_rows
    return [slice(t * R, min((t + 1) * R, layer.in_features)) for t in range(layer.row_tiles(arch))]


def mvm_blocks(layer: LayerIR, arch: ArchParams) -> Iterator[tuple[int, int, slice, int]]:
    """Every conversion block of one MVM, in the datapath's order: ``(b, t, rows, s)`` for input slice ``b``, row
    tile ``t`` (its ``rows``) and weight slice ``s``; each block is one ADC conversion per output column."""
    tiles = row_tiles(layer, arch)
    for b in range(arch.input_slices):
        for t, rs in enumerate(tiles):
            for s in range(arch.slices):
                yield b, t, rs, s


# --------------------------------------------------------------------------- ADC
def adc_limits(bits: int, signed: bool) -> tuple[int, int]:
    """The ADC's code range: signed ``[-2^(b-1), 2^(b-1) - 1]``, unipolar ``[0, 2^b - 1]``."""
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)


def adc_full_scale_codes(bits: int, signed: bool) -> int:
    """Codes the calibrated full scale maps to: ``2^(b-1)`` signed, ``2^b - 1`` unipolar."""
    return 2 ** (bits - 1) if signed else 2**bits - 1


def adc_multiplier(adc_range: float, bits: int, signed: bool) -> tuple[int, int]:
    """ADC full scale ``adc_range`` (pre-ADC units) -> integer multiplier and shift (``ADC_MULT_BITS``
    significant bits): a pre-ADC value ``S`` converts to ``rshift_round(S * mult, shift)``."""
    import math

    inv_lsb = adc_full_scale_codes(bits, signed) / max(float(adc_range), 1e-9)
    shift = max(0, min(ADC_SHIFT_MAX, int(math.floor(math.log2((2**ADC_MULT_BITS - 1) / inv_lsb)))))
    mult = max(1, min(round_half_up(inv_lsb * 2**shift), ADC_MULT_MAX))
    return mult, shift


def adc_convert(S: Any, mult: int, shift: int, lo: int, hi: int) -> Any:
    """The ADC on exact integer pre-ADC values (golden model, RTL): ``clip(rshift_round(S * mult, shift), lo, hi)``."""
    return clip(rshift_round(S * mult, shift), lo, hi)


def adc_convert_lsb_(v: Any, lo: int, hi: int) -> Any:
    """The ADC on pre-ADC values already in LSB units (``S * mult / 2^shift``, the engine), in place:
    ``clip(round_half_up(v), lo, hi)``."""
    return round_half_up_(v).clamp_(lo, hi)


def adc_gain(mult: Any, shift: int) -> Any:
    """ADC codes per pre-ADC unit: ``mult / 2^shift``."""
    return mult / 2.0**shift


# --------------------------------------------------------------------------- activation unit (requantization)
def requant_shift(ratio: float, headroom: float = 4.0) -> int:
    """The activation unit's shift for a nominal scale ratio (``gain * out_scale / next_scale``), leaving
    ``headroom`` times the ratio for per-chip calibration gains below ``REQ_MULT_MAX``."""
    import math

    return max(0, min(REQ_SHIFT_MAX, int(math.floor(math.log2(REQ_MULT_MAX / max(headroom * ratio, 1e-30))))))


def requant_ints(layer: LayerIR, gain: Any, offset: Any) -> tuple[Any, Any]:
    """Per-column integer multiplier ``M`` and bias ``B`` of the activation unit for float ``gain`` and ``offset``:
    ``M = clip(round(gain * out_scale / (col_scale * next_scale) * 2^k), +-REQ_MULT_MAX)`` (:func:`acc_scales`),
    ``B = clip(round(offset / next_scale * 2^k), +-REQ_BIAS_MAX)``. numpy: int64 arrays; torch: float tensors of
    integers with a straight-through gradient (fine-tuning)."""
    sh = 2.0**layer.req_shift
    unit = acc_scales(layer) / layer.next_scale * sh  # float64 (out,)
    if _is_torch(gain):
        import torch

        M = ste_round(gain * torch.as_tensor(unit, dtype=gain.dtype, device=gain.device)).clamp(-REQ_MULT_MAX,
                                                                                               REQ_MULT_MAX)
        B = ste_round(offset / layer.next_scale * sh).clamp(-REQ_BIAS_MAX, REQ_BIAS_MAX)
        return M, B
    M = np.clip(round_half_up(np.asarray(gain, np.float64) * unit), -REQ_MULT_MAX, REQ_MULT_MAX)
    B = np.clip(round_half_up(np.asarray(offset, np.float64) / layer.next_scale * sh), -REQ_BIAS_MAX, REQ_BIAS_MAX)
    return M.astype(np.int64), B.astype(np.int64)


def acc_scales(layer: LayerIR) -> np.ndarray:
    """The float value of one unit of each column's accumulator (before the calibration gain): ``out_scale /
    col_scale`` (float64, (out,))."""
    return layer.out_scale / layer.col_scales.astype(np.float64)


def requant(acc: Any, M: Any, B: Any, shift: int, x_max: int, skip: Any = None, add_mult: int = 0,
            signed: bool = False) -> Any:
    """Hidden layer: output codes ``clip(rshift_round(acc * M + B + skip * add_mult, shift), lo, x_max)`` (integers,
    golden/RTL): the residual add's operand ``skip`` (codes of another layer, None: no add) is aligned by the integer
    ``add_mult`` and rounded once with the rest; ``lo`` is 0 (the ReLU) or ``-x_max`` for signed outputs."""
    v = acc * M + B
    if skip is not None:
        v = v + skip * add_mult
    return clip(rshift_round(v, shift), code_low(x_max, signed), x_max)


def code_low(x_max: int, signed: bool) -> int:
    """The smallest output code of a hidden layer: 0 (ReLU'd DAC codes) or ``-x_max`` (signed outputs, read only by
    residual adds)."""
    return -x_max if signed else 0


def add_alignment(skip_scale: float, out_scale: float, ratio: float) -> tuple[int, int]:
    """The activation unit's shift ``k`` and the residual add's multiplier for a layer whose nominal scale ratio is
    ``ratio`` (:func:`requant_shift`) and whose add operand's codes are worth ``skip_scale`` against its own output
    codes' ``out_scale``: ``add_mult = round_half_up(r * 2^k)`` with ``r = skip_scale / out_scale``, ``k`` small
    enough for both multipliers to fit ``REQ_MULT_MAX``."""
    r = skip_scale / out_scale
    k = min(requant_shift(ratio), requant_shift(r, headroom=1.0))
    return k, int(min(round_half_up(r * 2.0**k), REQ_MULT_MAX))


def requant_scaled(M: Any, B: Any, shift: int, last: bool) -> tuple[Any, Any]:
    """The activation unit as one multiply-add on floats: ``acc * M' + B'`` with ``M' = M / 2^k`` and ``B' = B / 2^k
    (+ 1/2 before the floor of a hidden layer)``; powers of two scale exactly, so ``floor(acc M' + B')`` equals
    :func:`requant`'s shift for every integer ``acc`` below 2^53 (the engine's inference form)."""
    k = 2.0**-shift
    return M * k, B * k + (0.0 if last else 0.5)


FLOAT32_INT_LIMIT = 2**24  # float32 holds every integer up to this magnitude exactly


def acc_abs_max(arch: ArchParams, tiles: int, lo: int, hi: int) -> int:
    """The largest ``|acc|`` a layer's column accumulator can reach: every row tile's ADC code at the extreme of its
    range (``lo``..``hi``, or each input slice's own range: :func:`slice_adc_limits`) for every input and weight
    slice, shift-added (:func:`shift_add_weights`)."""
    total = 0
    for b, weights in enumerate(shift_add_weights(arch)):
        lo_b, hi_b = (lo, hi) if arch.uniform_slices else slice_adc_limits(arch, b, lo < 0)
        total += sum(abs(w) for w in weights) * tiles * max(abs(lo_b), abs(hi_b))
    return total


def requant_exact_float32(acc_max: int, M: Any, B: Any, shift: int, add_mult: int, x_max: int) -> bool:
    """Whether :func:`requant_scaled`'s multiply-add of a hidden layer, with its residual add (``add_mult``, operand
    codes of magnitude up to ``x_max``), is exact in float32 for every integer ``|acc| <= acc_max``: every term
    and partial sum is an integer multiple of ``2^-K`` (``K = max(shift, 1)``, which holds the 1/2 of the rounding)
    of at most ``FLOAT32_INT_LIMIT`` such units, so each float32 product and sum is exact and the floor equals
    :func:`requant`'s."""
    K = max(shift, 1)
    up = 2 ** (K - shift)
    m_max = int(np.max(np.abs(np.asarray(M, dtype=np.float64)))) if np.size(M) else 0
    b_units = np.asarray(B, dtype=np.float64) * up + 2 ** (K - 1)  # B' in units of 2^-K: integers (float64: exact
    b_max = int(np.max(np.abs(b_units))) if np.size(B) else 0  # below 2^53, and |B| <= REQ_BIAS_MAX = 2^46)
    return up * (acc_max * m_max + x_max * abs(int(add_mult))) + b_max <= FLOAT32_INT_LIMIT


def add_scaled(add_mult: int, shift: int) -> float:
    """The residual add's multiplier in :func:`requant_scaled`'s float form: ``add_mult / 2^k`` (exact)."""
    return add_mult * 2.0**-shift
