"""Co-simulation of the Verilated RTL against the golden model and the analytic schedule, over architecture
parameter sets of dense and convolutional networks: every layer's codes of every sample, every sample's
completion cycle, the event counters."""

from __future__ import annotations

import time

import numpy as np
import pytest

from reram.config.schema import RtlConfig
from reram.errors import CosimError, CosimMismatch
from reram.golden import golden_forward
from reram.ir.addrmap import addr
from reram.rtl.bridge import RtlSim
from reram.rtl.build import build_library
from reram.rtl.cosim import compare_codes, raise_on_mismatch, run_cosim
from reram.rtl.images import build_image
from reram.rtl.params import rtl_params
from reram_designs import tiny_design

pytestmark = [pytest.mark.rtl, pytest.mark.slow]  # Verilator builds of several machines

CASES = {
    # name: (config overrides, rtl config) on the small trained MLP (784-256-128-10); few arrays each (build time)
    "default-128x128": ((), RtlConfig()),
    "bitserial-slices-latency": (("array.rows=256", "array.cols=256", "dac.mode=bit_serial", "device.slices=2",
                                  "device.cell_bits=2", "adc.bits=6"),
                                 RtlConfig(adcs_per_array=3, adc_latency=2, array_latency=3)),
    "integrating-2-phases": (("dac.mode=integrating", "dac.phases=2", "array.rows=256", "array.cols=256"),
                             RtlConfig(adcs_per_array=4)),
    "unsigned-adc-1adc": (("array.rows=256", "array.cols=256", "dac.bits=6"), RtlConfig(adcs_per_array=1)),
    "groups-lanes-port": (("array.rows=256", "array.cols=128"),
                          RtlConfig(array_group=3, act_lanes=3, input_codes_per_cycle=7, adcs_per_array=2)),
}
CONV_CASES = {
    # name: (tiny_design overrides, pool kind): random conv nets, 1x8x8 inputs
    "conv-maxpool": ((), "max"),
    "conv-avgpool-bitserial-slices": (("dac.mode=bit_serial", "dac.bits=4", "device.slices=2", "device.cell_bits=2",
                                       "rtl.adc_latency=2", "rtl.array_latency=2"), "avg"),
    "conv-integrating": (("dac.mode=integrating", "dac.bits=4"), "max"),
    # NeuRRAM's mapping: a weight's two cells on two rows, every column an output
    "conv-differential-rows": (("array.differential=rows", "dac.mode=integrating", "dac.bits=4",
                                "rtl.adcs_per_array=3"), "avg"),
    "conv-groups-lanes": (("rtl.array_group=1", "rtl.act_lanes=2", "rtl.adcs_per_array=1",
                           "rtl.input_codes_per_cycle=5"), "max"),
}


def _check(res, cm, n):
    hidden = sum(ly.out_size for ly in cm.layers[:-1])
    assert res.compared_codes == n * (hidden + cm.layers[-1].out_features)  # every layer of every sample
    assert res.mismatched_codes == 0 and res.mismatched_predictions == 0, res.mismatches
    assert res.cycles_match, res.first_cycle_mismatch
    assert res.latency_cycles == res.analytic_latency_cycles
    assert res.ii_cycles == res.analytic_ii_cycles
    for k, v in res.golden_events.items():
        assert res.events[k] == v, k


@pytest.mark.parametrize("case", list(CASES))
def test_rtl_matches_golden_and_schedule(rtl_case, case):
    sets, rcfg = CASES[case]
    cm, chip, x, y = rtl_case(*sets)
    if case == "unsigned-adc-1adc":  # a unipolar ADC (the post-ReLU ablation step) on the hidden layers
        for layer in cm.layers[:-1]:
            layer.adc_signed = False
    res = run_cosim(cm, chip, x, y, rcfg, progress=False, batch=16)
    _check(res, cm, len(x))
    assert res.golden_accuracy == res.hw_accuracy


