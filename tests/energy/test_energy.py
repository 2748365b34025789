import itertools
from dataclasses import replace

import numpy as np
import pytest

from reram.chip.adc_model import AdcModel
from reram.chip.device import noise_free
from reram.chip.energy_preset import BUILTIN, FIGURES, parse_preset
from reram.chip.program import program_chip
from reram.config.schema import RtlConfig
from reram.energy import energy_report, get_preset
from reram.energy.baselines import BASELINES
from reram.energy.components.cell import cell_read_energy
from reram.energy.isaac import PUBLISHED, per_action, rollup, validate
from reram.errors import ConfigError
from reram.golden import pixel_codes


def test_isaac_table1_rollup_and_per_action_accounting_within_one_percent():
    r = rollup()
    for k, v in PUBLISHED.items():
        assert r[k] == pytest.approx(v, rel=0.01), k
    # peak accounting: 16-bit operands, 2 ops per MAC
    macs = 168 * 12 * 8 * 128 * 16 / (16 * 100e-9)
    assert r["peak_macs_per_s"] == pytest.approx(macs)
    assert r["peak_tops_per_w"] == pytest.approx(2 * macs / 1e12 / r["chip_power_w"])
    v = validate(get_preset("isaac-32nm"))
    assert v["table1_rollup"]["max_abs_error_pct"] < 1.0
    assert v["per_action"]["max_abs_error_pct"] < 1.0
    # each component of the per-action tile equals its Table 1 power (12 IMAs per tile)
    pa = per_action(get_preset("isaac-32nm"))["tile_power_by_component_w"]
    assert pa["adc"] == pytest.approx(12 * 16e-3) and pa["array"] == pytest.approx(12 * 2.4e-3)
    assert pa["edram"] == pytest.approx(20.7e-3) and pa["dac"] == pytest.approx(12 * 4e-3)
    # a preset that is not ISAAC's is not ISAAC: the scaled one misses the published tile by its scaling
    assert validate(get_preset("isaac-22nm-scaled"))["per_action"]["max_abs_error_pct"] > 10


def test_isaac_validation_counts_the_runs_actions_and_catches_a_unit_mismatch():
    """The validation counts one shift-and-add per ADC code, as a run does (the golden model's shift_adds equal its
    conversions); a preset whose figure is per 1.2 GHz cycle (ISAAC's 0.2 mW / 4 units / 1.2 GHz) fails it on that
    component, though the totals alone would pass (within 1 %)."""
    from reram.energy.isaac import tile_events_per_s

    ev = tile_events_per_s()
    assert ev["shift_adds"] == ev["adc_conversions"]
    p = get_preset("isaac-32nm")
    assert p.value("shift_add_energy_j") == pytest.approx(0.2e-3 / (8 * 1.28e9))
    per_cycle = replace(p, figures=p.figures | {"shift_add_energy_j": replace(
        p["shift_add_energy_j"], value=0.2e-3 / 4 / 1.2e9)})
    v = validate(per_cycle)
    assert v["per_action"]["max_abs_error_pct"] < 1.0  # the totals miss it
    assert not v["passed"] and v["per_action"]["worst_component"] == "shift_add"
    assert v["per_action"]["components"]["shift_add"]["error_pct"] > 100
    good = validate(p)
    assert good["passed"] and good["per_action"]["max_abs_component_error_pct"] < 1.0


def test_isaac_per_action_derivations():
    p = get_preset("isaac-32nm")
    assert p.value("dac_energy_j") == pytest.approx(4e-3 / 1024 * 100e-9)
    assert p.value("sample_hold_energy_j") == pytest.approx(10e-6 / 1024 * 100e-9)
    assert p.value("array_read_energy_j") == pytest.approx(0.3e-3 * 100e-9)
    assert p.value("control_energy_j") == pytest.approx(2.65e-3 / 12 / 1.2e9)
    # Table 1's own ADC: 2 mW / 1.28 GS/s (not Accelergy's 1.67 pJ)
    assert p.adc_energy(8).value == pytest.approx(1.5625e-12)
    assert p.adc.area(8) == pytest.approx(0.0096 / 8)
    e = [p.adc_energy(b).value for b in range(2, 13)]
    assert all(a < b for a, b in itertools.pairwise(e))
    for name in BUILTIN:
        q = get_preset(name)
        for key, f in q.figures.items():
            assert f.source and f.value >= 0 and f.unit == FIGURES[key][0], key
    with pytest.raises(ConfigError, match="unknown preset"):
        get_preset("nope")
    with pytest.raises(ConfigError, match="renamed 'isaac-22nm-scaled'"):
        get_preset("neurosim-22nm")


