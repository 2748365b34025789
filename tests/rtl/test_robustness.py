"""Top-level RTL robustness: an irregular host (idle cycles between input beats, late logit reads: back-pressure
through every double buffer), reset in the middle of a stream, protocol checks."""

from __future__ import annotations

import numpy as np
import pytest

from reram.config.schema import RtlConfig
from reram.errors import CosimError
from reram.golden import golden_forward
from reram.ir.addrmap import addr
from reram.rtl.bridge import RtlSim
from reram.rtl.build import build_library
from reram.rtl.images import build_image
from reram.rtl.params import rtl_params
from reram_designs import tiny_design

pytestmark = [pytest.mark.rtl, pytest.mark.slow]  # Verilator builds of several machines
SETS, RCFG = ("array.rows=256", "array.cols=256", "dac.bits=6"), RtlConfig(adcs_per_array=1)  # as test_cosim


@pytest.fixture(scope="module")
def design(rtl_case):
    cm, chip, x, _ = rtl_case(*SETS)
    m = rtl_params(cm, RCFG)
    lib, _ = build_library(m, progress=False)
    return cm, chip, x, m, lib


def _sizes(cm):
    return [ly.out_size for ly in cm.layers[:-1]]


@pytest.mark.parametrize("seed", [1, 7, 1234])
def test_irregular_host_back_pressure(design, seed):
    cm, chip, x, m, lib = design
    g = golden_forward(cm, chip, x[:12])
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, m))
        logits, preds, cycles, caps = sim.run_batch(np.ascontiguousarray(x[:12], np.uint16), 10, 10**6, _sizes(cm),
                                                    len(cm.layers), jitter_seed=seed)
        np.testing.assert_array_equal(logits, g.logits)
        np.testing.assert_array_equal(preds, g.predictions)
        for li, c in enumerate(caps):
            np.testing.assert_array_equal(c, g.layer_outputs[li])
        assert (np.asarray(cycles, np.int64) >= np.asarray(m.schedule(12))).all()  # a slow host never speeds it up
        assert sim.status()["protocol_error"] == 0


def test_irregular_host_on_a_conv_pipeline():
    cm, chip, x, cfg = tiny_design(conv=True, pool="avg", n_samples=6)
    m = rtl_params(cm, cfg.rtl)
    lib, _ = build_library(m, progress=False)
    g = golden_forward(cm, chip, x)
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, m))
        logits, _, _, caps = sim.run_batch(np.ascontiguousarray(x, np.uint16), 5, 10**6, _sizes(cm), 3,
                                           jitter_seed=5)
        np.testing.assert_array_equal(logits, g.logits)
        for li, c in enumerate(caps):
            np.testing.assert_array_equal(c, g.layer_outputs[li])


