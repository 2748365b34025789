"""Whole runs of residual networks: ResNet-8 on a generated CIFAR-10 archive through the default stages, the RTL
stages' reason for networks beyond the RTL's controllers, and a TOML layer graph with a skip connection."""

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


STAGES = ["data", "train", "compile", "analog", "calibrate", "energy", "sensitivity", "report"]


def test_resnet8_on_cifar10_runs_every_stage(tmp_path):
    """Every default stage but the RTL's (for CI time: the full ResNet-8's Verilator build and its Yosys synthesis
    take minutes; the graph RTL is co-simulated and synthesized on small ResNet-8s in tests/rtl, and the RTL stages
    apply to this model, which tests below check)."""
    make_cifar(tmp_path / "cifar", per_batch=40, n_test=40)
    own = [s for s in SMALL if not s.startswith("calibration.finetune")]  # the profile's: no fine-tuning
    cfg = load_config(None, [*own, 'data.dataset="cifar10"', "data.verify=false", 'model.arch="resnet8"',
                             "calibration.ablation_samples=20"])
    ctx = execute(cfg, tmp_path / "runs", name="r8", progress=False, data_dir=str(tmp_path / "cifar"), stages=STAGES)
    m = ctx.metrics
    assert m["meta"]["stages_completed"] == STAGES
    assert m["software"]["model"]["arch"] == "resnet8" and m["software"]["model"]["in_shape"] == [3, 32, 32]
    arch = m["calibration"]["architecture"]
    assert len(arch) == 10 and arch[0]["rows"] == 27  # 3 channels x 3 x 3
    energy = m["energy"]
    assert energy["by_component_j"]["residual_add"] > 0
    assert energy["cycles_source"] == "analytic cycle model (machine description)"  # forks and joins, exact
    assert 0 <= m["analog"]["test_accuracy_mean"] <= 1
    html = (ctx.run_dir / "report.html").read_text()
    assert 'id="network"' in html
    # the ablation on fewer test images than the headline: said in metrics and the report
    assert m["analog"]["test_images"] == 40 and {r["test_images"] for r in m["calibration"]["ablation"]} == {20}
    assert "each ablation step evaluates 20 test images on 1 chips" in html
    # the residual profile leaves out the ablation's second network, and the report says so
    assert m["calibration"]["ablation_second_network"] is False
    assert not any(r["step"].startswith("8") for r in m["calibration"]["ablation"])
    assert "calibration.ablation_second_network = false" in html
    assert m["meta"]["threads"]["train"] >= 1  # the profile's train.threads = 0: every core, the count recorded
    # the profile's per-column weight scales and no fine-tuning: the ablation leaves out step 5, and says so
    assert m["calibration"]["finetune_iters"] == 0 and "hw_aware_finetune" not in m["calibration"]["passes"]
    assert ctx.compiled.meta["weight_scale"] == "column"
    assert any(float(ly.col_scale.max()) > 1 for ly in ctx.compiled.layers)
    steps = [r["step"][:1] for r in m["calibration"]["ablation"]]
    assert steps == ["1", "2", "3", "4", "6", "7", "7"], steps  # the second 7: the other IR-drop model
    assert "Step 5 (hardware-aware fine-tuning) was left out: calibration.finetune_iters = 0" in html


def test_rtl_stages_skip_networks_beyond_the_rtl_controllers():
    """ResNet-8's 10 layers and ResNet-20's 22 run in RTL; beyond the RTL's 64 layer controllers the RTL stages give
    that reason."""
    from types import SimpleNamespace

    from reram.compile.lower import lower
    from reram.ir.core import ArchParams
    from reram.models.nets import build_model, resnet_layers
    from reram.pipeline.stages import rtl_not_applicable

    for depth in (8, 20):
        spec = {"arch": f"resnet{depth}", "in_shape": [3, 8, 8], "classes": 10, "layers": resnet_layers(depth)}
        assert rtl_not_applicable(SimpleNamespace(compiled=lower(build_model(spec).eval(), ArchParams()))) is None
    deep = SimpleNamespace(compiled=SimpleNamespace(layers=[None] * 65, arch=ArchParams()))
    assert "at most 64 layer controllers" in rtl_not_applicable(deep)


def test_rtl_stages_named_for_a_deep_network_are_refused_with_the_reason(tmp_path):
    deep = "model.hidden=[" + ", ".join(["8"] * 64) + "]"  # 65 layers
    cfg = load_config(None, ['data.dataset="mnist-5k"', deep, "train.epochs=1", "analog.chips=1",
                             "calibration.finetune_iters=0", "data.test_subset=100"])
    ctx = execute(cfg, tmp_path, name="deep", stages=["data", "train", "compile"], progress=False)
    assert len(ctx.compiled.layers) == 65
    with pytest.raises(RunError, match=r"does not apply: the RTL holds at most 64 layer controllers .*has 65 layers"):
        execute(None, tmp_path, name="deep", resume=True, stages=["cosim"], progress=False)


def test_toml_layer_graph_with_a_skip_connection_runs(tmp_path):
    conf = tmp_path / "net.toml"
    conv = {"op": "conv2d", "out": 16, "kernel": 3, "padding": 1}
    conf.write_text(layers_toml([conv | {"stride": 2}, {"op": "batchnorm"}, {"op": "relu", "name": "a"}, conv,
                                 {"op": "batchnorm"}, {"op": "add", "from": "a"}, {"op": "relu"}, {"op": "gap"},
                                 {"op": "linear", "out": "classes"}]))
    cfg = load_config(conf, ['data.dataset="mnist-5k"', "train.epochs=3", "analog.chips=1",
                             "calibration.finetune_iters=0", "data.test_subset=200", "calibration.ablation_chips=1",
                             "calibration.ablation_second_network=false"])
    ctx = execute(cfg, tmp_path, name="graph", stages=["data", "train", "compile", "analog", "calibrate"],
                  progress=False)
    m = ctx.metrics
    # without fine-tuning, the ablation's step 7 is the run's own compiled model on the same chips: the analog figure
    steps = m["calibration"]["ablation"]
    assert [r["step"][:1] for r in steps] == ["1", "2", "3", "4", "6", "7", "7"]
    assert steps[5]["test_accuracy_mean"] == m["analog"]["test_accuracy_mean"]
    assert m["software"]["test_accuracy"] > 0.3
    assert m["analog"]["test_accuracy_mean"] > m["software"]["test_accuracy"] - 0.1
    assert [ly["src"] for ly in m["calibration"]["architecture"]] == [-1, 0, 1]
