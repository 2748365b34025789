"""cocotb test of reram_addrgen: the im2col addresses of one row tile for every output position, against the
golden model's patches (reram.ir.ops.Conv2d.patches_np on an input whose value is its own address)."""

import json
import os

import cocotb
from cocotb.triggers import Timer


@cocotb.test()
async def addresses_match_the_golden_patches(dut):
    want = json.loads(os.environ["RERAM_ADDRGEN_EXPECT"])  # [[oy, ox, [address or -1 per row]], ...]
    rows = int(dut.ROWS.value)
    aw = int(dut.AW.value)
    for oy, ox, addrs in want:
        dut.oy.value = oy
        dut.ox.value = ox
        await Timer(1, unit="ns")
        a = int(dut.addr.value)
        v = int(dut.valid.value)
        for r in range(rows):
            got = (a >> (r * aw)) & ((1 << aw) - 1) if (v >> r) & 1 else -1
            assert got == addrs[r], (oy, ox, r, got, addrs[r])
