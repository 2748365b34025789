"""Co-simulation of the Verilated RTL against the golden model over several architecture parameter sets."""

from __future__ import annotations

import numpy as np
import pytest

from reram.config.schema import RtlConfig
from reram.errors import CosimError, CosimMismatch
from reram.golden import golden_forward
from reram.rtl.bridge import RtlSim
from reram.rtl.build import build_library
from reram.rtl.cosim import compare_codes, raise_on_mismatch, run_cosim
from reram.rtl.images import build_image
from reram.rtl.params import analytic_cycles, rtl_params

pytestmark = pytest.mark.rtl

CASES = {
    # name: (config overrides, rtl config)
    "ml-64x32-4adc": (("array.rows=64", "array.cols=32"), RtlConfig(adcs_per_array=4)),
    "bitserial-slices-latency": (("array.rows=32", "array.cols=16", "dac.mode=bit_serial", "device.slices=2",
                                  "device.cell_bits=2", "adc.bits=6"),
                                 RtlConfig(adcs_per_array=3, adc_latency=2, array_latency=3)),
    "unsigned-adc-1adc": (("array.rows=32", "array.cols=16", "dac.bits=6"), RtlConfig(adcs_per_array=1)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rtl_matches_golden_and_cycle_model(rtl_case, case):
    sets, rcfg = CASES[case]
    cm, chip, x, y = rtl_case(*sets)
    if case == "unsigned-adc-1adc":  # a unipolar ADC (the post-ReLU ablation step) on the hidden layers
        for layer in cm.layers[:-1]:
            layer.adc_signed = False
    res = run_cosim(cm, chip, x, y, rcfg, trace_layers=True, progress=False)
    # every code of the batch compared: the logits plus the two traced hidden layers of each sample
    traced = sum(ly.out_features for ly in cm.layers[-3:-1])
    assert res.compared_codes == len(x) * (cm.layers[-1].out_features + traced)
    assert res.mismatched_codes == 0 and res.mismatched_predictions == 0
    assert res.cycles_per_inference == res.analytic_cycles == analytic_cycles(rtl_params(cm, rcfg))
    for k, v in res.golden_events.items():
        assert res.events[k] == v, k
    assert res.events["busy_cycles"] == res.analytic_cycles * len(x)


def test_watchdog_reports_controller_state(rtl_case):
    sets, rcfg = CASES["unsigned-adc-1adc"]
    cm, chip, x, _ = rtl_case(*sets)
    p = rtl_params(cm, rcfg)
    lib, _ = build_library(p, progress=False)
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, p))
        sim.set_stall(True)
        with pytest.raises(CosimError, match=r"hang: sample 0 .* controller state (LAYER|LATCH|READ|CONV)"):
            sim.run_batch(np.ascontiguousarray(x[:2], np.uint16), 10, cm.arch.dac_bits, analytic_cycles(p) * 2)
        # a reset and a clean run afterwards
        sim.reset()
        sim.write_block(*build_image(cm, chip, p))
        logits, preds, cycles = sim.run_batch(np.ascontiguousarray(x[:3], np.uint16), 10, cm.arch.dac_bits,
                                              analytic_cycles(p) * 2)
        g = golden_forward(cm, chip, x[:3])
        np.testing.assert_array_equal(logits, g.logits)
        np.testing.assert_array_equal(preds, g.predictions)
        assert (cycles == analytic_cycles(p)).all()


def test_mismatches_counted_over_the_whole_batch(rtl_case):
    sets, rcfg = CASES["unsigned-adc-1adc"]
    cm, chip, x, _ = rtl_case(*sets)
    p = rtl_params(cm, rcfg)
    addrs, data = build_image(cm, chip, p)
    # corrupt the last layer's bias of output 3 in the RTL's memory only
    target = (5 << 24) | (p.layer_cbase[-1] + 3)
    data = data.copy()
    i = np.nonzero(addrs == target)[0][0]
    data[i] = np.uint32((int(data[i]) + (1 << 20)) & 0xFFFFFFFF)
    res = run_cosim(cm, chip, x[:4], np.zeros(4, np.int64), rcfg, progress=False, image=(addrs, data))
    # the corrupted bias shifts output 3 of every sample: all four differ, nothing else does
    assert (res.compared_codes, res.mismatched_codes) == (40, 4)
    assert res.mismatches[0].startswith("sample 0, layer fc2, index 3")
    assert res.mismatches[3].startswith("sample 3, layer fc2, index 3")
    with pytest.raises(CosimMismatch, match=r"in 4 of 40 codes .* first: sample 0, layer fc2, index 3"):
        raise_on_mismatch(res)
    first: list[str] = []
    assert compare_codes("fc2", np.zeros((2, 3)), np.eye(2, 3), first) == 2 and len(first) == 2


def test_back_to_back_batches_and_bad_arguments(rtl_case):
    sets, rcfg = CASES["unsigned-adc-1adc"]
    cm, chip, x, _ = rtl_case(*sets)
    p = rtl_params(cm, rcfg)
    lib, _ = build_library(p, progress=False)
    g = golden_forward(cm, chip, x)
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, p))
        outs = [sim.run_batch(np.ascontiguousarray(x[i : i + 7], np.uint16), 10, cm.arch.dac_bits, 10**6)
                for i in range(0, len(x), 7)]
        logits = np.concatenate([o[0] for o in outs])
        preds = np.concatenate([o[1] for o in outs])
        np.testing.assert_array_equal(logits, g.logits)
        np.testing.assert_array_equal(preds, g.predictions)
        with pytest.raises(CosimError, match="uint16"):
            sim.run_batch(x.astype(np.int64), 10, cm.arch.dac_bits, 10**6)
        with pytest.raises(CosimError, match="C-contiguous"):
            sim.run_batch(np.asfortranarray(x.astype(np.uint16)), 10, cm.arch.dac_bits, 10**6)


def test_vcd_waveform_of_the_first_samples(rtl_case, tmp_path):
    sets, rcfg = CASES["unsigned-adc-1adc"]
    cm, chip, x, y = rtl_case(*sets)
    wave = tmp_path / "w.vcd"
    res = run_cosim(cm, chip, x[:10], y, rcfg, waves=wave, progress=False)
    assert res.mismatched_codes == 0 and res.compared_codes == 10 * cm.layers[-1].out_features
    text = wave.read_text()
    assert "$enddefinitions" in text and "host_rdata" in text
    # only the first four samples are traced
    assert text.count("\n#") < 5 * 2 * res.analytic_cycles + 400


def test_fst_without_lz4_is_a_toolchain_error(monkeypatch, rtl_case):
    from pathlib import Path

    from reram.errors import ToolchainError

    sets, rcfg = CASES["unsigned-adc-1adc"]
    cm, _, _, _ = rtl_case(*sets)
    real_exists = Path.exists
    monkeypatch.setattr(Path, "exists", lambda self: False if self.name == "lz4.h" else real_exists(self))
    with pytest.raises(ToolchainError, match="liblz4-dev"):
        build_library(rtl_params(cm, rcfg), trace="fst", progress=False)
