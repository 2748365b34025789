import json

import pytest

from reram.config import load_config
from reram.errors import RunError
from reram.pipeline import METRIC_SECTIONS, execute
from reram.pipeline.context import run_folder


def test_small_run_metrics(small_run):
    m = json.loads((small_run.run_dir / "metrics.json").read_text())
    assert m["schema_version"] == 4
    assert set(METRIC_SECTIONS) <= set(m)
    ds = m["meta"]["dataset"]
    assert ds["name"] == "mnist-5k" and ds["fallback"] is False and ds["verified"] is True
    # calibration is capped at a fifth of the training file
    assert m["meta"]["splits"] == {"train": 3200, "calibration": 800, "test": 1000}
    assert m["meta"]["seed"] == 1
    sw = m["software"]
    assert 0.85 < sw["test_accuracy"] <= 1.0
    assert sw["test_samples"] == 1000 and sw["architecture"] == [784, 256, 128, 10]
    assert len(sw["history"]) == 3
    assert m["timing"]["train_seconds"] > 0
    for f in ("config.toml", "model.safetensors", "run.log", "train_history.json"):
        assert (small_run.run_dir / f).exists()
    # the saved config reloads to the same configuration
    assert load_config(small_run.run_dir / "config.toml") == small_run.cfg


def test_existing_folder_needs_force(small_run):
    with pytest.raises(RunError, match="--force"):
        execute(small_run.cfg, small_run.run_dir.parent, name="small", stages=["data"], progress=False)


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "", "x" * 200])
def test_bad_names_rejected(tmp_path, name):
    with pytest.raises(RunError):
        run_folder(tmp_path, name)


def test_unknown_stage(tmp_path):
    with pytest.raises(RunError, match="unknown stage"):
        execute(load_config(), tmp_path, name="x", stages=["bogus"], progress=False)


def test_stage_needs_inputs(tmp_path):
    from reram.pipeline.stages import STAGES

    needing = [s for s in STAGES if s.needs]
    assert needing
    with pytest.raises(RunError, match="needs"):
        execute(load_config(None, ['data.dataset="mnist-5k"']), tmp_path, name="x", stages=[needing[0].name],
                progress=False)


def test_full_small_run_sections(small_full_run):
    m = json.loads((small_full_run.run_dir / "metrics.json").read_text())
    a = m["analog"]
    assert a["chips"] == 2 and len(a["chip_accuracies"]) == 2
    assert 0.8 < a["test_accuracy_mean"] <= 1 and a["test_accuracy_std"] >= 0
    assert [ly["layer"] for ly in a["layers"]] == ["fc0", "fc1", "fc2"]
    assert all(0 <= ly["adc_saturation_mean"] < 0.05 for ly in a["layers"])
    assert "read_noise" in a["citations"]
    # IR drop on chip 0: the static model's error against the nodal solve, the solver's, the wire's source
    ir = a["ir_drop"]
    assert ir["mode"] == "approx" and ir["wire_ohm_per_segment"] == 1.0 and "assumption" in ir["wire_source"]
    assert [ly["layer"] for ly in ir["layers"]] == ["fc0", "fc1", "fc2"]
    assert all(ly["error_solve"] < 1e-4 < ly["error_approx"] < ly["error_off"] for ly in ir["layers"])
    att = ir["column_attenuation"]
    assert len(att["solve"]) == len(att["approx"]) == 128 and all(0 < v < 1 for v in att["solve"])
    cal = m["calibration"]
    assert cal["flow"] == "default"
    assert cal["passes"][:4] == ["fold_batchnorm", "activation_scaling", "map_conductances", "tile"]
    assert "bias_recalibration" in cal["passes"]
    # fine-tuning is kept only when it raises the calibration-split accuracy, and the choice is recorded
    k = cal["kept_steps"]["hw_aware_finetune"]
    assert k["split"] == "calibration" and k["kept"] == (k["calib_accuracy_with"] > k["calib_accuracy_without"])
    assert ("hw_aware_finetune" in cal["passes"]) == k["kept"]
    # the per-chip re-calibration's choice, per chip, on the calibration split
    assert len(a["recalibration"]) == 2 and all(set(r) == {"kept", "calib_accuracy_before", "calib_accuracy_after"}
                                                for r in a["recalibration"])
    assert all(r["kept"] == (r["calib_accuracy_after"] >= r["calib_accuracy_before"]) for r in a["recalibration"])
    steps = cal["ablation"]
    assert len(steps) == 9 and steps[0]["step"].startswith("1 naive")
    assert "unipolar" in steps[2]["step"] and "logits signed" in steps[2]["step"]
    assert "signed" in steps[3]["step"] and "pre-ReLU" in steps[3]["step"]
    assert steps[6]["step"].startswith("7 + program-and-verify (6 cycles")
    # step 7 is the analog stage's figure (same flow, same chips) when the flow kept fine-tuning
    if k["kept"]:
        assert steps[6]["test_accuracy_mean"] == a["test_accuracy_mean"]
    # step 7's chips under the exact IR-drop solve (the run uses the static model): the model choice in accuracy
    ir = steps[7]
    assert ir["step"].startswith("7 with IR drop 'solve' instead of 'approx' (128x128 arrays, 1 ohm per segment)")
    assert ir["ir_drop"] == "solve" and ir["chips"] == steps[6]["chips"] and ir["passes"] == steps[6]["passes"]
    assert abs(ir["test_accuracy_mean"] - steps[6]["test_accuracy_mean"]) < 0.05
    assert steps[8]["step"].startswith("8 + hardware-aware training") and "train_seconds" not in steps[8]
    assert m["timing"]["ablation_second_network_train_seconds"] > 0  # wall times live in timing only
    assert 0.5 < steps[8]["software_test_accuracy"] <= 1
    # post-ReLU ADC calibration loses most of the accuracy: negative partial sums clip
    assert steps[2]["test_accuracy_mean"] < steps[3]["test_accuracy_mean"] - 0.2
    for f in ("compiled/ir.json", "compiled/ir.npz", "chip0.npz", "adc_samples.npz"):
        assert (small_full_run.run_dir / f).exists()