def _adc(model: str, **kw) -> AdcModel:
    base = dict(model=model, source="s", band_low=0.2, band_high=8.0, band_source="b", area_ref_mm2=0.0012,
                area_ref_bits=8, area_fixed_fraction=0.5, area_source="a")
    return AdcModel(**(base | kw))


@pytest.mark.parametrize("adc", [
    *(get_preset(n).adc for n in BUILTIN),
    _adc("table", table_j={4: 1e-12, 8: 2e-12}),
    _adc("walden", fom_j=6e-15),
    _adc("linear", energy_per_bit_j=0.2e-12),
], ids=lambda a: a.model)
def test_adc_nominal_inside_its_band_and_area_follows_bits(adc):
    for bits in range(1, 15):
        lo, hi = adc.band(bits)
        assert lo <= adc.energy(bits).value <= hi, bits
    if adc.area_fixed_fraction < 1:  # else one converter for every bit count (NeuRRAM's neuron)
        assert adc.area(4) < adc.area(8) < adc.area(10)
    assert adc.area(4) <= adc.area(8) <= adc.area(10)
    assert adc.area(8) == pytest.approx(adc.area_ref_mm2)


def test_adc_models_follow_their_formulas():
    assert _adc("walden", fom_j=6e-15).energy(8).value == pytest.approx(6e-15 * 256)
    assert _adc("linear", energy_per_bit_j=0.2e-12).energy(6).value == pytest.approx(1.2e-12)
    t = _adc("table", table_j={4: 1e-12, 8: 2e-12})
    assert t.energy(4).value == 1e-12 and t.energy(10).value == pytest.approx(8e-12)  # x2 per bit past the table
    assert t.energy(2).value == pytest.approx(0.25e-12)


def test_preset_round_trip_and_one_action_moves_one_component(compiled_default, mnist_small):
    _, dev, cm = compiled_default
    chip = program_chip(cm, dev, seed=0)
    x = pixel_codes(cm, mnist_small["test_x"][:50])
    p = get_preset("isaac-32nm")
    text = p.to_toml()
    q = parse_preset(text, "copy.toml")
    assert q == p
    a = energy_report(cm, chip, x, p, RtlConfig())
    b = energy_report(cm, chip, x, q, RtlConfig())
    assert a["by_component_j"] == b["by_component_j"] and a["area_mm2"] == b["area_mm2"]
    for key, comp in (("shift_add_energy_j", "shift_add"), ("dac_energy_j", "driver"),
                      ("feature_buffer_energy_j", "feature_buffer"), ("control_energy_j", "control")):
        old = f"{p.value(key)!r}"
        line = next(ln for ln in text.splitlines() if ln.startswith(f"{key} ="))
        doubled = parse_preset(text.replace(line, line.replace(old, repr(2 * p.value(key)))), "doubled.toml")
        c = energy_report(cm, chip, x, doubled, RtlConfig())
        for k, v in a["by_component_j"].items():
            assert c["by_component_j"][k] == pytest.approx(2 * v if k == comp else v, rel=1e-12), (key, k)


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("shift_add_energy_j = {", "shift_add_energy = {"), "figures.shift_add_energy is not"),
    (lambda t: "\n".join(ln for ln in t.splitlines() if not ln.startswith("adc_energy") and
                         not ln.startswith("sample_hold_energy_j")),
     r"figures.sample_hold_energy_j \[J per sample\] is missing"),
    (lambda t: t.replace("value = 3.90625e-13", "value = -3.90625e-13"), r"dac_energy_j .*non-negative"),
    (lambda t: t.replace("value = 3.90625e-13", 'value = "a lot"'), r"dac_energy_j .*not a number"),
    (lambda t: t.replace("band_low = 0.192", "band_low = 1.5"), "must bracket the nominal"),
    (lambda t: t.replace('model = "table"', 'model = "flash"'), "adc.model is 'flash'"),
    (lambda t: t.replace('model = "table"', 'model = "walden"'), "adc.table_j does nothing with model = 'walden'"),
    (lambda t: t + "[extra]\n", "unknown key 'extra'"),
    (lambda t: t.replace("[figures]", "[figures"), "not valid TOML"),
])
def test_bad_preset_files_name_the_key_unit_and_fix(edit, message):
    text = edit(get_preset("isaac-32nm").to_toml())
    with pytest.raises(ConfigError, match=message) as e:
        parse_preset(text, "my.toml")
    assert "my.toml" in str(e.value) and "\n" not in str(e.value)


