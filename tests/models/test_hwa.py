"""Hardware-aware training: the noise it injects, matched to the device, only while training."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from reram.config import load_config
from reram.models.hwa import HwaNoise, NoisyLayer, hardware_aware, matched_noise


def test_matched_noise_follows_the_device_preset():
    cfg = load_config(None, [])
    n = matched_noise(cfg)
    # NeuRRAM's sigma(G): 1.6 uS at 5 uS rising to 2.5 uS at 39 uS (clipped), averaged over the 5-50 uS window
    g = np.linspace(5e-6, 50e-6, 64)
    sigma = np.clip(1.6e-6 + (g - 5e-6) * 0.9e-6 / 34e-6, 1.6e-6, 2.5e-6).mean()
    assert n.weight == pytest.approx(math.sqrt(2) * sigma / 45e-6)
    assert n.output == 0.01 and n.dac_bits == 8 and n.adc_bits == 8
    const = matched_noise(load_config(None, ['device.sigma_model="constant"', "device.program_sigma=0.05"]), 2.0)
    assert const.weight == pytest.approx(2 * math.sqrt(2) * 0.05)
    assert matched_noise(load_config(None, ['device.preset="ideal"'])).weight == 0


def test_noisy_layer_injects_the_weight_noise_in_training_only():
    torch.manual_seed(0)
    lin = nn.Linear(64, 32)
    x = torch.rand(4000, 64)
    layer = NoisyLayer(lin, HwaNoise(weight=0.05, output=0.0, dac_bits=0, adc_bits=0))
    layer.eval()
    assert torch.equal(layer(x), lin(x))
    layer.train()
    with torch.no_grad():
        d = torch.stack([layer(x[:1]) - lin(x[:1]) for _ in range(2000)])[:, 0]  # (draws, out)
        expected = 0.05 * lin.weight.abs().max() * x[0].norm()  # sum_i x_i^2 sigma^2
    assert float(d.std(0).mean() / expected) == pytest.approx(1.0, abs=0.05)
    # gradients reach the wrapped layer's own parameters
    layer(x).sum().backward()
    assert lin.weight.grad is not None and lin.bias.grad is not None
    # per column: each output channel's noise scales with its own largest weight
    with torch.no_grad():
        lin.weight[:16] *= 0.1
    col = NoisyLayer(lin, HwaNoise(weight=0.05, output=0.0, dac_bits=0, adc_bits=0, per_column=True)).train()
    with torch.no_grad():
        d = torch.stack([col(x[:1]) - lin(x[:1]) for _ in range(2000)])[:, 0]
        expected = 0.05 * lin.weight.abs().amax(1) * x[0].norm()
    ratio = d.std(0) / expected
    assert float(ratio[:16].mean()) == pytest.approx(1.0, abs=0.05)
    assert float(ratio[16:].mean()) == pytest.approx(1.0, abs=0.05)


def test_quantization_and_output_noise():
    lin = nn.Linear(16, 8, bias=False)
    layer = NoisyLayer(lin, HwaNoise(weight=0.0, output=0.0, dac_bits=2, adc_bits=3))
    layer.train()
    x = torch.rand(50, 16)
    y = layer(x)
    top = y.detach().abs().max()
    levels = torch.round(y / top * 3)  # 3-bit signed: +-3 steps of top / 3
    assert torch.allclose(y, levels * top / 3, atol=1e-6)
    noisy = NoisyLayer(lin, HwaNoise(weight=0.0, output=0.1, dac_bits=0, adc_bits=0)).train()
    assert not torch.equal(noisy(x), lin(x))


def test_context_restores_the_model():
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    keys = list(net.state_dict())
    with hardware_aware(net, HwaNoise(0.1, 0.01, 8, 8)) as m:
        assert isinstance(m[1], NoisyLayer) and isinstance(m[3], NoisyLayer)
        assert [p.data_ptr() for p in m.parameters()] == [p.data_ptr() for p in net.parameters()]
    assert isinstance(net[1], nn.Linear) and list(net.state_dict()) == keys


def test_hwa_training_runs_and_records(mnist_small):
    from reram.config.schema import ModelConfig, TrainConfig
    from reram.models import train_model

    x, y = mnist_small["train_x"][:2000], mnist_small["train_y"][:2000]
    tx, ty = mnist_small["test_x"][:300], mnist_small["test_y"][:300]
    cfg = load_config(None, [])
    plain = train_model(x, y, tx, ty, ModelConfig(hidden=[32]), TrainConfig(epochs=2), 0, progress=False)
    noisy = train_model(x, y, tx, ty, ModelConfig(hidden=[32]), TrainConfig(epochs=2), 0, progress=False,
                        hwa=matched_noise(cfg))
    assert noisy.test_accuracy > 0.6
    w0 = dict(plain.model.named_parameters())
    assert any(not torch.equal(p, w0[k]) for k, p in noisy.model.named_parameters())
    assert not any(isinstance(m, NoisyLayer) for m in noisy.model.modules())
