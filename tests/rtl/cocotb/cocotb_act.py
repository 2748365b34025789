"""cocotb test of reram_act: bias, ReLU and requantization of hidden layers; logits of the last layer."""

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from refs import to_signed


def ref_act(acc: int, mult: int, bias: int, shift: int, xw: int) -> tuple[int, int]:
    y = acc * mult + bias
    q = (y + (1 << (shift - 1))) >> shift if shift else y
    return min(max(q, 0), (1 << xw) - 1), y


@cocotb.test()
async def activation_matches_reference(dut):
    acc_w, xw = int(dut.ACC_W.value), int(dut.XW.value)
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.in_valid.value = 0
    dut.acc.value = 0
    dut.mult.value = 0
    dut.bias.value = 0
    dut.shift.value = 0
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    rng = random.Random(3)
    for _ in range(500):
        await FallingEdge(dut.clk)
        acc = rng.randint(-(1 << 30), 1 << 30)
        mult = rng.randint(-(1 << 15), (1 << 15) - 1)
        bias = rng.randint(-(1 << 46), 1 << 46)
        shift = rng.randint(0, 40)
        dut.in_valid.value = 1
        dut.acc.value = acc & ((1 << acc_w) - 1)
        dut.mult.value = mult & 0xFFFF
        dut.bias.value = bias & ((1 << 64) - 1)
        dut.shift.value = shift
        await RisingEdge(dut.clk)
        await ReadOnly()
        code, logit = ref_act(acc, mult, bias, shift, xw)
        assert int(dut.out_valid.value) == 1
        assert int(dut.out_code.value) == code
        assert to_signed(int(dut.out_logit.value), 64) == logit
