"""cocotb test of reram_argmax: the first index of the largest logit, LANES logits per cycle in increasing index
order, with idle cycles and partly valid lane groups."""

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge


@cocotb.test()
async def argmax_keeps_first_maximum(dut):
    iw = int(dut.IW.value)
    lanes = int(dut.LANES.value)
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.clear.value = 0
    dut.in_valid.value = 0
    dut.in_idx.value = 0
    dut.in_value.value = 0
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    rng = random.Random(5)
    for _ in range(40):
        n = rng.randint(1, min(20, 1 << iw))
        vals = [rng.randint(-5, 5) for _ in range(n)]
        await FallingEdge(dut.clk)
        dut.clear.value = 1
        await FallingEdge(dut.clk)
        dut.clear.value = 0
        for start in range(0, n, lanes):
            valid = idx = value = 0
            for k in range(lanes):
                i = start + k
                if i < n:
                    valid |= 1 << k
                    idx |= i << (k * iw)
                    value |= (vals[i] & ((1 << 64) - 1)) << (k * 64)
            dut.in_valid.value = valid
            dut.in_idx.value = idx
            dut.in_value.value = value
            await FallingEdge(dut.clk)
            if rng.random() < 0.3:  # idle cycles
                dut.in_valid.value = 0
                await FallingEdge(dut.clk)
        dut.in_valid.value = 0
        await ReadOnly()
        assert int(dut.best_idx.value) == vals.index(max(vals))
