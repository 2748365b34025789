"""cocotb test of reram_pool: one pooling lane against the datapath's pooling (reram.ir.ops): windows of
random codes fed in order, the kept word updated as the feature buffer would."""

import random

import cocotb
from cocotb.triggers import Timer


@cocotb.test()
async def pool_lane_matches_reference(dut):
    pool = int(dut.POOL.value)
    pk = int(dut.PK.value)
    xw = int(dut.XW.value)
    rng = random.Random(pool * 100 + pk)
    for _ in range(200):
        codes = [rng.randint(0, (1 << xw) - 1) for _ in range(pk)]
        kept = rng.randint(0, 3)  # garbage from an earlier inference: the first element must ignore it
        for i, c in enumerate(codes):
            dut.code.value = c
            dut.kept.value = kept
            dut.first.value = int(i == 0)
            dut.last.value = int(i == pk - 1)
            await Timer(1, unit="ns")
            kept = int(dut.out.value)
        if pool == 0:
            want = codes[-1]
        elif pool == 1:
            want = max(codes)
        else:
            want = (2 * sum(codes) + pk) // (2 * pk)  # floor(mean + 1/2), reram.ir.ops.AvgPool
        assert kept == want, (pool, pk, codes, kept, want)