@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv_rtl_matches_golden_and_schedule(case):
    sets, pool = CONV_CASES[case]
    cm, chip, x, cfg = tiny_design(*sets, conv=True, pool=pool, n_samples=9)
    assert [ly.kind for ly in cm.layers] == ["conv2d", "conv2d", "dense"]
    res = run_cosim(cm, chip, x, np.zeros(len(x), np.int64), cfg.rtl, progress=False, batch=4)
    _check(res, cm, len(x))
    m = rtl_params(cm, cfg.rtl)
    # the pipeline overlaps inferences: the interval is the slowest stage, well below the latency
    assert res.ii_cycles == max(ly.cycles + 1 for ly in m.layers) < res.latency_cycles


@pytest.mark.parametrize("conv", [False, True])
def test_preloaded_and_host_written_conductances_agree(rtl_case, conv):
    """The co-simulation's default, conductance codes preloaded from files, leaves what the host bus writes."""
    if conv:
        cm, chip, x, cfg = tiny_design("rtl.adcs_per_array=1", conv=True, pool="max", n_samples=5)
        rcfg = cfg.rtl
    else:
        sets, rcfg = CASES["groups-lanes-port"]  # several column tiles, a narrower last one
        cm, chip, x, _ = rtl_case(*sets)
        x = x[:6]
    runs = [run_cosim(cm, chip, x, np.zeros(len(x), np.int64), rcfg, progress=False, batch=4, preload=p)
            for p in (True, False)]
    for res in runs:
        _check(res, cm, len(x))
    a, b = (r.to_metrics() for r in runs)
    assert (a.pop("conductance_load"), b.pop("conductance_load")) == ("preload", "host_bus")
    assert a == b


def test_preload_files_hold_every_conductance_word_and_the_host_bus_the_rest(rtl_case, tmp_path):
    from reram.ir.addrmap import R, split
    from reram.rtl.images import array_spans, write_preload

    sets, rcfg = CASES["groups-lanes-port"]
    cm, chip, _, _ = rtl_case(*sets)
    m = rtl_params(cm, rcfg)
    addrs, data = build_image(cm, chip, m)
    rest_a, rest_d = write_preload(tmp_path, addrs, data, m)
    region, word = split(addrs)
    g = (region == R["GPOS"]) | (region == R["GNEG"])
    assert not np.isin(split(rest_a)[0], [R["GPOS"], R["GNEG"]]).any() and len(rest_a) == (~g).sum()
    np.testing.assert_array_equal(rest_d, data[~g])
    spans = array_spans(m)
    assert sum(n for _, n in spans) == m.gdepth and len(spans) == m.total_arrays
    for reg, name in ((R["GPOS"], "gpos"), (R["GNEG"], "gneg")):
        dense = np.zeros(m.gdepth, np.int64)
        dense[word[region == reg]] = data[region == reg]
        for base, n in spans:
            words = [int(v, 16) for v in (tmp_path / f"{name}_{base}.hex").read_text().split()]
            assert words == dense[base : base + n].tolist()


def test_watchdog_reports_controller_states(rtl_case):
    sets, rcfg = CASES["unsigned-adc-1adc"]
    cm, chip, x, _ = rtl_case(*sets)
    m = rtl_params(cm, rcfg)
    lib, _ = build_library(m, progress=False)
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, m))
        sim.set_stall(True)
        with pytest.raises(CosimError, match=r"hang: sample 0 .* controllers: layer 0 IDLE, layer 1 IDLE"):
            sim.run_batch(np.ascontiguousarray(x[:2], np.uint16), 10, m.schedule(2)[-1] * 2, None, 3)
        # a reset and a clean run afterwards
        sim.reset()
        sim.write_block(*build_image(cm, chip, m))
        logits, preds, cycles, _ = sim.run_batch(np.ascontiguousarray(x[:3], np.uint16), 10, 10**6)
        g = golden_forward(cm, chip, x[:3])
        np.testing.assert_array_equal(logits, g.logits)
        np.testing.assert_array_equal(preds, g.predictions)
        assert cycles.tolist() == m.schedule(3)


