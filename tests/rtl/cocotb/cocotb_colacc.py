"""cocotb test of reram_colacc: random adds through the ADC lanes (lane L = u * N_ADC + k adds to column
u * PAIRS + r * N_ADC + k in round r), clears, and the activation lanes' reads of every step, against a dict model."""

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from refs import to_signed


@cocotb.test()
async def columns_accumulate_and_read_back(dut):
    lanes, n_adc, pairs = int(dut.LANES.value), int(dut.N_ADC.value), int(dut.PAIRS.value)
    depth, acw = int(dut.DEPTH.value), int(dut.ACW.value)
    act, slices, asteps = int(dut.ACT_LANES.value), int(dut.SLICES.value), int(dut.ASTEPS.value)
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.clear.value = 0
    dut.add_en.value = 0
    dut.add_round.value = 0
    dut.add_val.value = 0
    dut.rd_step.value = 0
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    rng = random.Random(lanes * 7 + depth)
    model: dict[int, int] = {}
    mask = (1 << acw) - 1
    for _ in range(6):
        await FallingEdge(dut.clk)
        dut.clear.value = 1
        await FallingEdge(dut.clk)
        dut.clear.value = 0
        model.clear()
        for _ in range(30):
            r = rng.randrange(depth)
            en = rng.getrandbits(lanes)
            for i in range(lanes):  # an ADC lane never converts beyond its array's columns (reram_layer gates it)
                if r * n_adc + i % n_adc >= pairs:
                    en &= ~(1 << i)
            vals = [rng.randint(-200, 200) for _ in range(lanes)]
            dut.add_en.value = en
            dut.add_round.value = r
            dut.add_val.value = sum((v & mask) << (i * acw) for i, v in enumerate(vals))
            for i in range(lanes):
                if (en >> i) & 1:
                    col = (i // n_adc) * pairs + r * n_adc + i % n_adc
                    model[col] = model.get(col, 0) + vals[i]
            await FallingEdge(dut.clk)
        dut.add_en.value = 0
        for j in range(asteps):
            dut.rd_step.value = j
            await ReadOnly()
            data = int(dut.rd_data.value)
            for g in range(act * slices):
                col = (j * act + g // slices) * slices + g % slices
                u, rem = divmod(col, pairs)
                inside = u * n_adc + rem % n_adc < lanes and rem // n_adc < depth
                want = model.get(col, 0) if inside else 0
                got = to_signed((data >> (g * acw)) & mask, acw)
                assert got == to_signed(want & mask, acw), (j, g, col, got, want)
            await FallingEdge(dut.clk)
