"""The datapath rules of reram.ir.rules: one rounding rule everywhere, and numpy and torch giving the same codes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from reram.ir import rules
from reram.ir.core import ArchParams, LayerIR

SRC = Path(__file__).resolve().parents[2] / "src" / "reram"
DATAPATH = ("ir", "chip", "compile", "analog", "golden", "models", "energy", "rtl")


def test_rounding_is_half_up_for_numpy_torch_and_python():
    ties = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
    expect = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(rules.round_half_up(ties), expect)
    np.testing.assert_array_equal(rules.round_half_up(torch.tensor(ties)).numpy(), expect)
    assert [rules.round_half_up(float(v)) for v in ties] == expect.astype(int).tolist()
    ints = np.array([-5, -3, -1, 1, 3, 5], np.int64)  # v / 2 = -2.5 ... 2.5
    np.testing.assert_array_equal(rules.rshift_round(ints, 1), expect.astype(np.int64))
    np.testing.assert_array_equal(rules.rshift_round(torch.tensor(ints), 1).numpy(), expect.astype(np.int64))


def test_no_half_to_even_rounding_in_the_datapath():
    """Python's round() and torch.round / .round() (half to even) are not used where a value becomes a code (the
    datapath layers: ir, chip, compile, analog, golden, models, energy, rtl)."""
    pattern = re.compile(r"(?<![\w.])round\(|torch\.round\(|\.round\(\)")
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.relative_to(SRC).parts[0] not in DATAPATH:
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if pattern.search(code) and not code.strip().startswith(("``", '"', "'")):
                offenders.append(f"{path.relative_to(SRC)}:{i}: {line.strip()}")
    assert offenders == []


def test_grid_codes_and_adc_multiplier_round_half_up():
    arch = ArchParams()
    np.testing.assert_array_equal(rules.grid_codes(torch.tensor([0.5, 1.5, 2.5]), arch), [1, 2, 3])
    # a full scale whose exact multiplier is a tie: inv_lsb * 2**shift = 40000.5 (shift 0: 16 significant bits)
    mult, shift = rules.adc_multiplier(128 / 40000.5, 8, True)
    assert shift == 0 and mult == 40001


def _layer(out_scale=0.02, next_scale=0.01, req_shift=8) -> LayerIR:
    return LayerIR(name="l", in_features=3, out_features=4, relu=True, weight=np.zeros((4, 3), np.float32),
                   bias=np.zeros(4, np.float32), out_scale=out_scale, next_scale=next_scale, req_shift=req_shift)


def test_requantization_ints_agree_in_numpy_and_torch_and_clip():
    layer = _layer()
    gain = np.array([1.0, -0.3, 200.0, -200.0])  # the last two beyond the 16-bit multiplier
    offset = np.array([0.013, -0.02, 1e12, -1e12])
    M, B = rules.requant_ints(layer, gain, offset)
    Mt, Bt = rules.requant_ints(layer, torch.tensor(gain), torch.tensor(offset))
    np.testing.assert_array_equal(Mt.numpy(), M)
    np.testing.assert_array_equal(Bt.numpy(), B)
    assert M[2] == rules.REQ_MULT_MAX and M[3] == -rules.REQ_MULT_MAX
    assert B[2] == rules.REQ_BIAS_MAX and B[3] == -rules.REQ_BIAS_MAX


def test_requant_scaled_equals_the_integer_activation_unit():
    rng = np.random.default_rng(0)
    acc = rng.integers(-(2**20), 2**20, (200, 4))
    M, B = rng.integers(-(2**15) + 1, 2**15, 4), rng.integers(-(2**30), 2**30, 4)
    for shift in (0, 1, 9, 20):
        m, b = rules.requant_scaled(torch.tensor(M, dtype=torch.float64), torch.tensor(B, dtype=torch.float64), shift,
                                    last=False)
        got = torch.addcmul(b, torch.tensor(acc, dtype=torch.float64), m).floor_().clamp_(0, 255).numpy()
        np.testing.assert_array_equal(got, rules.requant(acc, M, B, shift, 255))


def _requant_float32(acc, M, B, shift, skip, add_mult):
    """The engine's float32 form of the activation unit (engine.requantize, then the add and the floor)."""
    from reram.analog.engine import requantize

    m, b = rules.requant_scaled(torch.tensor(M, dtype=torch.float64), torch.tensor(B, dtype=torch.float64), shift,
                                last=False)
    y = requantize(torch.tensor(acc, dtype=torch.float32), m.float(), b.float())
    y.add_(torch.tensor(skip, dtype=torch.float32), alpha=rules.add_scaled(add_mult, shift))
    return y.floor_().clamp_(-255, 255).numpy()