def test_mismatches_counted_over_the_whole_batch(rtl_case):
    sets, rcfg = CASES["unsigned-adc-1adc"]
    cm, chip, x, _ = rtl_case(*sets)
    m = rtl_params(cm, rcfg)
    addrs, data = build_image(cm, chip, m)
    # corrupt the last layer's bias of output 3 in the RTL's memory only
    target = addr("RBLO", m.layer_cbase[-1] + 3)
    data = data.copy()
    i = np.nonzero(addrs == target)[0][0]
    data[i] = np.uint32((int(data[i]) + (1 << 20)) & 0xFFFFFFFF)
    res = run_cosim(cm, chip, x[:4], np.zeros(4, np.int64), rcfg, progress=False, image=(addrs, data))
    # the corrupted bias shifts output 3 of every sample: all four differ, nothing else does
    hidden = sum(ly.out_size for ly in cm.layers[:-1])
    assert (res.compared_codes, res.mismatched_codes) == (4 * (hidden + 10), 4)
    assert res.mismatches[0].startswith("sample 0, layer fc2, index 3")
    assert res.mismatches[3].startswith("sample 3, layer fc2, index 3")
    with pytest.raises(CosimMismatch, match=r"in 4 of \d+ codes .* first: sample 0, layer fc2, index 3"):
        raise_on_mismatch(res)
    first: list[str] = []
    assert compare_codes("fc2", np.zeros((2, 3)), np.eye(2, 3), first) == 2 and len(first) == 2


def test_a_hidden_layer_fault_is_named_by_layer(rtl_case):
    sets, rcfg = CASES["unsigned-adc-1adc"]
    cm, chip, x, _ = rtl_case(*sets)
    m = rtl_params(cm, rcfg)
    addrs, data = build_image(cm, chip, m)
    data = data.copy()
    # a large bias on output 5 of the first layer: its code saturates, and the error propagates
    i = np.nonzero(addrs == addr("RBHI", m.layer_cbase[0] + 5))[0][0]
    data[i] = np.uint32(1)
    res = run_cosim(cm, chip, x[:4], np.zeros(4, np.int64), rcfg, progress=False, image=(addrs, data))
    assert res.mismatches[0].startswith(f"sample 0, layer {cm.layers[0].name}, index 5")


def test_back_to_back_batches_and_bad_arguments(rtl_case):
    sets, rcfg = CASES["unsigned-adc-1adc"]
    cm, chip, x, _ = rtl_case(*sets)
    m = rtl_params(cm, rcfg)
    lib, _ = build_library(m, progress=False)
    g = golden_forward(cm, chip, x)
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, m))
        outs = [sim.run_batch(np.ascontiguousarray(x[i : i + 7], np.uint16), 10, 10**6) for i in range(0, len(x), 7)]
        np.testing.assert_array_equal(np.concatenate([o[0] for o in outs]), g.logits)
        np.testing.assert_array_equal(np.concatenate([o[1] for o in outs]), g.predictions)
        with pytest.raises(CosimError, match="uint16"):
            sim.run_batch(x.astype(np.int64), 10, 10**6)
        with pytest.raises(CosimError, match="C-contiguous"):
            sim.run_batch(np.asfortranarray(x.astype(np.uint16)), 10, 10**6)
        with pytest.raises(CosimError, match="input width"):
            sim.run_batch(np.ascontiguousarray(x[:, :-1], np.uint16), 10, 10**6)


