"""The network, defined once: an MLP with optional BatchNorm and ReLU."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def build_mlp(in_features: int = 784, hidden: Sequence[int] = (256, 128), n_classes: int = 10,
              batchnorm: bool = True) -> nn.Sequential:
    """``Flatten -> [Linear -> BatchNorm1d -> ReLU] * len(hidden) -> Linear``."""
    layers: list[nn.Module] = [nn.Flatten()]
    prev = in_features
    for h in hidden:
        layers.append(nn.Linear(prev, h))
        if batchnorm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(nn.ReLU())
        prev = h
    layers.append(nn.Linear(prev, n_classes))
    return nn.Sequential(*layers)


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Logits for ``x`` (images in [0, 1], or uint8 pixel codes: scaled batch by batch) in eval mode, batched."""
    was_training = model.training
    model.eval()
    scale = (lambda b: b.to(torch.float32).div_(255.0)) if x.dtype == torch.uint8 else (lambda b: b)
    out = torch.cat([model(scale(x[i : i + batch_size])) for i in range(0, len(x), batch_size)])
    model.train(was_training)
    return out
