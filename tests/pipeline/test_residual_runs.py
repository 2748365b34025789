"""Whole runs of residual networks: ResNet-8 on a generated CIFAR-10 archive through every default stage (the RTL
stages skipped with their reason), and a TOML layer graph with a skip connection."""

from __future__ import annotations

import pytest

from reram.config import load_config
from reram.errors import RunError
from reram.pipeline import execute
from reram_cifar import make_cifar
from reram_testing import layers_toml

pytestmark = pytest.mark.slow

SMALL = ["train.epochs=1", "analog.chips=2", "calibration.ablation_chips=1", "calibration.finetune_iters=4",
         "analog.sensitivity_chips=0", "energy.sensitivity=false", "energy.samples=20", "data.calib_size=64",
         "calibration.finetune_batch=16"]


def test_resnet8_on_cifar10_runs_every_stage(tmp_path):
    make_cifar(tmp_path / "cifar", per_batch=40, n_test=40)
    cfg = load_config(None, [*SMALL, 'data.dataset="cifar10"', "data.verify=false", 'model.arch="resnet8"',
                             "calibration.ablation_samples=20"])
    ctx = execute(cfg, tmp_path / "runs", name="r8", progress=False, data_dir=str(tmp_path / "cifar"))
    m = ctx.metrics
    assert m["meta"]["stages_completed"] == ["data", "train", "compile", "analog", "calibrate", "energy",
                                             "sensitivity", "report"]
    skipped = m["meta"]["stages_skipped"]
    assert set(skipped) == {"cosim", "synth"} and "layer graph" in skipped["cosim"]["reason"]
    assert m["software"]["model"]["arch"] == "resnet8" and m["software"]["model"]["in_shape"] == [3, 32, 32]
    arch = m["calibration"]["architecture"]
    assert len(arch) == 10 and arch[0]["rows"] == 27  # 3 channels x 3 x 3
    energy = m["energy"]
    assert energy["by_component_j"]["residual_add"] > 0
    assert "layer graph" in energy["cycles_source"]
    assert 0 <= m["analog"]["test_accuracy_mean"] <= 1
    html = (ctx.run_dir / "report.html").read_text()
    assert 'id="network"' in html
    # the ablation on fewer test images than the headline: said in metrics and the report
    assert m["analog"]["test_images"] == 40 and {r["test_images"] for r in m["calibration"]["ablation"]} == {20}
    assert "each ablation step evaluates 20 test images on 1 chips" in html
    with pytest.raises(RunError, match="does not apply: the RTL's layer pipeline runs chains"):
        execute(None, tmp_path / "runs", name="r8", resume=True, stages=["cosim"], progress=False,
                data_dir=str(tmp_path / "cifar"))


def test_toml_layer_graph_with_a_skip_connection_runs(tmp_path):
    conf = tmp_path / "net.toml"
    conv = {"op": "conv2d", "out": 16, "kernel": 3, "padding": 1}
    conf.write_text(layers_toml([conv | {"stride": 2}, {"op": "batchnorm"}, {"op": "relu", "name": "a"}, conv,
                                 {"op": "batchnorm"}, {"op": "add", "from": "a"}, {"op": "relu"}, {"op": "gap"},
                                 {"op": "linear", "out": "classes"}]))
    cfg = load_config(conf, ['data.dataset="mnist-5k"', "train.epochs=3", "analog.chips=1",
                             "calibration.finetune_iters=0", "data.test_subset=200"])
    ctx = execute(cfg, tmp_path, name="graph", stages=["data", "train", "compile", "analog"], progress=False)
    m = ctx.metrics
    assert m["software"]["test_accuracy"] > 0.3
    assert m["analog"]["test_accuracy_mean"] > m["software"]["test_accuracy"] - 0.1
    assert [ly["src"] for ly in m["calibration"]["architecture"]] == [-1, 0, 1]
