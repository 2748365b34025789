"""cocotb test of reram_layer_ctrl against the analytic cycle model (reram.ir.machine.layer_cycles): strobe
counts and cycles per inference, back-to-back inferences, positions in row-major order, and a stall in the middle."""

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

STROBES = ("latch", "xbar_start", "adc_issue", "act_valid", "fin")


async def run_once(dut, counts, positions):
    """Raise go for one inference; sample every cycle (falling edge) until FIN; count strobes and the cycles from
    LATCH through FIN."""
    await FallingEdge(dut.clk)
    dut.go.value = 1
    cycles = 0
    while True:
        await FallingEdge(dut.clk)
        dut.go.value = 0
        if int(dut.busy.value):
            cycles += 1
            for name in counts:
                counts[name] += int(getattr(dut, name).value)
            if int(dut.latch.value):
                positions.append((int(dut.gy.value), int(dut.gx.value)))
            if int(dut.fin.value):
                return cycles
        assert cycles < 10**6


@cocotb.test()
async def controller_matches_cycle_model(dut):
    expect = json.loads(os.environ["RERAM_CTRL_EXPECT"])
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.go.value = 0
    dut.stall.value = 0
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    for _ in range(2):  # back to back
        counts = dict.fromkeys(STROBES, 0)
        positions: list[tuple[int, int]] = []
        cycles = await run_once(dut, counts, positions)
        assert cycles == expect["cycles"], (cycles, expect["cycles"])
        for k in STROBES:
            assert counts[k] == expect[k], (k, counts[k], expect[k])
        assert positions == [tuple(p) for p in expect["positions"]]
    # a stall freezes a running inference; releasing it lets it finish
    await FallingEdge(dut.clk)
    dut.go.value = 1
    await FallingEdge(dut.clk)
    dut.go.value = 0
    await FallingEdge(dut.clk)
    dut.stall.value = 1
    state = int(dut.state.value)
    for _ in range(50):
        await FallingEdge(dut.clk)
        assert int(dut.state.value) == state and int(dut.busy.value) == 1
        assert not any(int(getattr(dut, s).value) for s in STROBES)
    dut.stall.value = 0
    while not int(dut.fin.value):
        await FallingEdge(dut.clk)
