"""Co-simulation of layer graphs: a ResNet-8 (identity and projection shortcuts, signed projection codes, global
average pooling, a pooled map feeding a residual add) against the golden model on every node, with the analytic
schedule of the forks and joins, the residual-add counter, back-pressure from a slow host, and a wrong add
multiplier caught."""

from __future__ import annotations

import numpy as np
import pytest

from reram.golden import golden_forward
from reram.ir.addrmap import SET_STRIDE, SETTINGS, addr
from reram.rtl.bridge import RtlSim
from reram.rtl.build import build_library
from reram.rtl.cosim import raise_on_mismatch, run_cosim
from reram.rtl.images import build_image
from reram.rtl.params import layer_fields, rtl_params
from reram_designs import tiny_design

pytestmark = [pytest.mark.rtl, pytest.mark.slow]  # Verilator builds

CASES = {
    # name: (tiny_design overrides, stem pooling)
    "identity-and-projection-pooled-stem": (("rtl.act_lanes=2", "rtl.adcs_per_array=1"), "max"),
    "avg-pooled-skip-bitserial": (("dac.mode=bit_serial", "dac.bits=4", "rtl.adc_latency=2"), "avg"),
}


@pytest.fixture(scope="module")
def graph_design():
    # the machine of the first case, of the mutation test's and of the stall test's graph: one Verilator build
    return tiny_design("rtl.act_lanes=2", "rtl.adcs_per_array=1", graph=True, pool="max", n_samples=12)


@pytest.mark.parametrize("case", list(CASES))
def test_graph_rtl_matches_golden_on_every_node(case):
    sets, pool = CASES[case]
    cm, chip, x, cfg = tiny_design(*sets, graph=True, pool=pool, n_samples=10)
    assert not cm.is_chain and sum(ly.add_src is not None for ly in cm.layers) == 3
    res = run_cosim(cm, chip, x, np.zeros(len(x), np.int64), cfg.rtl, progress=False, batch=4)
    hidden = sum(ly.out_size for ly in cm.layers[:-1])
    assert res.compared_codes == len(x) * (hidden + cm.layers[-1].out_features)  # every node of every sample
    assert res.mismatched_codes == 0 and res.mismatched_predictions == 0, res.mismatches
    assert res.cycles_match, res.first_cycle_mismatch  # the forks and joins of the analytic schedule
    assert (res.latency_cycles, res.ii_cycles) == (res.analytic_latency_cycles, res.analytic_ii_cycles)
    assert res.golden_events["residual_adds"] > 0
    for k, v in res.golden_events.items():
        assert res.events[k] == v, k
    # the projection shortcuts' signed codes went through the RTL with their signs
    g = golden_forward(cm, chip, x)
    signed = [i for i, ly in enumerate(cm.layers) if ly.out_signed]
    assert len(signed) == 2 and min(g.layer_outputs[i].min() for i in signed) < 0


def test_resnet20_graph_in_rtl_on_every_node():
    """A ResNet-20 (22 layers: more than the 16 controller states of two STATES words) matches the golden model on
    every node, with the analytic schedule and every event counter."""
    cm, chip, x, cfg = tiny_design("rtl.act_lanes=2", graph=True, pool="none", depth=20, n_samples=4)
    assert len(cm.layers) == 22 and sum(ly.add_src is not None for ly in cm.layers) == 9
    res = run_cosim(cm, chip, x, np.zeros(len(x), np.int64), cfg.rtl, progress=False, batch=4)
    hidden = sum(ly.out_size for ly in cm.layers[:-1])
    assert res.compared_codes == len(x) * (hidden + cm.layers[-1].out_features)
    assert res.mismatched_codes == 0 and res.mismatched_predictions == 0, res.mismatches
    assert res.cycles_match, res.first_cycle_mismatch
    assert (res.latency_cycles, res.ii_cycles) == (res.analytic_latency_cycles, res.analytic_ii_cycles)
    for k, v in res.golden_events.items():
        assert res.events[k] == v, k


def test_graph_header_wires_every_reader(graph_design):
    cm, _, _, cfg = graph_design
    m = rtl_params(cm, cfg.rtl)
    f = {k: v for k, (v, _) in layer_fields(m).items()}
    assert f["L_SRC"] == [ly.src + 1 for ly in cm.layers]
    assert f["L_ASRC"] == [0 if ly.add_src is None else ly.add_src + 1 for ly in cm.layers]
    # the stem is read by the first block's conv (input buffer) and its add (skip buffer)
    assert m.readers[0] == [1, 2] and (f["L_WRD"][0], f["L_WRK"][0]) == (1, 0)
    # a projection's only reader is the add's skip buffer: its words come back from there
    proj = next(i for i, ly in enumerate(cm.layers) if ly.out_signed)
    assert (f["L_WRK"][proj], f["L_SKSIGNED"][f["L_WRD"][proj]]) == (1, 1)


def test_a_wrong_add_multiplier_is_caught_at_its_layer(graph_design):
    cm, chip, x, cfg = graph_design
    m = rtl_params(cm, cfg.rtl)
    addrs, data = build_image(cm, chip, m)
    li = next(i for i, ly in enumerate(cm.layers) if ly.add_src is not None)
    i = np.nonzero(addrs == addr("LAYER", SET_STRIDE * li + SETTINGS.index("ADD_MULT")))[0][0]
    assert data[i] == cm.layers[li].add_mult > 0
    data = data.copy()
    data[i] = 0  # no residual add in the RTL
    res = run_cosim(cm, chip, x[:4], np.zeros(4, np.int64), cfg.rtl, progress=False, image=(addrs, data))
    assert res.mismatched_codes > 0 and res.mismatches[0].startswith(f"sample 0, layer {cm.layers[li].name}")
    with pytest.raises(Exception, match="RTL differs from the golden model"):
        raise_on_mismatch(res)


def test_graph_under_back_pressure_from_an_irregular_host(graph_design):
    """A host that idles between input beats and reads the logits late: every fork's banks fill and the layers
    wait on all their readers; codes and logits still equal the golden model's."""
    cm, chip, x, cfg = graph_design
    m = rtl_params(cm, cfg.rtl)
    lib, _ = build_library(m, progress=False)
    g = golden_forward(cm, chip, x)
    sizes = [ly.out_size for ly in cm.layers[:-1]]
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, m))
        logits, preds, cycles, caps = sim.run_batch(np.ascontiguousarray(x, np.uint16), 5, 10**6, sizes,
                                                    len(cm.layers), jitter_seed=7)
    np.testing.assert_array_equal(logits, g.logits)
    np.testing.assert_array_equal(preds, g.predictions)
    for li, cap in enumerate(caps):
        np.testing.assert_array_equal(cap, g.layer_outputs[li], err_msg=cm.layers[li].name)
    assert (np.asarray(cycles, np.int64) >= np.asarray(m.schedule(len(x)))).all()
