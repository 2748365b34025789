"""The shapes of the datapath, written once, as typed ops with a registry: the IR, the golden model, the analog
engine, the passes and the energy counts dispatch on ``OPS[layer.kind]`` and ``POOLS[layer.pool["kind"]]``.

numpy (golden model, passes) and torch (engine) versions share one definition of the order of rows and features:

* a layer's input is flat per sample: (N, in_size), C-major (``torch.flatten`` of (N, C, H, W));
* a conv layer's MVM rows are (N * P, C_in * k_h * k_w): sample-major, then output position (row-major over
  H_out, W_out); each row is the patch in C, k_h, k_w order (``torch.nn.functional.unfold``); zero padding is
  input code 0;
* its output rows (N * P, C_out) become maps (N, C_out, H_out, W_out), are pooled, and flattened for the next
  layer;
* max pooling takes the largest code; average pooling is ``floor(sum / k + 1/2)`` over the k-cell window (zero
  padding counted), computed exactly as ``(2 * sum + k) // (2 * k)`` on integers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

    from .ir import LayerIR


# --------------------------------------------------------------------------- pooling ops
class Pool:
    """A digital pooling op on output codes (N, C, H, W)."""

    kind = ""

    @staticmethod
    def out_hw(pool: dict[str, Any], h: int, w: int) -> tuple[int, int]:
        (kh, kw), (sh, sw), (ph, pw) = pool["kernel"], pool["stride"], pool["padding"]
        return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1

    def np(self, pool: dict[str, Any], maps: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def torch(self, pool: dict[str, Any], maps: torch.Tensor, round_fn=None) -> torch.Tensor:
        raise NotImplementedError

    @staticmethod
    def _windows(pool: dict[str, Any], maps: np.ndarray, fill: int) -> np.ndarray:
        (kh, kw), (sh, sw), (ph, pw) = pool["kernel"], pool["stride"], pool["padding"]
        if ph or pw:
            maps = np.pad(maps, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
        return np.lib.stride_tricks.sliding_window_view(maps, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]


class MaxPool(Pool):
    kind = "max"

    def np(self, pool, maps):
        return self._windows(pool, maps, -1).max(axis=(4, 5))  # padding below any code

    def torch(self, pool, maps, round_fn=None):
        import torch
        import torch.nn.functional as F

        (kh, kw), (sh, sw), (ph, pw) = pool["kernel"], pool["stride"], pool["padding"]
        if ph or pw or maps.numel() < 2**15 or (torch.is_grad_enabled() and maps.requires_grad):
            return F.max_pool2d(maps, (kh, kw), (sh, sw), (ph, pw))
        # inference on large maps without padding: the elementwise maximum of the kh x kw strided views of the window
        # offsets -- the same values, about ten times faster than max_pool2d on the CPU (small maps: fewer ops)
        ho, wo = (maps.shape[2] - kh) // sh + 1, (maps.shape[3] - kw) // sw + 1
        out = None
        for i in range(kh):
            for j in range(kw):
                v = maps[:, :, i : i + (ho - 1) * sh + 1 : sh, j : j + (wo - 1) * sw + 1 : sw]
                out = v.clone() if out is None else torch.maximum(out, v, out=out)
        return out


class AvgPool(Pool):
    kind = "avg"

    def np(self, pool, maps):
        (kh, kw) = pool["kernel"]
        k = kh * kw
        return (2 * self._windows(pool, maps, 0).sum(axis=(4, 5), dtype=np.int64) + k) // (2 * k)

    def torch(self, pool, maps, round_fn=None):
        import torch
        import torch.nn.functional as F

        mean = F.avg_pool2d(maps, tuple(pool["kernel"]), tuple(pool["stride"]), tuple(pool["padding"]),
                            count_include_pad=True)
        return round_fn(mean) if round_fn is not None else torch.floor(mean + 0.5)


POOLS: dict[str, Pool] = {p.kind: p for p in (MaxPool(), AvgPool())}


# --------------------------------------------------------------------------- crossbar layer ops
class LayerOp:
    """How one kind of crossbar layer turns flat inputs into MVM rows and output rows into flat features."""

    kind = ""

    def positions(self, layer: LayerIR) -> int:
        return 1

    def in_size(self, layer: LayerIR) -> int:
        return layer.in_features

    def out_maps(self, layer: LayerIR) -> tuple[int, ...]:
        return (layer.out_features,)

    def patches_np(self, layer: LayerIR, x: np.ndarray) -> np.ndarray:
        return x

    def patches_torch(self, layer: LayerIR, x: torch.Tensor) -> torch.Tensor:
        return x

    def finish_np(self, layer: LayerIR, rows: np.ndarray, n: int) -> np.ndarray:
        return rows

    def finish_torch(self, layer: LayerIR, rows: torch.Tensor, n: int, round_fn=None) -> torch.Tensor:
        return rows


class Dense(LayerOp):
    """One MVM per input sample."""

    kind = "dense"


class Conv2d(LayerOp):
    """im2col: one MVM of the layer's arrays per output position, on that position's patch."""

    kind = "conv2d"

    def positions(self, layer):
        h, w = layer.conv["out_hw"]
        return h * w

    def in_size(self, layer):
        c, h, w = layer.conv["in_shape"]
        return c * h * w

    def out_maps(self, layer):
        h, w = layer.conv["out_hw"]
        if layer.pool:
            h, w = Pool.out_hw(layer.pool, h, w)
        return (layer.out_features, h, w)

    def patches_np(self, layer, x):
        c = layer.conv
        (C, H, W), (kh, kw), (sh, sw), (ph, pw) = c["in_shape"], c["kernel"], c["stride"], c["padding"]
        Ho, Wo = c["out_hw"]
        maps = x.reshape(x.shape[0], C, H, W)
        if ph or pw:
            maps = np.pad(maps, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        win = np.lib.stride_tricks.sliding_window_view(maps, (kh, kw), axis=(2, 3))  # (N, C, H', W', kh, kw)
        win = win[:, :, : (Ho - 1) * sh + 1 : sh, : (Wo - 1) * sw + 1 : sw]  # (N, C, Ho, Wo, kh, kw)
        return np.ascontiguousarray(win.transpose(0, 2, 3, 1, 4, 5)).reshape(x.shape[0] * Ho * Wo, C * kh * kw)

    def patches_torch(self, layer, x):
        import torch.nn.functional as F

        c = layer.conv
        (C, H, W), kernel, stride, padding = c["in_shape"], c["kernel"], c["stride"], c["padding"]
        cols = F.unfold(x.reshape(x.shape[0], C, H, W), tuple(kernel), padding=tuple(padding), stride=tuple(stride))
        return cols.transpose(1, 2).reshape(-1, cols.shape[1])  # (N * P, C * kh * kw)

    def finish_np(self, layer, rows, n):
        Ho, Wo = layer.conv["out_hw"]
        maps = rows.reshape(n, Ho, Wo, layer.out_features).transpose(0, 3, 1, 2)
        if layer.pool is not None:
            maps = POOLS[layer.pool["kind"]].np(layer.pool, maps)
        return np.ascontiguousarray(maps).reshape(n, -1)

    def finish_torch(self, layer, rows, n, round_fn=None):
        Ho, Wo = layer.conv["out_hw"]
        maps = rows.reshape(n, Ho, Wo, layer.out_features).permute(0, 3, 1, 2)
        if layer.pool is not None:
            maps = POOLS[layer.pool["kind"]].torch(layer.pool, maps, round_fn)
        return maps.reshape(n, -1)


OPS: dict[str, LayerOp] = {op.kind: op for op in (Dense(), Conv2d())}


# --------------------------------------------------------------------------- dispatch helpers
def patches_np(layer: LayerIR, x: np.ndarray) -> np.ndarray:
    """Flat inputs (N, in_size) -> MVM rows (N * P, in_features); dense layers pass through."""
    return OPS[layer.kind].patches_np(layer, x)


def finish_np(layer: LayerIR, rows: np.ndarray, n: int) -> np.ndarray:
    """Output codes (N * P, out) -> flat features (N, out_size) for the next layer, pooled if the layer pools."""
    return OPS[layer.kind].finish_np(layer, rows, n)


def pool_np(pool: dict[str, Any], maps: np.ndarray) -> np.ndarray:
    return POOLS[pool["kind"]].np(pool, maps)


def patches_torch(layer: LayerIR, x: torch.Tensor) -> torch.Tensor:
    return OPS[layer.kind].patches_torch(layer, x)


def finish_torch(layer: LayerIR, rows: torch.Tensor, n: int, round_fn=None) -> torch.Tensor:
    """Output codes (N * P, out) -> flat features (N, out_size); ``round_fn`` rounds the average (default floor
    of x + 1/2; a straight-through version keeps gradients when fine-tuning)."""
    return OPS[layer.kind].finish_torch(layer, rows, n, round_fn)
