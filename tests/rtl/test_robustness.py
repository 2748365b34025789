"""Top-level RTL robustness: idle cycles on the host bus, reset in the middle of an inference, protocol checks."""

from __future__ import annotations

import numpy as np
import pytest

from reram.config.schema import RtlConfig
from reram.errors import CosimError
from reram.golden import golden_forward
from reram.rtl.bridge import RtlSim
from reram.rtl.build import build_library
from reram.rtl.images import build_image
from reram.rtl.params import analytic_cycles, rtl_params

pytestmark = pytest.mark.rtl
SETS, RCFG = ("array.rows=32", "array.cols=16", "dac.bits=6"), RtlConfig(adcs_per_array=1)


@pytest.fixture(scope="module")
def design(rtl_case):
    cm, chip, x, _ = rtl_case(*SETS)
    p = rtl_params(cm, RCFG)
    lib, _ = build_library(p, progress=False)
    return cm, chip, x, p, lib


def _run_slow_host(sim: RtlSim, cm, x_row: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Drive one sample word by word with random idle cycles between bus operations."""
    cpw = 4 if cm.arch.dac_bits <= 8 else 2
    field = 32 // cpw
    for w in range(0, len(x_row), cpw):
        sim.tick(int(rng.integers(0, 4)))
        sim.write((0x08 << 24) | (w // cpw), sum(int(v) << (field * i) for i, v in enumerate(x_row[w : w + cpw])))
    sim.tick(int(rng.integers(0, 10)))
    sim.write(0, 1)
    while not sim.status()["done"]:
        sim.tick(int(rng.integers(1, 7)))  # a host that polls slowly (back-pressure on the status reads)
    n_out = cm.layers[-1].out_features
    logits = np.array([(sim.read(0x101 + 2 * j) << 32) | sim.read(0x100 + 2 * j) for j in range(n_out)],
                      dtype=np.uint64).astype(np.int64)
    return logits, sim.read(3)


def test_random_idle_cycles_and_slow_polling(design):
    cm, chip, x, p, lib = design
    rng = np.random.default_rng(0)
    g = golden_forward(cm, chip, x[:6])
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, p))
        for s in range(6):
            logits, pred = _run_slow_host(sim, cm, x[s], rng)
            np.testing.assert_array_equal(logits, g.logits[s])
            assert pred == g.predictions[s]
            assert sim.read(2) == analytic_cycles(p)  # idle host cycles do not count
        assert sim.status()["protocol_error"] == 0


def test_reset_mid_inference_then_clean_run(design):
    cm, chip, x, p, lib = design
    g = golden_forward(cm, chip, x[:4])
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, p))
        sim.write((0x08 << 24), 0xFFFFFFFF)
        sim.write(0, 1)
        sim.tick(analytic_cycles(p) // 2)
        assert sim.status()["busy"] == 1
        sim.reset()
        st = sim.status()
        assert st["busy"] == 0 and st["done"] == 0 and st["state"] == "IDLE"
        # memories keep their contents through reset; run cleanly
        logits, preds, cycles = sim.run_batch(np.ascontiguousarray(x[:4], np.uint16), 10, cm.arch.dac_bits, 10**6)
        np.testing.assert_array_equal(logits, g.logits)
        np.testing.assert_array_equal(preds, g.predictions)
        assert (cycles == analytic_cycles(p)).all()


def test_writes_while_busy_are_protocol_errors(design):
    cm, chip, x, p, lib = design
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, p))
        sim.write(0, 1)
        sim.tick(3)
        sim.write((0x08 << 24), 0)  # input write during an inference
        assert sim.status()["protocol_error"] == 1
        sim.tick(analytic_cycles(p))
        with pytest.raises(CosimError, match="protocol error"):
            sim.run_batch(np.ascontiguousarray(x[:1], np.uint16), 10, cm.arch.dac_bits, 10**6)
        sim.clear_counters()  # clears the sticky flag
        assert sim.status()["protocol_error"] == 0
