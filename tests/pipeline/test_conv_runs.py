"""Whole runs of convolutional networks: LeNet-5 and a TOML layer list, every stage, co-simulation and synthesis
of the convolutional RTL included."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from reram.config import load_config
from reram.pipeline import execute
from reram_testing import layers_toml, require_yosys

pytestmark = pytest.mark.slow

SMALL = ['data.dataset="mnist-5k"', "train.epochs=2", "analog.chips=2", "calibration.ablation_chips=1",
         "calibration.finetune_iters=10", "analog.sensitivity_chips=0", "energy.sensitivity=false",
         "energy.samples=100", "data.test_subset=400", "rtl.samples=20"]


def test_lenet5_runs_every_stage(tmp_path):
    require_yosys()  # every stage: without Yosys the run would skip synth
    cfg = load_config(None, [*SMALL, 'model.arch="lenet5"'])
    ctx = execute(cfg, tmp_path, name="lenet", progress=False)
    m = ctx.metrics
    assert m["meta"]["stages_completed"] == ["data", "train", "compile", "analog", "calibrate", "cosim", "synth",
                                             "energy", "sensitivity", "report"]
    assert m["software"]["model"]["arch"] == "lenet5" and m["software"]["test_accuracy"] > 0.8
    assert m["analog"]["test_accuracy_mean"] > m["software"]["test_accuracy"] - 0.05
    arch = m["calibration"]["architecture"]
    assert [a["op"] for a in arch] == ["conv2d", "conv2d", "dense", "dense", "dense"]
    assert arch[0]["positions"] == 28 * 28 and arch[0]["rows"] == 25 and arch[0]["pool"] == "max"
    assert arch[1]["positions"] == 10 * 10 and arch[1]["rows"] == 6 * 25
    c = m["cosim"]  # every layer's codes of 20 samples, bit for bit, and the analytic schedule
    per_input = 6 * 14 * 14 + 16 * 5 * 5 + 120 + 84 + 10
    assert c["mismatched_codes"] == 0 and c["compared_codes"] == (20 + c["stress_samples"]) * per_input
    # the stress inputs: every edge of the input map, ADCs driven to both ends, more than the 20 images reach
    assert c["stress_kinds"]["borders"] == 5 and c["stress_kinds"]["adc_clamps"] >= 1
    cov = c["coverage"]
    assert cov["with_stress"]["conv0"]["edges"] == 1.0
    assert sum(d["adc_high"] + d["adc_low"] for d in cov["with_stress"].values()) > sum(
        d["adc_high"] + d["adc_low"] for d in cov["samples"].values())
    assert c["cycles_match_analytic"] is True and c["latency_cycles"] == c["analytic_latency_cycles"]
    assert c["hw_accuracy"] == c["golden_accuracy"]
    s = m["synth"]
    assert s["latches"] == 0 and s["combinational_loops"] == 0 and s["cells"] > 0
    assert s["per_module"]["reram_addrgen"]["cells"] > 0  # the convolutions' address generators are logic
    by_layer = m["energy"]["by_layer"]
    # per output position: conv0 converts each of its 6 columns once per position (one row tile)
    assert by_layer[0]["events_per_inference"]["adc_conversions"] == 784 * 6
    assert by_layer[0]["macs"] == 784 * 25 * 6
    html = (ctx.run_dir / "report.html").read_text()
    assert 'id="network"' in html and "conv2d" in html and 'id="synth"' in html


def test_toml_layer_list_runs(tmp_path):
    conf = tmp_path / "net.toml"
    conf.write_text(layers_toml([{"op": "conv2d", "out": 8, "kernel": 3, "stride": 2, "padding": 1}, {"op": "relu"},
                                 {"op": "avgpool2d", "kernel": 2}, {"op": "linear", "out": "classes"}]))
    args = [sys.executable, "-m", "reram", "run", "--config", str(conf), "--runs-dir", str(tmp_path), "--name", "t",
            "--quiet", "--stages", "data,train,compile,analog,energy"]
    for s in SMALL:
        args += ["--set", s]
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "t" / "metrics.json").read_text())
    arch = m["calibration"]["architecture"]
    assert arch[0]["op"] == "conv2d" and arch[0]["positions"] == 14 * 14 and arch[0]["pool"] == "avg"
    assert arch[1]["in"] == 8 * 7 * 7
    assert m["analog"]["test_accuracy_mean"] > 0.5


def test_bad_layer_entry_is_one_line(tmp_path):
    conf = tmp_path / "bad.toml"
    conf.write_text('[model]\narch = "layers"\n[[model.layers]]\nop = "conv2d"\nout = 4\nkernal = 3\n'
                    '[[model.layers]]\nop = "linear"\nout = 10\n')
    r = subprocess.run([sys.executable, "-m", "reram", "run", "--config", str(conf), "--runs-dir", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "model.layers[0] (conv2d): unknown key 'kernal'" in lines[0]


def test_model_file_enters_the_flow(tmp_path):
    import torch

    from reram.models import build_model, spec_from_config

    cfg = load_config(None, [*SMALL, 'model.arch="lenet5"'])
    torch.manual_seed(0)
    net = build_model(spec_from_config(cfg.model, (1, 28, 28), 10))
    torch.save(net.state_dict(), tmp_path / "mine.pt")
    ctx = execute(cfg, tmp_path, name="user", stages=["data", "train", "compile", "analog"], progress=False,
                  model_file=str(tmp_path / "mine.pt"))
    sw = ctx.metrics["software"]
    assert "--model-file" in sw["source"] and sw["train_samples"] == 0
    assert 0 <= sw["test_accuracy"] <= 0.3  # an untrained network: evaluated as given, not trained
    # weights of another network are one clear error
    bad = load_config(None, [*SMALL, "model.hidden=[32]"])
    r = subprocess.run([sys.executable, "-m", "reram", "run", "--runs-dir", str(tmp_path), "--name", "bad",
                        "--model-file", str(tmp_path / "mine.pt"), "--stages", "data,train", "--quiet",
                        *[a for s in [*SMALL, "model.hidden=[32]"] for a in ("--set", s)]],
                       capture_output=True, text=True)
    assert bad.model.arch == "mlp" and r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--model-file" in lines[0] and "do not fit model.arch = 'mlp'" in lines[0]