def test_reset_mid_stream_then_clean_run(design):
    cm, chip, x, m, lib = design
    g = golden_forward(cm, chip, x[:4])
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, m))
        with pytest.raises(CosimError, match="hang"):  # stop the stream half-way through the first inference
            sim.run_batch(np.ascontiguousarray(x[:4], np.uint16), 10, m.latency_cycles // 2)
        assert sim.status()["busy"] == 1
        sim.reset()
        st = sim.status()
        assert st["busy"] == 0 and st["out_ready"] == 0 and st["in_ready"] == 1
        # memories keep their contents through reset; run cleanly
        logits, preds, cycles, _ = sim.run_batch(np.ascontiguousarray(x[:4], np.uint16), 10, 10**6)
        np.testing.assert_array_equal(logits, g.logits)
        np.testing.assert_array_equal(preds, g.predictions)
        assert cycles.tolist() == m.schedule(4)


def test_writes_while_busy_are_protocol_errors(design):
    cm, chip, x, m, lib = design
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, m))
        with pytest.raises(CosimError, match="hang"):
            sim.run_batch(np.ascontiguousarray(x[:2], np.uint16), 10, m.latency_cycles // 2)
        sim.write(addr("RMULT", 0), 0)  # a constant written during an inference
        assert sim.status()["protocol_error"] == 1
        sim.reset()
        sim.write_block(*build_image(cm, chip, m))
        sim.set_stall(False)
        sim.write(addr("REG", 0), 0)
        assert sim.status()["protocol_error"] == 0  # reset clears it
        sim.tick(3)
        with pytest.raises(CosimError, match="hang"):
            sim.run_batch(np.ascontiguousarray(x[:2], np.uint16), 10, m.latency_cycles // 2)
        sim.write(addr("GPOS", 0), 1)
        with pytest.raises(CosimError, match="protocol error"):
            sim.run_batch(np.ascontiguousarray(x[:1], np.uint16), 10, 10**6)
        sim.clear_counters()  # clears the sticky flag
        assert sim.status()["protocol_error"] == 0


EVENTS = ("dac_row_activations", "array_reads", "adc_conversions", "shift_adds", "input_buffer_reads",
          "output_buffer_writes", "residual_adds")
STALL_DESIGNS = {
    # name: tiny_design arguments: a pooled conv net (repeated activation strobes would corrupt the average), a
    # ResNet-8 (forks and joins), an MLP whose second layer is slower than its first (back-pressure between layers)
    "conv-avgpool": {"conv": True, "pool": "avg"},
    "resnet8": {"graph": True, "pool": "max", "sets": ("rtl.act_lanes=2", "rtl.adcs_per_array=1")},
    "later-layer-slower": {"widths": (4, 40), "sets": ("rtl.act_lanes=2",)},
}


def _stall_design(name: str):
    kw = dict(STALL_DESIGNS[name])
    cm, chip, x, cfg = tiny_design(*kw.pop("sets", ()), n_samples=8, **kw)
    m = rtl_params(cm, cfg.rtl)
    lib, _ = build_library(m, progress=False)
    return cm, chip, x, m, lib


@pytest.mark.parametrize("name", list(STALL_DESIGNS))
def test_stalls_mid_inference_keep_codes_and_event_counts(name):
    """The host freezes every controller at random cycles, mid-inference (in every state: about one cycle in eight
    is stalled, over thousands of cycles), and reads the logits late: every layer's codes, the logits and the event
    counters still equal the golden model's; only the cycles grow."""
    cm, chip, x, m, lib = _stall_design(name)
    g = golden_forward(cm, chip, x, collect_events=True)
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, m))
        sim.clear_counters()
        logits, _, cycles, caps = sim.run_batch(np.ascontiguousarray(x, np.uint16), 5, 10**6, _sizes(cm),
                                                len(cm.layers), jitter_seed=3, stall_seed=11)
        counts = sim.counters()
        assert sim.status()["protocol_error"] == 0
    np.testing.assert_array_equal(logits, g.logits)
    for li, c in enumerate(caps):
        np.testing.assert_array_equal(c, g.layer_outputs[li], err_msg=cm.layers[li].name)
    for k in EVENTS:
        assert counts[k] == g.events.get(k, 0), k
    assert cycles[-1] > m.schedule(len(x))[-1]  # the stalls cost cycles


def test_a_later_slower_layer_back_pressures_the_first_exactly():
    """The second layer is slower than the first: the first waits for a free output bank, and the analytic schedule
    mirrors it cycle for cycle."""
    from reram.rtl.cosim import run_cosim

    cm, chip, x, m, _ = _stall_design("later-layer-slower")
    assert m.layers[1].cycles > m.layers[0].cycles
    rcfg = RtlConfig(act_lanes=2)
    res = run_cosim(cm, chip, x, np.zeros(len(x), np.int64), rcfg, progress=False, batch=8)
    assert res.mismatched_codes == 0 and res.cycles_match, res.first_cycle_mismatch
    assert res.ii_cycles == m.layers[1].cycles + 1  # the slow layer sets the pace