def test_preset_file_in_config_is_checked_when_loaded(tmp_path):
    from reram.config import load_config

    bad = tmp_path / "bad.toml"
    bad.write_text(get_preset("isaac-32nm").to_toml().replace("value = 3.90625e-13", "value = -1.0"))
    with pytest.raises(ConfigError, match="dac_energy_j"):
        load_config(None, [f'energy.preset_file="{bad}"'])
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(None, [f'energy.preset_file="{tmp_path / "none.toml"}"'])
    with pytest.raises(ConfigError, match=r"energy\.preset.*has no effect"):
        good = tmp_path / "good.toml"
        good.write_text(get_preset("isaac-32nm").to_toml())
        load_config(None, [f'energy.preset_file="{good}"', 'energy.preset="isaac-22nm-scaled"'])
    with pytest.raises(ConfigError, match="renamed"):
        load_config(None, ['energy.preset="neurosim-22nm"'])


def test_static_power_is_leakage_times_what_leaks_times_latency(compiled_default, mnist_small):
    """The buffers' leakage per byte held (PUMA's eDRAM figure in the ISAAC presets) plus the preset's leakage per
    mm2, times the latency; a preset with neither labels the system boundary "dynamic only"."""
    from reram.energy.model import static_power
    from reram.ir.machine import machine

    _, dev, cm = compiled_default
    chip = program_chip(cm, dev, seed=0)
    x = pixel_codes(cm, mnist_small["test_x"][:20])
    p = get_preset("isaac-32nm")
    fig = p.figures
    leaky = replace(p, figures=fig | {"leakage_w_per_mm2": replace(fig["leakage_w_per_mm2"], value=0.05)})
    dry = replace(p, figures=fig | {"feature_buffer_leakage_w_per_byte": replace(
        fig["feature_buffer_leakage_w_per_byte"], value=0.0)})
    a, b, c = (energy_report(cm, chip, x, q, RtlConfig()) for q in (p, leaky, dry))
    m = machine(cm, RtlConfig())
    held = (m.buffer_bits - 2 * 10 * 64) / 8  # the double-buffered feature maps, not the logit banks
    assert a["static_power_w"] == pytest.approx(held * 0.46e-3 / 65536)  # PUMA: 0.46 mW per 64 KB of eDRAM
    assert a["by_component_j"]["static"] == pytest.approx(a["static_power_w"] * a["latency_s"])
    assert b["by_component_j"]["static"] == pytest.approx(
        (0.05 * b["area_mm2"]["total"] + a["static_power_w"]) * b["latency_s"])
    sys_a = {r["boundary"]: r for r in a["boundaries"]}["system"]
    sys_b = {r["boundary"]: r for r in b["boundaries"]}["system"]
    assert sys_b["energy_per_inference_j"] - sys_a["energy_per_inference_j"] == pytest.approx(
        b["by_component_j"]["static"] - a["by_component_j"]["static"])
    assert sys_a["static"] == "included" and "feature_buffer leakage" in a["static_power"]["label"]
    sys_c = {r["boundary"]: r for r in c["boundaries"]}["system"]
    assert c["by_component_j"]["static"] == 0 and sys_c["static"] == "dynamic only"
    assert c["static_power"]["dynamic_only"] and static_power(m, dry, c["area_mm2"])["w"] == 0


