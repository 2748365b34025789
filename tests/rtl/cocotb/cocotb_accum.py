"""cocotb test of reram_accum: random lanes (including several lanes on one accumulator), clear, readback."""

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from refs import to_signed


@cocotb.test()
async def accumulators_match_reference(dut):
    aw, lanes, cw, acc_w = (int(getattr(dut, n).value) for n in ("AW", "LANES", "CW", "ACC_W"))
    depth = 1 << aw
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.clear.value = 0
    dut.add_en.value = 0
    dut.add_idx.value = 0
    dut.add_code.value = 0
    dut.add_shift.value = 0
    dut.rd_idx.value = 0
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    ref = [0] * depth
    rng = random.Random(7)
    for step in range(300):
        await FallingEdge(dut.clk)
        if step == 150:  # a clear in the middle
            dut.clear.value = 1
            dut.add_en.value = 0
            await RisingEdge(dut.clk)
            ref = [0] * depth
            await FallingEdge(dut.clk)
            dut.clear.value = 0
        en = idx = code = sh = 0
        base = rng.randrange(depth)
        for k in range(lanes):
            on = rng.random() < 0.7
            i = (base + rng.randrange(2)) % depth  # neighbouring lanes often share an accumulator
            c = rng.randint(-(1 << (cw - 1)), (1 << (cw - 1)) - 1)
            s = rng.randint(0, 12)
            en |= int(on) << k
            idx |= i << (k * aw)
            code |= (c & ((1 << cw) - 1)) << (k * cw)
            sh |= s << (k * 6)
            if on:
                ref[i] += c << s
        dut.add_en.value = en
        dut.add_idx.value = idx
        dut.add_code.value = code
        dut.add_shift.value = sh
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.add_en.value = 0
    for i in range(depth):
        dut.rd_idx.value = i
        await ReadOnly()
        got = to_signed(int(dut.rd_data.value), acc_w)
        assert got == ref[i], f"accumulator {i}: {got} != {ref[i]}"
        await FallingEdge(dut.clk)
