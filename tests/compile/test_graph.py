"""The layer graph (IR format 3): lowering of residual networks, the fused residual add, and every stage's agreement
on it (float IR = torch model, engine = golden on every node)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from reram.analog import AnalogModel
from reram.chip.device import noise_free
from reram.compile.lower import lower
from reram.config import load_config
from reram.config.presets import resolve_device
from reram.errors import CompileError, ConfigError, IRError
from reram.golden import golden_forward, pixel_codes
from reram.ir import rules
from reram.ir.core import ArchParams, CompiledModel
from reram.ir.ops import OPS, float_forward
from reram.models.nets import build_model, resnet_layers
from reram.pipeline.flows import FLOW_SPECS, compile_flow


class UserResNet(nn.Module):
    """A user's own residual module, written the usual way: an identity block and a projection block (1x1 stride-2
    conv + BN shortcut), F.relu, global average pooling by F.adaptive_avg_pool2d and torch.flatten."""

    def __init__(self, c: int = 4):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        self.a1, self.b1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.a2, self.b2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.c1, self.d1 = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * c)
        self.c2, self.d2 = nn.Conv2d(2 * c, 2 * c, 3, padding=1, bias=False), nn.BatchNorm2d(2 * c)
        self.shortcut = nn.Sequential(nn.Conv2d(c, 2 * c, 1, stride=2, bias=False), nn.BatchNorm2d(2 * c))
        self.fc = nn.Linear(2 * c, 5)

    def forward(self, x):
        x = self.stem(x)
        out = F.relu(self.b1(self.a1(x)))
        x = F.relu(self.b2(self.a2(out)) + x)  # identity shortcut
        out = F.relu(self.d1(self.c1(x)))
        out = self.d2(self.c2(out))
        out += self.shortcut(x)  # projection shortcut
        out = F.relu(out)
        out = F.adaptive_avg_pool2d(out, 1)
        return self.fc(torch.flatten(out, 1))


def _randomize_bn(model: nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)


@pytest.fixture(scope="module")
def user_design():
    torch.manual_seed(0)
    model = UserResNet().eval()
    _randomize_bn(model, 1)
    cfg = load_config(None, ["calibration.finetune_iters=0", "array.rows=32", "array.cols=16"])
    dev = replace(noise_free(resolve_device(cfg)), program_sigma=0.03, sigma_model="constant")
    rng = np.random.default_rng(0)
    calib = rng.random((200, 64), dtype=np.float32)
    cm = compile_flow(model, cfg, dev, FLOW_SPECS["ideal"], calib, progress=False, in_shape=[1, 8, 8])
    return model, cm, dev, rng.random((40, 64), dtype=np.float32)


def test_user_residual_module_lowers_to_a_graph(user_design):
    model, cm, _, x = user_design
    kinds = [(ly.name, ly.src, ly.add_src, ly.out_signed, ly.relu) for ly in cm.layers]
    # stem, a1, a2 (+ stem), c1, c2, shortcut (holds the add: the later layer), fc
    assert [k[1] for k in kinds] == [-1, 0, 1, 2, 3, 2, 5]
    assert [k[2] for k in kinds] == [None, None, 0, None, None, 4, None]
    assert [k[3] for k in kinds] == [False, False, False, False, True, False, False]  # c2 feeds only the add
    assert cm.layers[5].pool == {"kind": "avg", "kernel": [4, 4], "stride": [4, 4], "padding": [0, 0]}
    assert cm.layers[5].conv["kernel"] == [1, 1] and cm.layers[5].conv["stride"] == [2, 2]
    assert not cm.is_chain and cm.readers(2) == [3, 5] and cm.adders(0) == [2]
    with torch.no_grad():
        ref = model(torch.from_numpy(x).reshape(-1, 1, 8, 8)).numpy()
    np.testing.assert_allclose(float_forward(cm, x)[-1][1], ref, rtol=1e-4, atol=1e-4)


def _engine_outputs(cm, model: AnalogModel, codes: np.ndarray, rows: bool) -> list[np.ndarray]:
    """Every layer's output from the engine: the model's own path (feature maps for hidden convolutions), or the
    im2col rows path (``rows``) that fine-tuning and bias re-calibration take."""
    outs: list[np.ndarray] = []

    def step(i, h, skip):
        al = model.layers[i]
        if rows:
            acc = al.forward_acc(al.patches(h), model.noise_gen)
            y = al.digital(acc, None if skip is None else OPS[al.ir.kind].skip_rows(al.ir, skip))
            y = y if al.is_last else al.finish(y, h.shape[0])
        else:
            y = al(h, model.noise_gen, skip)
        outs.append(y.numpy())
        return y

    with torch.no_grad():
        cm.walk(torch.from_numpy(codes.astype(np.float64)), step)
    return outs


@pytest.mark.parametrize("rows", [False, True], ids=["maps", "rows"])
def test_engine_matches_golden_on_every_node(user_design, rows):
    _, cm, dev, x = user_design
    model = AnalogModel(cm, dev, seed=2, dtype=torch.float64)
    codes = pixel_codes(cm, x)
    g = golden_forward(cm, model.chip, codes)
    outs = _engine_outputs(cm, model, codes, rows)
    for li in range(len(cm.layers) - 1):
        np.testing.assert_array_equal(outs[li].astype(np.int64), g.layer_outputs[li], err_msg=cm.layers[li].name)
    assert (g.layer_outputs[4] < 0).any(), "the projection's signed codes hold negatives"
    last = cm.layers[-1]
    np.testing.assert_allclose(outs[-1], g.logits * last.next_scale / 2.0**last.req_shift, rtol=1e-9)
    np.testing.assert_array_equal(model(torch.from_numpy(codes.astype(np.float64)), codes=True).numpy(), outs[-1])


def test_residual_add_rule_rounds_once():
    acc, M, B = np.array([[10], [-7]]), np.array([3]), np.array([1])
    skip = np.array([[5], [2]])
    # (30 + 1 + 5 * 6 + 4) >> 3 = 65 >> 3 = 8; (-21 + 1 + 12 + 4) >> 3 = -4 >> 3 = -1 -> ReLU 0 / signed -1
    assert rules.requant(acc, M, B, 3, 255, skip, 6).tolist() == [[8], [0]]
    assert rules.requant(acc, M, B, 3, 255, skip, 6, signed=True).tolist() == [[8], [-1]]
    k, mult = rules.add_alignment(0.02, 0.01, ratio=1e-3)
    assert mult == round(2 * 2**k) and mult <= rules.REQ_MULT_MAX


def test_graph_ir_round_trip_and_bad_graphs(user_design, tmp_path):
    _, cm, _, _ = user_design
    cm.save(tmp_path)
    again = CompiledModel.load(tmp_path)
    assert [(a.src, a.add_src, a.add_mult, a.out_signed) for a in again.layers] == \
        [(a.src, a.add_src, a.add_mult, a.out_signed) for a in cm.layers]
    doc = json.loads((tmp_path / "ir.json").read_text())
    for field, value, message in (("add_src", 6, "not an earlier layer"), ("add_src", 1, "adds conv1's outputs"),
                                  ("src", 4, "signed outputs")):
        bad = json.loads(json.dumps(doc))
        bad["layers"][5][field] = value
        (tmp_path / "ir.json").write_text(json.dumps(bad))
        with pytest.raises(IRError, match=message):
            CompiledModel.load(tmp_path)


class _LSTMNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 8)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.lstm(x)[0][-1])


class _ReluBeforeAdd(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.fc = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 2)

    def forward(self, x):
        h = F.relu(self.a(x))
        return self.fc(F.relu(self.b(h)) + h)


class _AddInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.fc = nn.Linear(4, 4), nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(F.relu(self.a(x) + x))


@pytest.mark.parametrize("net, message", [
    (_LSTMNet(), r"model\.lstm: nn\.LSTM is not supported"),
    (_ReluBeforeAdd(), r"the residual add must come after fc\d's BatchNorm and before its ReLU|after b"),
    (_AddInput(), "adding the model input is not supported"),
])
def test_unsupported_graphs_name_the_op(net, message):
    with pytest.raises(CompileError, match=message):
        lower(net, ArchParams())


def test_layer_list_graph_and_resnets():
    layers = [{"op": "conv2d", "out": 4, "kernel": 3, "padding": 1}, {"op": "relu", "name": "a"},
              {"op": "conv2d", "out": 4, "kernel": 3, "padding": 1}, {"op": "add", "from": "a"}, {"op": "relu"},
              {"op": "gap"}, {"op": "linear", "out": "classes"}]
    model = build_model({"arch": "layers", "in_shape": [1, 6, 6], "classes": 3, "layers": layers}).eval()
    cm = lower(model, ArchParams())
    assert [(ly.src, ly.add_src) for ly in cm.layers] == [(-1, None), (0, 0), (1, None)]
    with pytest.raises(ConfigError, match="names no earlier entry"):
        build_model({"arch": "layers", "in_shape": [1, 6, 6], "classes": 3,
                     "layers": [{"op": "add", "from": "b"}, {"op": "linear", "out": 3}]})
    for depth, convs in ((8, 10), (20, 22)):
        spec = {"arch": f"resnet{depth}", "in_shape": [3, 32, 32], "classes": 10, "layers": resnet_layers(depth)}
        cm = lower(build_model(spec).eval(), ArchParams())
        assert len(cm.layers) == convs  # 6n + 1 convolutions, 2 projections, the classifier
        assert sum(ly.out_signed for ly in cm.layers) == 2 and sum(ly.add_src is not None for ly in cm.layers) == \
            (depth - 2) // 2
        assert cm.layers[-2].out_maps == (64, 1, 1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_engine_on_cuda_equals_cpu_on_a_residual_network(user_design):
    """analog.device = 'cuda': the same codes as the CPU's with read noise off (the noise draws differ by device)."""
    _, cm, dev, x = user_design
    codes = torch.from_numpy(pixel_codes(cm, x).astype(np.float64))
    cpu = AnalogModel(cm, dev, seed=2, dtype=torch.float64)
    gpu = AnalogModel(cm, dev, seed=2, dtype=torch.float64, device="cuda", chip=cpu.chip)
    with torch.no_grad():
        np.testing.assert_allclose(gpu(codes.cuda(), codes=True).cpu().numpy(), cpu(codes, codes=True).numpy(),
                                   rtol=1e-9)


def test_fine_tuning_on_feature_maps_equals_the_im2col_rows(user_design, monkeypatch):
    """Fine-tuning runs hidden convolutions on feature maps; with a noise-free chip its outputs and the gradients of
    its straight-through ADC are those of the im2col rows path."""
    from reram.analog.engine import AnalogLayer

    _, cm, dev, x = user_design
    nf = noise_free(dev)
    xt = torch.from_numpy(x)
    results = []
    for rows in (False, True):
        monkeypatch.setattr(AnalogLayer, "_cell_noise", property(lambda self, r=rows: r))
        model = AnalogModel(cm, nf, seed=0, trainable=True, dtype=torch.float64)
        model.train()
        out = model(xt)
        out.square().sum().backward()
        results.append((out.detach(), [p.grad.clone() for p in model.parameters() if p.requires_grad]))
    (a, ga), (b, gb) = results
    torch.testing.assert_close(a, b)
    for u, v in zip(ga, gb, strict=True):
        torch.testing.assert_close(u, v)