def test_feature_buffer_band_from_independent_figures(compiled_default, mnist_small):
    """The buffer's per-byte energy is derived from ISAAC's eDRAM at its port rate and lies within 2 % of PUMA's
    figure; the band runs to Accelergy's; the result carries the share and TOPS/W at both ends."""
    _, dev, cm = compiled_default
    chip = program_chip(cm, dev, seed=0)
    x = pixel_codes(cm, mnist_small["test_x"][:20])
    p = get_preset("isaac-32nm")
    assert p.value("feature_buffer_energy_j") == pytest.approx((20.7e-3 - 0.46e-3) / (32 * 1.2e9))
    assert p.value("feature_buffer_energy_j") == pytest.approx(17.2e-12 / 32, rel=0.02)  # PUMA, 256-bit access
    assert p.value("feature_buffer_energy_high_j") == pytest.approx(20.45e-12 / 32)  # Accelergy, 256-bit access
    r = energy_report(cm, chip, x, p, RtlConfig())
    fb = r["feature_buffer_band"]
    assert fb["low"]["share_of_system"] <= fb["nominal"]["share_of_system"] < fb["high"]["share_of_system"] < 0.35
    assert fb["high"]["system_tops_per_w"] < fb["nominal"]["system_tops_per_w"] <= fb["low"]["system_tops_per_w"]
    assert "PUMA" in p["feature_buffer_energy_j"].source and "Accelergy" in fb["high"]["source"]


def test_adc_area_follows_the_bit_count(build):
    from reram.energy.model import area_breakdown
    from reram.ir.machine import machine

    p = get_preset("isaac-32nm")
    areas = {}
    for bits in (4, 8):
        _, _, cm = build(f"adc.bits={bits}")
        areas[bits] = area_breakdown(machine(cm, RtlConfig()), p, cm.arch)
    assert areas[4]["adcs"] < 0.6 * areas[8]["adcs"]
    assert areas[4]["total"] < areas[8]["total"]


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
    # multi-level input: 7 tiles x 256 + 2 x 128 + 1 x 10 = 2058 conversions at ISAAC's 8-bit 2 mW / 1.28 GS/s
    assert rep["events_per_inference"]["adc_conversions"] == 2058
    assert rep["by_component_j"]["adc"] == pytest.approx(2058 * 1.5625e-12)
    # controllers: their busy cycles x ISAAC's digital logic per cycle
    assert rep["by_component_j"]["control"] == pytest.approx((44 + 28 + 8) * 2.65e-3 / 12 / 1.2e9)
    # the feature maps: 784 + 256 + 128 codes gathered, 784 (input stream) + 256 + 128 written, one byte each
    assert rep["events_per_inference"]["feature_buffer_bytes"] == 2 * (784 + 256 + 128)
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


MODES = {"multilevel": (), "bit_serial": ("dac.mode=bit_serial",),
         "integrating": ("dac.mode=integrating",), "integrating-2": ("dac.mode=integrating", "dac.phases=2")}


@pytest.fixture(scope="module")
def mode_reports(build, mnist_small):
    out = {}
    for mode, sets in MODES.items():
        _, dev, cm = build(*sets)
        chip = program_chip(cm, noise_free(dev), seed=0)
        x = pixel_codes(cm, mnist_small["test_x"][:50])
        out[mode] = (cm, x, energy_report(cm, chip, x, get_preset("isaac-32nm"), RtlConfig()))
    return out


