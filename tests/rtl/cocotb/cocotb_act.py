"""cocotb test of reram_act: bias, ReLU and requantization of hidden layers; logits of the last layer."""

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from refs import to_signed

from reram.ir.rules import REQ_BIAS_MAX, REQ_BIAS_W, REQ_MULT_W, REQ_SHIFT_MAX, requant


def ref_act(acc: int, mult: int, bias: int, shift: int, xw: int) -> tuple[int, int]:
    """The datapath rule (reram.ir.rules.requant) for a hidden layer's code; the last layer's logit y."""
    return int(requant(acc, mult, bias, shift, (1 << xw) - 1)), acc * mult + bias


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
        mult = rng.randint(-(1 << (REQ_MULT_W - 1)), (1 << (REQ_MULT_W - 1)) - 1)  # the register's whole range
        bias = rng.randint(-REQ_BIAS_MAX, REQ_BIAS_MAX)
        shift = rng.randint(0, REQ_SHIFT_MAX)
        dut.in_valid.value = 1
        dut.acc.value = acc & ((1 << acc_w) - 1)
        dut.mult.value = mult & ((1 << REQ_MULT_W) - 1)
        dut.bias.value = bias & ((1 << REQ_BIAS_W) - 1)
        dut.shift.value = shift
        await RisingEdge(dut.clk)
        await ReadOnly()
        code, logit = ref_act(acc, mult, bias, shift, xw)
        assert int(dut.out_valid.value) == 1
        assert int(dut.out_code.value) == code
        assert to_signed(int(dut.out_logit.value), 64) == logit
