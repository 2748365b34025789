"""cocotb test of reram_adc: driver, reference model, checker; random values, multipliers, shifts, signedness."""

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from refs import to_signed

from reram.ir.rules import ADC_MULT_BITS, ADC_SHIFT_MAX, adc_convert, adc_limits


def ref_adc(value: int, mult: int, shift: int, signed: bool, bits: int) -> int:
    """The datapath rule (reram.ir.rules.adc_convert) on the ADC's code range (adc_limits)."""
    return int(adc_convert(value, mult, shift, *adc_limits(bits, signed)))


@cocotb.test()
async def adc_matches_reference(dut):
    bits = int(dut.ADC_BITS.value)
    lat = int(dut.LAT.value)
    sw = int(dut.SW.value)
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.in_valid.value = 0
    dut.in_value.value = 0
    dut.mult.value = 1
    dut.shift.value = 0
    dut.is_signed.value = 1
    dut.in_tag.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    rng = random.Random(1)
    expected = {}  # edge index -> (code, tag)
    checked = 0
    for edge in range(400):
        await FallingEdge(dut.clk)
        valid = rng.random() < 0.8  # random idle cycles
        value = rng.randint(-(1 << (sw - 2)), (1 << (sw - 2)) - 1) if rng.random() < 0.5 else rng.randint(-3000, 3000)
        mult = rng.randint(1, (1 << ADC_MULT_BITS) - 1)
        shift = rng.randint(0, min(30, ADC_SHIFT_MAX))
        signed = rng.random() < 0.7
        tag = rng.randint(0, 1)
        dut.in_valid.value = int(valid)
        dut.in_value.value = value & ((1 << sw) - 1)
        dut.mult.value = mult
        dut.shift.value = shift
        dut.is_signed.value = int(signed)
        dut.in_tag.value = tag
        if valid:
            expected[edge + lat - 1] = (ref_adc(value, mult, shift, signed, bits), tag)
        await RisingEdge(dut.clk)
        await ReadOnly()
        if edge in expected:
            code, want_tag = expected.pop(edge)
            assert int(dut.out_valid.value) == 1, f"edge {edge}: out_valid low"
            got = to_signed(int(dut.out_code.value), bits + 1)
            assert got == code, f"edge {edge}: code {got}, expected {code}"
            assert int(dut.out_tag.value) == want_tag
            checked += 1
        else:
            assert int(dut.out_valid.value) == 0, f"edge {edge}: spurious out_valid"
    assert checked > 250
