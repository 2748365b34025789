"""cocotb test of reram_ctrl against the analytic cycle model: strobe counts and cycles per inference, with
back-to-back starts and a stall (watchdog hook) in the middle."""

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge


async def run_once(dut, counts):
    """Start one inference; sample every cycle in its middle (falling edge) until done."""
    await FallingEdge(dut.clk)
    dut.start.value = 1
    cycles = 0
    while True:
        await FallingEdge(dut.clk)
        dut.start.value = 0
        if int(dut.done.value):
            return cycles
        if int(dut.busy.value):
            cycles += 1
            for name in counts:
                counts[name] += int(getattr(dut, name).value)
        assert cycles < 10**6


@cocotb.test()
async def controller_matches_cycle_model(dut):
    expect = json.loads(os.environ["RERAM_CTRL_EXPECT"])
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.start.value = 0
    dut.stall.value = 0
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    for _ in range(2):  # back to back
        counts = {"xbar_start": 0, "adc_issue": 0, "act_valid": 0, "latch": 0, "clr_acc": 0}
        cycles = await run_once(dut, counts)
        assert cycles == expect["cycles"], (cycles, expect["cycles"])
        for k, v in counts.items():
            assert v == expect[k], (k, v, expect[k])
    # a stall freezes a running inference; releasing it lets it finish with the stalled cycles added
    await FallingEdge(dut.clk)
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0
    for _ in range(5):
        await FallingEdge(dut.clk)
    dut.stall.value = 1
    state = int(dut.state.value)
    for _ in range(50):
        await FallingEdge(dut.clk)
        assert int(dut.state.value) == state and int(dut.busy.value) == 1
    dut.stall.value = 0
    while not int(dut.done.value):
        await FallingEdge(dut.clk)
