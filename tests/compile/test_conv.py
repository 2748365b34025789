"""Convolution and pooling through lowering, the passes, the analog engine and the golden model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from reram.analog import AnalogModel
from reram.chip.device import noise_free
from reram.config import load_config
from reram.config.presets import resolve_device
from reram.errors import CompileError
from reram.golden import golden_forward, pixel_codes
from reram.pipeline.flows import FLOW_SPECS, compile_flow


def _digits(n: int = 300):
    from reram.data import load_dataset

    ds = load_dataset("mnist-5k", progress=False)
    x = ds.train_images[:n].reshape(n, -1)
    return x, x.astype(np.float32) / 255.0


def _net(conv_kw: dict, pool: nn.Module | None, bn: bool = True) -> nn.Sequential:
    torch.manual_seed(0)
    c1 = nn.Conv2d(1, 4, **conv_kw)
    with torch.no_grad():
        h = c1(torch.zeros(1, 1, 28, 28))
        if pool is not None:
            h = pool(h)
    mods: list[nn.Module] = [nn.Unflatten(1, (1, 28, 28)), c1]
    if bn:
        mods.append(nn.BatchNorm2d(4))
    mods.append(nn.ReLU())
    if pool is not None:
        mods.append(pool)
    mods += [nn.Flatten(), nn.Linear(h.numel(), 10)]
    net = nn.Sequential(*mods)
    if bn:  # non-trivial running statistics to fold
        net.train()
        with torch.no_grad():
            net(torch.rand(64, 784))
    return net.eval()


CASES = {
    "k3-s1-p1-maxpool": ({"kernel_size": 3, "stride": 1, "padding": 1}, nn.MaxPool2d(2)),
    "k5-s2-p0": ({"kernel_size": 5, "stride": 2, "padding": 0}, None),
    "k3-s2-p1-avgpool3": ({"kernel_size": 3, "stride": 2, "padding": 1}, nn.AvgPool2d(3, stride=2, padding=1)),
    "k4-s1-p2-avgpool2-bitserial": ({"kernel_size": 4, "stride": 1, "padding": 2}, nn.AvgPool2d(2)),
}


def _compile(net, *sets: str):
    cfg = load_config(None, ["calibration.finetune_iters=0", "array.rows=32", "array.cols=16", *sets])
    dev = noise_free(resolve_device(cfg))
    _, calib = _digits(200)
    return compile_flow(net, cfg, dev, FLOW_SPECS["ideal"], calib, progress=False), dev


@pytest.mark.parametrize("case", list(CASES))
def test_engine_float64_equals_golden_bit_for_bit(case):
    conv_kw, pool = CASES[case]
    sets = ("dac.mode=bit_serial", "dac.bits=4") if "bitserial" in case else ()
    net = _net(conv_kw, pool)
    cm, dev = _compile(net, *sets)
    assert cm.layers[0].kind == "conv2d" and (cm.layers[0].pool is not None) == (pool is not None)
    px, _ = _digits(64)
    x = pixel_codes(cm, px)
    eng = AnalogModel(cm, replace(dev, program_sigma=0.03), seed=3, dtype=torch.float64)  # variation on
    g = golden_forward(cm, eng.chip, x)
    with torch.no_grad():
        h = eng.layers[0](torch.from_numpy(x.astype(np.float64)), eng.noise_gen)  # conv (+ pool) output codes
        np.testing.assert_array_equal(h.numpy(), g.layer_outputs[0].astype(np.float64))
        acc = eng.layers[1].forward_acc(eng.layers[1].patches(h), eng.noise_gen).numpy().astype(np.int64)
    last = cm.layers[-1]
    np.testing.assert_array_equal(acc * last.req_mult + last.req_bias, g.logits)


def test_lowering_folds_like_torch():
    net = _net({"kernel_size": 3, "stride": 1, "padding": 1}, nn.MaxPool2d(2))
    cm, _ = _compile(net)
    from reram.ir.ops import float_forward

    _, x = _digits(32)
    z_last = float_forward(cm, x)[-1][1]
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(z_last, ref, rtol=1e-4, atol=1e-4)


def test_avgpool_rounding_is_round_half_up_of_the_mean():
    from reram.ir.ops import pool_np

    maps = np.array([[[[1, 2], [2, 2]]], [[[1, 0], [0, 0]]], [[[2, 0], [0, 0]]]], np.int64)  # sums 7, 1, 2
    out = pool_np({"kind": "avg", "kernel": [2, 2], "stride": [2, 2], "padding": [0, 0]}, maps)
    assert out.ravel().tolist() == [2, 0, 1]  # 1.75 -> 2, 0.25 -> 0, 0.5 -> 1 (half up)


class LeNetStyle(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool2 = nn.AvgPool2d(2)
        self.drop = nn.Dropout(0.1)
        self.fc1 = nn.Linear(16 * 5 * 5, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(self.drop(x))))


def vgg_style() -> nn.Sequential:
    def block(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))

    return nn.Sequential(block(1, 8), block(8, 16), nn.Flatten(), nn.Linear(16 * 7 * 7, 10))


@pytest.mark.parametrize("make", [LeNetStyle, vgg_style])
def test_convert_any_conv_module(make):
    import reram

    torch.manual_seed(1)
    net = make().eval()
    _, x = _digits(200)
    cfg = load_config(None, ['device.preset="ideal"'])
    m = reram.convert(net, cfg, calib_x=x, in_shape=(1, 28, 28))
    with torch.no_grad():
        soft = net(torch.from_numpy(x).reshape(-1, 1, 28, 28)).argmax(1).numpy()
        hw = m(torch.from_numpy(x)).argmax(1).numpy()
    assert (hw == soft).mean() > 0.9  # an untrained net's argmax is fragile; the mapping must still track it
    assert any(ly.ir.kind == "conv2d" for ly in m.layers)


def test_unsupported_op_is_one_line_with_its_path():
    import reram

    class WithLSTM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(28, 10)

        def forward(self, x):
            return self.lstm(x)

    with pytest.raises(CompileError, match=r"^model\.lstm: nn\.LSTM is not supported; supported: Linear, Conv2d"):
        reram.convert(WithLSTM())


def test_older_ir_file_is_a_clear_error(tmp_path):
    import json

    from reram.errors import IRError
    from reram.ir import CompiledModel

    net = _net({"kernel_size": 3, "stride": 1, "padding": 1}, nn.MaxPool2d(2))
    cm, _ = _compile(net)
    cm.save(tmp_path)
    again = CompiledModel.load(tmp_path)  # round trip of the conv geometry and pooling
    assert again.layers[0].conv == cm.layers[0].conv and again.layers[0].pool == cm.layers[0].pool
    doc = json.loads((tmp_path / "ir.json").read_text())
    for old in (1, 2):  # 2: the chain format before the layer graph
        doc["version"] = old
        (tmp_path / "ir.json").write_text(json.dumps(doc))
        with pytest.raises(IRError, match=rf"IR format version {old}, this reram reads 3; re-run the 'compile' stage"):
            CompiledModel.load(tmp_path)


def test_conv_inference_path_matches_im2col_path_with_read_noise():
    """The inference path convolves each row tile's kernels instead of forming im2col rows: noise-free it gives the
    same codes, and with read noise the same spread (the variance convolved on x^2)."""
    net = _net({"kernel_size": 5, "stride": 1, "padding": 2}, nn.MaxPool2d(2))
    cm, dev = _compile(net, "array.rows=16")  # 25 kernel rows over 2 row tiles
    px, _ = _digits(32)
    x = torch.from_numpy(pixel_codes(cm, px).astype(np.float32))
    layer = AnalogModel(cm, replace(dev, read_noise=0.0), seed=1).layers[0]
    assert layer.T == 2
    Ho, Wo = layer.ir.conv["out_hw"]

    def maps(rows: torch.Tensor) -> torch.Tensor:  # im2col rows (N * Ho * Wo, out) -> maps (N, out, Ho, Wo)
        return rows.reshape(len(x), Ho, Wo, -1).permute(0, 3, 1, 2)

    with torch.no_grad():
        fast = layer._acc_conv(x, None)
        ref = layer.forward_acc(layer.patches(x).requires_grad_(), None).detach()
        torch.testing.assert_close(fast, maps(ref))
        # the layer's output (activation unit and pooling on the maps) equals the row path's
        rows_out = layer.finish(layer.digital(ref), len(x))
        torch.testing.assert_close(layer(x, None), rows_out)
    noisy = AnalogModel(cm, replace(dev, read_noise=0.05), seed=1).layers[0]
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        a = torch.stack([noisy._acc_conv(x, gen) for _ in range(30)]).std(0)
    b = torch.stack([maps(noisy.forward_acc(noisy.patches(x).requires_grad_(), gen).detach())
                     for _ in range(30)]).std(0)
    assert float(a.mean() / b.mean()) == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("shape,kernel,stride", [((30, 4, 24, 24), 2, 2), ((90, 3, 13, 11), 3, 2),
                                                 ((200, 3, 9, 9), 2, 3), ((500, 2, 8, 8), 1, 1),
                                                 ((400, 2, 7, 7), 3, 3), ((2, 2, 7, 7), 2, 2)])
def test_max_pool_by_strided_maxima_equals_max_pool2d(shape, kernel, stride):
    """The engine's inference max pooling (the maximum of the window offsets' strided views) equals max_pool2d,
    overlapping and ragged windows included; with gradients wanted it is max_pool2d itself."""
    from reram.ir.ops import POOLS

    g = torch.Generator().manual_seed(1)
    x = torch.randint(-50, 50, shape, generator=g).to(torch.float32)
    pool = {"kind": "max", "kernel": [kernel, kernel], "stride": [stride, stride], "padding": [0, 0]}
    want = F.max_pool2d(x, kernel, stride)
    with torch.no_grad():
        got = POOLS["max"].torch(pool, x)
    assert got.shape == want.shape and torch.equal(got, want)
    xg = x.clone().requires_grad_(True)
    POOLS["max"].torch(pool, xg).sum().backward()
    assert xg.grad is not None and float(xg.grad.sum()) == want.numel()  # one winner per window


def test_max_pool_before_the_activation_unit_gives_the_same_codes():
    """With every channel's requantization multiplier >= 0 the activation unit is non-decreasing, so the inference
    path max-pools the accumulated codes first: the same codes as pooling after it (read noise on, same draws); with
    a negative multiplier it pools after the unit, bit-exact with the golden model."""
    net = _net({"kernel_size": 3, "stride": 1, "padding": 1}, nn.MaxPool2d(2))
    cm, dev = _compile(net)
    px, _ = _digits(48)
    x = pixel_codes(cm, px)
    xt = torch.from_numpy(x.astype(np.float32))
    layer = AnalogModel(cm, replace(dev, read_noise=0.05, program_sigma=0.03), seed=2).layers[0]
    assert layer._req_monotone
    with torch.no_grad():
        a = layer(xt, torch.Generator().manual_seed(0))
        layer._req_monotone = False
        b = layer(xt, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    eng = AnalogModel(cm, replace(dev, program_sigma=0.03), seed=3, dtype=torch.float64)
    cl = eng.chip.layers[0]
    cl.req_mult = np.asarray(cm.layers[0].req_mult).copy()
    cl.req_mult[1] = -cl.req_mult[1]  # channel 1 decreasing: max-pooling does not commute with it
    cl.req_bias = np.asarray(cm.layers[0].req_bias).copy()
    eng.set_chip(eng.chip)
    assert not eng.layers[0]._req_monotone
    g = golden_forward(cm, eng.chip, x)
    with torch.no_grad():
        h = eng.layers[0](torch.from_numpy(x.astype(np.float64)), eng.noise_gen)
    np.testing.assert_array_equal(h.numpy(), g.layer_outputs[0].astype(np.float64))
