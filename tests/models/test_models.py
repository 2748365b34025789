import numpy as np
import torch
from torch import nn

from reram.config.schema import ModelConfig, TrainConfig
from reram.models import build_mlp, load_weights, save_weights, train_mlp


def test_architecture():
    m = build_mlp(784, [32, 16], 10, batchnorm=True)
    kinds = [type(x) for x in m]
    assert kinds == [nn.Flatten, nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]
    assert m(torch.zeros(4, 784)).shape == (4, 10)


def _tiny_data(seed=0, n=600):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = np.zeros((n, 784), np.uint8)
    for c in range(10):  # class c lights block c: learnable
        x[y == c, c * 70 : c * 70 + 60] = 200
    x = np.clip(x + rng.integers(0, 40, x.shape), 0, 255).astype(np.uint8)
    return x, y


def test_training_learns_and_is_deterministic():
    x, y = _tiny_data()
    mc, tc = ModelConfig(hidden=[32]), TrainConfig(epochs=3, batch_size=64, threads=1)
    a = train_mlp(x, y, x[:200], y[:200], mc, tc, seed=5, progress=False)
    b = train_mlp(x, y, x[:200], y[:200], mc, tc, seed=5, progress=False)
    assert a.test_accuracy > 0.9
    for pa, pb in zip(a.model.state_dict().values(), b.model.state_dict().values(), strict=True):
        assert torch.equal(pa, pb)
    c = train_mlp(x, y, x[:200], y[:200], mc, tc, seed=6, progress=False)
    assert not torch.equal(a.model[1].weight, c.model[1].weight)


def test_weights_roundtrip_without_pickle(tmp_path):
    import json

    from safetensors.torch import save as st_save

    from reram.config import load_config
    from reram.models import build_model, spec_from_config

    for arch in ("mlp", "lenet5"):
        spec = spec_from_config(load_config(None, [f'model.arch="{arch}"']).model, (1, 28, 28), 10)
        m = build_model(spec).eval()
        p = tmp_path / f"{arch}.safetensors"
        save_weights(m, p, spec)
        m2 = load_weights(p)
        x = torch.rand(3, 784)
        assert torch.equal(m(x), m2(x))
        assert p.read_bytes()[:8] != b"\x80\x04\x95"  # not a pickle
    # a weight file of reram 0.1 (MLP widths in the metadata) still loads
    old = build_mlp(784, [16], 10, True).eval()
    state = {k: v.contiguous() for k, v in old.state_dict().items()}
    p = tmp_path / "old.safetensors"
    p.write_bytes(st_save(state, metadata={"arch": json.dumps({"hidden": [16], "batchnorm": True})}))
    x = torch.rand(3, 784)
    assert torch.equal(old(x), load_weights(p)(x))


def test_sgd_optimizer_learns_and_is_nesterov():
    from reram.models.train import make_optimizer

    x, y = _tiny_data()
    mc = ModelConfig(hidden=[32])
    tc = TrainConfig(epochs=3, batch_size=64, threads=1, optimizer="sgd", lr=0.1, weight_decay=5e-4)
    a = train_mlp(x, y, x[:200], y[:200], mc, tc, seed=5, progress=False)
    assert a.test_accuracy > 0.9
    opt = make_optimizer(a.model, tc)
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["nesterov"] and opt.defaults["momentum"] == 0.9
    assert opt.defaults["weight_decay"] == 5e-4
    assert isinstance(make_optimizer(a.model, TrainConfig()), torch.optim.AdamW)  # the default