@pytest.mark.parametrize("mode, bits, phases", [("multilevel", 8, 1), ("bit_serial", 4, 1), ("integrating", 8, 2)])
def test_acc_abs_max_is_the_extreme_codes_shift_added(mode, bits, phases):
    arch = ArchParams(dac_bits=bits, dac_mode=mode, dac_phases=phases)
    lo, hi = rules.adc_limits(arch.adc_bits, True)
    # brute force: every tile's every slice's ADC at its most negative code (the larger magnitude), shift-added
    want = 0
    for b, weights in enumerate(rules.shift_add_weights(arch)):
        lo_b = lo if arch.uniform_slices else rules.slice_adc_limits(arch, b, True)[0]
        want += sum(weights) * 3 * -lo_b
    assert rules.acc_abs_max(arch, 3, lo, hi) == want
    assert rules.acc_abs_max(arch, 1, 0, hi) < rules.acc_abs_max(arch, 1, lo, hi)


def test_float32_requantization_is_exact_where_the_guard_says_so():
    rng = np.random.default_rng(5)
    checked = refused = 0
    for _ in range(300):
        shift = int(rng.integers(0, 24))
        acc_max = int(rng.integers(1, 2**12))
        m_top = 2 ** int(rng.integers(4, 16))
        M = rng.integers(-m_top + 1, m_top, 3)
        B = rng.integers(-(2**int(rng.integers(1, 30))), 2**20, 3)
        add_mult = int(rng.integers(0, 2**15))
        if not rules.requant_exact_float32(acc_max, M, B, shift, add_mult, 255):
            refused += 1
            continue
        checked += 1
        acc = np.concatenate([np.full((1, 3), -acc_max), np.full((1, 3), acc_max),
                              rng.integers(-acc_max, acc_max + 1, (200, 3))])
        skip = rng.integers(-255, 256, (acc.shape[0], 3))
        want = rules.requant(acc, M, B, shift, 255, skip=skip, add_mult=add_mult, signed=True)
        np.testing.assert_array_equal(_requant_float32(acc, M, B, shift, skip, add_mult), want)
    assert checked > 30 and refused > 30
    # past the guard float32 is not exact: B' = 2^24 + 1 rounds to 2^24 and the code drops from 1 to 0
    acc, M, B = np.array([[2**11]]), np.array([-(2**14)]), np.array([2**25 + 1])
    assert not rules.requant_exact_float32(2**11, M, B, 1, 0, 255)
    assert rules.requant(acc, M, B, 1, 255, signed=True)[0, 0] == 1
    assert _requant_float32(acc, M, B, 1, np.zeros((1, 1)), 0)[0, 0] == 0


@pytest.mark.parametrize("mode, bits, phases", [("multilevel", 8, 1), ("bit_serial", 6, 1), ("integrating", 8, 2)])
def test_input_slices_agree_and_recompose(mode, bits, phases):
    arch = ArchParams(dac_bits=bits, dac_mode=mode, dac_phases=phases)
    x = np.random.default_rng(1).integers(0, 2**bits, (5, 7))
    sl_np = rules.input_slices(x, arch)
    sl_t = rules.input_slices(torch.tensor(x, dtype=torch.float32), arch)
    assert len(sl_np) == arch.input_slices
    for a, b in zip(sl_np, sl_t, strict=True):
        np.testing.assert_array_equal(a, b.numpy())
    weights = rules.shift_add_weights(arch)
    np.testing.assert_array_equal(sum(s * w[0] for s, w in zip(sl_np, weights, strict=True)), x)


def test_adc_convert_forms_agree():
    rng = np.random.default_rng(2)
    S = rng.integers(-(2**16), 2**16, 1000)
    mult, shift = 3001, 12
    lo, hi = rules.adc_limits(8, True)
    exact = rules.adc_convert(S, mult, shift, lo, hi)
    lsb = rules.adc_convert_lsb_(torch.tensor(S, dtype=torch.float64) * rules.adc_gain(mult, shift), lo, hi)
    np.testing.assert_array_equal(lsb.numpy(), exact)
    assert exact.min() == lo and exact.max() == hi  # both clamps reached
    assert rules.adc_limits(8, False) == (0, 255)


def test_window_sizes_match_torch():
    x = torch.zeros(1, 1, 13, 10)
    for k, s, p in [(3, 1, 1), (5, 2, 0), (2, 2, 0), (4, 3, 2)]:
        got = torch.nn.functional.conv2d(x, torch.zeros(1, 1, k, k), stride=s, padding=p).shape[2:]
        assert rules.window_out_hw((13, 10), (k, k), (s, s), (p, p)) == tuple(got)