@pytest.mark.rtl
def test_full_small_run_cosim(small_full_run):
    m = json.loads((small_full_run.run_dir / "metrics.json").read_text())
    c = m["cosim"]
    assert c["samples"] == c["samples_requested"] == 1000
    n = 1000 + c["stress_samples"]  # the test images, then the stress inputs (rtl.stress)
    assert c["stress_samples"] == sum(c["stress_kinds"].values()) > 10
    assert c["compared_codes"] == n * (256 + 128 + 10) and c["mismatched_codes"] == 0  # every layer
    assert c["codes_per_layer"] == {"fc0": 256 * n, "fc1": 128 * n, "fc2": 10 * n}
    assert c["latency_cycles"] == c["analytic_latency_cycles"] == 109
    assert c["ii_cycles"] == c["analytic_ii_cycles"] == 45 and c["cycles_match_analytic"] is True
    assert c["events_match_golden"] is True
    assert c["latency_s"] == pytest.approx(109 / 100e6) and c["throughput_per_s"] == pytest.approx(100e6 / 45)
    # the RTL's ideal integer crossbar against the engine (IR drop, read noise) on the same chip and samples
    assert "ideal integer crossbar" in c["rtl_model"] and "clock" in c["assumptions"]["clock_hz"]
    assert abs(c["hw_accuracy"] - c["engine_accuracy"]) < 0.03
    assert c["engine_accuracy"] == pytest.approx(m["analog"]["chip_accuracies"][0], abs=0.05)


def test_full_small_run_energy(small_full_run):
    m = json.loads((small_full_run.run_dir / "metrics.json").read_text())
    e = m["energy"]
    assert [b["boundary"] for b in e["boundaries"]] == ["array", "macro", "system"]
    assert all(b["ops_convention"] == "2 ops per MAC" for b in e["boundaries"])
    assert e["energy_per_inference_j"] > 0 and e["area_mm2"]["total"] > 0
    if m["cosim"]:
        assert e["cycles_source"] == "RTL co-simulation" and e["rtl_counts_match_golden"] is True
    assert set(e["sensitivity"]) == {"input_bits", "adc_bits", "cell_bits", "array_size"}
    shares = e["sensitivity"]["input_bits"][0]["shares"]
    assert sum(shares.values()) == pytest.approx(1.0)
    # the one-time programming cost of chip 0: program-and-verify rewrites, counted and costed
    pr = e["programming"]
    assert pr["recorded"] and pr["verify_cycles"] == 6 and 1 < pr["writes_per_cell"] < 7
    assert pr["energy_j"] > pr["pulses"] * 10e-12 and pr["time_s"] > 0
    tw = [r["tops_per_w"]["macro"] for r in e["sensitivity"]["adc_bits"]]
    assert tw == sorted(tw, reverse=True)  # more ADC bits, more energy per conversion

