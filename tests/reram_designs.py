"""Small random designs for RTL tests and development: a dense network and a convolutional one (random weights,
compiled and programmed without training). Quick under a slow simulator."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch


def tiny_design(*sets: str, conv: bool = False, pool: str = "max", seed: int = 0, n_samples: int = 6,
                graph: bool = False, widths: tuple[int, int] = (12, 6), depth: int = 8):
    """(cm, chip, x_codes, cfg): a random n_in-12-6-5 MLP (hidden ``widths``), or a 1x8x8
    conv(3,k3,p1)-pool-conv(4,k3)-dense(5) net, or (``graph``) a 1x8x8 ResNet-``depth`` of widths 3/4/5 (identity and
    projection shortcuts, global average pooling; ``pool`` "max" or "avg" also pools its stem 2x2, so a pooled map
    feeds a residual add), compiled on small arrays (16 x 8 unless ``sets`` say otherwise) and programmed with 5 %
    variation."""
    from reram.chip.device import noise_free
    from reram.chip.program import program_chip
    from reram.config import load_config
    from reram.config.presets import resolve_device
    from reram.golden import pixel_codes
    from reram.models.nets import build_model
    from reram.pipeline.flows import FLOW_SPECS, compile_flow

    torch.manual_seed(seed)
    if graph:
        from reram.models.nets import resnet_layers

        layers = resnet_layers(depth, widths=(3, 4, 5))
        if pool in ("max", "avg"):
            layers.insert(3, {"op": "maxpool2d" if pool == "max" else "avgpool2d", "kernel": 2, "name": "stem"})
            del layers[2]["name"]
        spec = {"arch": "layers", "in_shape": [1, 8, 8], "classes": 5, "layers": layers}
    elif conv:
        pool_op = "maxpool2d" if pool == "max" else "avgpool2d"
        layers = [{"op": "conv2d", "out": 3, "kernel": 3, "padding": 1}, {"op": "batchnorm"}, {"op": "relu"},
                  {"op": pool_op, "kernel": 2}, {"op": "conv2d", "out": 4, "kernel": 3}, {"op": "relu"},
                  {"op": "flatten"}, {"op": "linear", "out": 5}]
        spec = {"arch": "layers", "in_shape": [1, 8, 8], "classes": 5, "layers": layers}
    else:
        layers = [{"op": "flatten"}, {"op": "linear", "out": widths[0]}, {"op": "batchnorm"}, {"op": "relu"},
                  {"op": "linear", "out": widths[1]}, {"op": "batchnorm"}, {"op": "relu"}, {"op": "linear", "out": 5}]
        spec = {"arch": "layers", "in_shape": [1, 1, 40], "classes": 5, "layers": layers}
    model = build_model(spec).eval()
    n_in = int(np.prod(spec["in_shape"]))
    cfg = load_config(None, ["calibration.finetune_iters=0", "array.rows=16", "array.cols=8", *sets])
    dev = replace(noise_free(resolve_device(cfg)), program_sigma=0.05, sigma_model="constant")
    rng = np.random.default_rng(seed)
    calib = rng.random((300, n_in), dtype=np.float32)
    cm = compile_flow(model, cfg, dev, FLOW_SPECS["ideal"], calib, progress=False)
    chip = program_chip(cm, dev, seed=3)
    x = pixel_codes(cm, rng.random((n_samples, n_in), dtype=np.float32))
    return cm, chip, x, cfg