def test_vcd_waveform_of_the_first_samples(rtl_case, tmp_path):
    sets, rcfg = CASES["unsigned-adc-1adc"]
    cm, chip, x, y = rtl_case(*sets)
    wave = tmp_path / "w.vcd"
    res = run_cosim(cm, chip, x[:10], y, rcfg, waves=wave, progress=False)
    assert res.mismatched_codes == 0
    text = wave.read_text()
    assert "$enddefinitions" in text and "host_rdata" in text and "in_ready" in text
    # only the first four samples are traced
    assert text.count("\n#") < 2 * rtl_params(cm, rcfg).schedule(4)[-1] + 400


def test_fst_without_lz4_is_a_toolchain_error(monkeypatch, rtl_case):
    from pathlib import Path

    from reram.errors import ToolchainError

    sets, rcfg = CASES["unsigned-adc-1adc"]
    cm, _, _, _ = rtl_case(*sets)
    real_exists = Path.exists
    monkeypatch.setattr(Path, "exists", lambda self: False if self.name == "lz4.h" else real_exists(self))
    with pytest.raises(ToolchainError, match="liblz4-dev"):
        build_library(rtl_params(cm, rcfg), trace="fst", progress=False)


def test_event_counters_decide():
    """An RTL event counter that differs from the golden model's count fails the co-simulation, naming it."""
    from reram.rtl.cosim import EVENT_KEYS, CosimResult

    golden = {k: 100 for k in EVENT_KEYS}
    res = CosimResult(samples=2, compared_codes=10, matched_codes=10, hw_accuracy=1.0, golden_accuracy=1.0,
                      latency_cycles=5, ii_cycles=3, analytic_latency_cycles=5, analytic_ii_cycles=3,
                      cycles_match=True, clock_hz=1e8, events=dict(golden), golden_events=golden, build={},
                      sim_seconds=0.0, load_seconds=0.0)
    raise_on_mismatch(res)  # equal counters, codes and cycles: no error
    res.events["adc_conversions"] = 99
    with pytest.raises(CosimMismatch, match=r"event counters differ .* adc_conversions RTL 99, golden 100"):
        raise_on_mismatch(res)
    assert res.to_metrics()["events_match_golden"] is False


def test_side_by_side_simulators_give_one_simulators_results():
    """``rtl.sim_workers``: batches shared among simulator instances (threads, one library copy each) give the codes,
    cycles and summed event counters of one simulator running every batch."""
    cm, chip, x, cfg = tiny_design(conv=True, pool="max", n_samples=9)
    runs = []
    for workers in (1, 3):
        rcfg = cfg.rtl.model_copy(update={"sim_workers": workers})
        res = run_cosim(cm, chip, x, np.zeros(len(x), np.int64), rcfg, progress=False, batch=2)
        _check(res, cm, len(x))
        runs.append(res)
    one, three = runs
    assert three.events == one.events and three.events["busy_cycles"] > 0
    assert (three.latency_cycles, three.ii_cycles, three.compared_codes) == \
        (one.latency_cycles, one.ii_cycles, one.compared_codes)


def test_a_failing_simulator_stops_the_others(monkeypatch):
    """One simulator's error (a hang that the watchdog reports) reaches the caller, and the other simulators stop
    after their current batch instead of finishing their share."""
    from reram.rtl import cosim

    cm, chip, x, cfg = tiny_design(conv=True, pool="max", n_samples=12)
    real = cosim.RtlSim.run_batch
    started: list[int] = []

    def run_batch(self, inputs, *args, **kwargs):
        started.append(len(inputs))
        if len(started) == 2:
            raise CosimError("watchdog: simulated hang")
        time.sleep(0.05)  # a batch takes a while, as on a real network
        return real(self, inputs, *args, **kwargs)

    monkeypatch.setattr(cosim.RtlSim, "run_batch", run_batch)
    rcfg = cfg.rtl.model_copy(update={"sim_workers": 2})
    with pytest.raises(CosimError, match="simulated hang"):
        run_cosim(cm, chip, x, np.zeros(len(x), np.int64), rcfg, progress=False, batch=1)
    assert len(started) < len(x)  # 12 batches of one sample: the rest were never started