def test_input_modes_energy_counts(mode_reports):
    ev = {m: r[2]["events_per_inference"] for m, r in mode_reports.items()}
    conv = ev["multilevel"]["adc_conversions"]
    assert ev["bit_serial"]["adc_conversions"] == 8 * conv  # one conversion per input bit (ISAAC)
    assert ev["integrating"]["adc_conversions"] == conv  # charge integrated over the bits: one per output
    assert ev["integrating-2"]["adc_conversions"] == 2 * conv  # one per phase
    assert ev["multilevel"]["integrator_steps"] == ev["bit_serial"]["integrator_steps"] == 0
    assert ev["integrating"]["integrator_steps"] == 255 * conv
    assert ev["integrating-2"]["integrator_steps"] == 15 * 2 * conv
    # unit pulses: bit b of a phase lasts 2^b steps, so a row with code x gets x pulses in one phase, and
    # (x mod 16) + (x div 16) in two 4-bit phases (the digital shift-add weights the second by 16)
    cm, x, _ = mode_reports["integrating"]
    u = cm.layers[0].col_tiles(cm.arch) / len(x)
    first = mode_reports["integrating"][2]["by_layer"][0]["events_per_inference"]["dac_pulses"]
    assert first == pytest.approx(int(x.sum()) * u)
    two = mode_reports["integrating-2"][2]["by_layer"][0]["events_per_inference"]["dac_pulses"]
    assert two == pytest.approx(int(((x & 15) + (x >> 4)).sum()) * u)
    # bit-serial pulses = set bits; a multi-level row is one pulse of an 8-bit driver
    assert ev["bit_serial"]["dac_pulses"] > ev["multilevel"]["dac_pulses"]
    e = {m: r[2]["by_component_j"] for m, r in mode_reports.items()}
    assert e["integrating"]["adc"] == pytest.approx(e["multilevel"]["adc"])
    assert e["bit_serial"]["adc"] == pytest.approx(8 * e["multilevel"]["adc"])
    assert e["integrating"]["integrator"] > 0 == e["multilevel"]["integrator"]
    # the cell energy of integrating pulses equals bit-serial's (the same charge at full read voltage, weighted by
    # 2^b) only when codes are 0/1; here it is larger than multi-level's x^2 / x_max^2 scaling
    assert e["integrating"]["cell"] > e["multilevel"]["cell"]


def test_input_modes_latency(mode_reports):
    from reram.ir.machine import machine

    m = {k: machine(r[0], RtlConfig()) for k, r in mode_reports.items()}
    assert m["multilevel"].array_lat == 1 and m["bit_serial"].array_lat == 1
    assert m["integrating"].array_lat == 1 + 255 and m["integrating-2"].array_lat == 1 + 15
    assert m["bit_serial"].n_insl == 8 and m["integrating-2"].n_insl == 2 and m["integrating"].n_insl == 1
    lat = {k: r[2]["latency_cycles"] for k, r in mode_reports.items()}
    assert lat["multilevel"] < lat["integrating-2"] < lat["bit_serial"] < lat["integrating"]
    # each layer's read sequence: slices x (array read + ADC rounds); the schedule and the report agree
    for k, r in mode_reports.items():
        assert r[2]["layer_cycles"] == [ly.cycles for ly in m[k].layers]
    area = {k: r[2]["area_mm2"] for k, r in mode_reports.items()}
    assert area["integrating"]["integrators"] > 0 == area["multilevel"]["integrators"]
    assert area["bit_serial"]["dacs"] == pytest.approx(area["multilevel"]["dacs"] / 8)  # 1-bit drivers


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


def test_preset_files_written_before_the_buffer_band_still_read():
    """A preset file without the band and leakage figures (written by an older reram) reads with no band and no
    buffer leakage, said in their sources."""
    from reram.chip.energy_preset import builtin_text

    text = "\n".join(ln for ln in builtin_text("isaac-32nm").splitlines()
                     if not ln.startswith(("feature_buffer_energy_low_j", "feature_buffer_energy_high_j",
                                           "feature_buffer_leakage_w_per_byte")))
    p = parse_preset(text, "old.toml")
    assert p.value("feature_buffer_energy_low_j") == p.value("feature_buffer_energy_high_j") == p.value(
        "feature_buffer_energy_j")
    assert p.value("feature_buffer_leakage_w_per_byte") == 0.0
    assert "not in this preset file" in p["feature_buffer_leakage_w_per_byte"].source
