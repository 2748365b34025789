import numpy as np
import pytest

from reram.analog.program import program_chip
from reram.compile import noise_free
from reram.config.schema import RtlConfig
from reram.energy import energy_report, get_preset
from reram.energy.baselines import BASELINES
from reram.energy.components.adc import FAMILY_PJ, band, family_energy, walden_energy
from reram.energy.components.cell import cell_read_energy
from reram.energy.isaac import rollup
from reram.errors import ConfigError
from reram.golden import pixel_codes


def test_isaac_published_totals_within_one_percent():
    r = rollup()
    assert r["tile_power_w"] == pytest.approx(0.330, rel=0.01)
    assert r["tile_area_mm2"] == pytest.approx(0.372, rel=0.01)
    assert r["chip_power_w"] == pytest.approx(65.8, rel=0.01)
    assert r["chip_area_mm2"] == pytest.approx(85.4, rel=0.01)
    # peak accounting: 16-bit operands, 2 ops per MAC
    macs = 168 * 12 * 8 * 128 * 16 / (16 * 100e-9)
    assert r["peak_macs_per_s"] == pytest.approx(macs)
    assert r["peak_tops_per_w"] == pytest.approx(2 * macs / 1e12 / r["chip_power_w"])


def test_isaac_per_action_derivations():
    p = get_preset("isaac-32nm")
    assert p.dac_1bit.value == pytest.approx(4e-3 / 1024 * 100e-9)
    assert p.sample_hold.value == pytest.approx(10e-6 / 1024 * 100e-9)
    assert family_energy(8).value == pytest.approx(1.67e-12)
    assert all(a < b for a, b in zip(list(FAMILY_PJ.values()), list(FAMILY_PJ.values())[1:], strict=False))
    # Murmann's survey: SAR ADCs reach 6 fJ per conversion step at best; 8 bits then cost about 1.5 pJ, the same
    # order as ISAAC's 2 mW / 1.28 GS/s = 1.5625 pJ (shared/reference/energy-and-baselines.md)
    assert walden_energy(8, 6e-15).value == pytest.approx(1.5625e-12, rel=0.03)
    lo, hi = band(8)
    assert lo < family_energy(8).value < hi
    for preset in ("isaac-32nm", "neurosim-22nm"):
        p = get_preset(preset)
        for f in (p.dac_1bit, p.sample_hold, p.shift_add, p.in_buffer, p.out_buffer, p.control_power_w, p.t_read):
            assert f.source and f.value > 0
    with pytest.raises(ConfigError):
        get_preset("nope")


@pytest.mark.parametrize("level, fj", [("gmin_code", 2.0), ("gmax_code", 20.0)])
def test_cell_energy_matches_the_published_endpoints(compiled_default, level, fj):
    """At 0.2 V and 10 ns a cell reads 2 fJ at 5 uS and 20 fJ at 50 uS (shared/reference/energy-and-baselines.md)."""
    from dataclasses import replace

    _, dev, cm = compiled_default
    chip = program_chip(cm, noise_free(dev), seed=0)
    code = getattr(cm.arch, level)
    chip = replace(chip, layers=[replace(cl, g_pos=np.full_like(cl.g_pos, code), g_neg=np.full_like(cl.g_neg, code))
                                 for cl in chip.layers])
    x = np.zeros((1, 784), np.int64)
    x[0, 300] = cm.arch.x_max  # one row at full scale
    inputs = [x] + [np.zeros((1, ly.in_features), np.int64) for ly in cm.layers[1:]]
    e = cell_read_energy(cm, chip, inputs, 10e-9)
    n_cells = 2 * cm.layers[0].out_features  # the row's differential pairs
    assert e[0] == pytest.approx(n_cells * fj * 1e-15, rel=1e-3)
    assert e[1] == e[2] == 0


def test_report_accounting(compiled_default, mnist_small):
    _, dev, cm = compiled_default
    chip = program_chip(cm, dev, seed=0)
    x = pixel_codes(cm, mnist_small["test_x"][:100])
    rep = energy_report(cm, chip, x, get_preset("isaac-32nm"), RtlConfig())
    b = {r["boundary"]: r for r in rep["boundaries"]}
    assert b["array"]["energy_per_inference_j"] < b["macro"]["energy_per_inference_j"] < \
        b["system"]["energy_per_inference_j"]
    assert rep["macs_per_inference"] == 784 * 256 + 256 * 128 + 128 * 10
    for r in b.values():
        lo, hi = r["tops_per_w_range"]
        assert lo <= r["tops_per_w"] * 1.0001 and r["tops_per_w"] <= hi * 1.0001
        assert r["ops_convention"] == "2 ops per MAC"
    # counted by hand from the architecture: 128x128 arrays, one conversion per output column per row tile and
    # multi-level input: 7 tiles x 256 + 2 x 128 + 1 x 10 = 2058 conversions at ISAAC's 8-bit 1.67 pJ (Accelergy)
    assert rep["events_per_inference"]["adc_conversions"] == 2058
    assert rep["by_component_j"]["adc"] == pytest.approx(2058 * 1.67e-12)
    # 64 signed pairs per array: 7 row x 4 column tiles + 2 x 2 + 1 x 1 = 33 array reads (the 33 arrays)
    assert rep["events_per_inference"]["array_reads"] == 7 * 4 + 2 * 2 + 1 * 1
    # the spatial machine, counted by hand (reram_layer_ctrl.v; the RTL tests check the model): 25 input beats of 32
    # codes; layer cycles P * (1 LATCH + ARRAY_LAT + rounds * ADC_LAT + 1 DRAIN + outputs / 8 lanes) + 1 FIN with
    # rounds = 64 pairs / 8 ADCs = 8, 8, 2: 44, 28, 8; each layer starts one cycle after it sees its input, and the
    # host sees the logits two cycles after the last FIN: 25 + (1 + 44) + (1 + 28) + (1 + 8) + 1 = 109 cycles.
    # The interval is the slowest stage: 44 cycles + its IDLE cycle = 45.
    assert [ly for ly in rep["layer_cycles"]] == [44, 28, 8]
    assert rep["latency_cycles"] == 109 and rep["ii_cycles"] == 45
    assert rep["throughput_per_s"] == pytest.approx(100e6 / 45)
    assert rep["machine"]["arrays"] == 33 and rep["machine"]["adcs"] == 33 * 8


def test_bit_serial_changes_driver_and_adc_counts(build, mnist_small):
    out = {}
    for mode in ("multilevel", "bit_serial"):
        _, dev, cm = build(f"dac.mode={mode}")
        chip = program_chip(cm, noise_free(dev), seed=0)
        out[mode] = energy_report(cm, chip, pixel_codes(cm, mnist_small["test_x"][:50]), get_preset("isaac-32nm"),
                                  RtlConfig())
    ev_m, ev_b = out["multilevel"]["events_per_inference"], out["bit_serial"]["events_per_inference"]
    assert ev_b["adc_conversions"] == 8 * ev_m["adc_conversions"]
    assert out["bit_serial"]["by_component_j"]["adc"] > out["multilevel"]["by_component_j"]["adc"]


def test_baselines_are_sourced_and_only_ratioed_with_power():
    for b in BASELINES:
        assert b.source
        d = b.to_dict()
        if b.power_w is None or b.ops_per_s is None:
            assert d["tops_per_w"] is None and b.note
    coral = next(b for b in BASELINES if "Coral" in b.name)
    assert coral.tops_per_w == pytest.approx(2.0)
    nano = next(b for b in BASELINES if "10 W" in b.name)
    assert nano.tops_per_w == pytest.approx(0.0472)
