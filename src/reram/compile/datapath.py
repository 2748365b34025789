"""The shapes of the datapath, written once: im2col patches of a layer's input, the output rows back to feature
maps, and the digital pooling of output codes. numpy (golden model, passes) and torch (engine) versions share
one definition of the order of rows and features:

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

import numpy as np
import torch
import torch.nn.functional as F

from .ir import LayerIR


# --------------------------------------------------------------------------- numpy (integers)
def patches_np(layer: LayerIR, x: np.ndarray) -> np.ndarray:
    """Flat inputs (N, in_size) -> MVM rows (N * P, in_features); dense layers pass through."""
    if layer.conv is None:
        return x
    c = layer.conv
    (C, H, W), (kh, kw), (sh, sw), (ph, pw) = c["in_shape"], c["kernel"], c["stride"], c["padding"]
    Ho, Wo = c["out_hw"]
    maps = x.reshape(x.shape[0], C, H, W)
    if ph or pw:
        maps = np.pad(maps, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = np.lib.stride_tricks.sliding_window_view(maps, (kh, kw), axis=(2, 3))  # (N, C, H', W', kh, kw)
    win = win[:, :, : (Ho - 1) * sh + 1 : sh, : (Wo - 1) * sw + 1 : sw]  # (N, C, Ho, Wo, kh, kw)
    return np.ascontiguousarray(win.transpose(0, 2, 3, 1, 4, 5)).reshape(x.shape[0] * Ho * Wo, C * kh * kw)


def finish_np(layer: LayerIR, rows: np.ndarray, n: int) -> np.ndarray:
    """Output codes (N * P, out) -> flat features (N, out_size) for the next layer, pooled if the layer pools."""
    if layer.conv is None:
        return rows
    Ho, Wo = layer.conv["out_hw"]
    maps = rows.reshape(n, Ho, Wo, layer.out_features).transpose(0, 3, 1, 2)
    if layer.pool is not None:
        maps = pool_np(layer.pool, maps)
    return np.ascontiguousarray(maps).reshape(n, -1)


def pool_np(pool: dict, maps: np.ndarray) -> np.ndarray:
    (kh, kw), (sh, sw), (ph, pw) = pool["kernel"], pool["stride"], pool["padding"]
    fill = -1 if pool["kind"] == "max" else 0  # below any code (max) / zero padding counted (avg)
    if ph or pw:
        maps = np.pad(maps, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    win = np.lib.stride_tricks.sliding_window_view(maps, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    if pool["kind"] == "max":
        return win.max(axis=(4, 5))
    k = kh * kw
    return (2 * win.sum(axis=(4, 5), dtype=np.int64) + k) // (2 * k)


# --------------------------------------------------------------------------- torch (engine)
def patches_torch(layer: LayerIR, x: torch.Tensor) -> torch.Tensor:
    if layer.conv is None:
        return x
    c = layer.conv
    (C, H, W), kernel, stride, padding = c["in_shape"], c["kernel"], c["stride"], c["padding"]
    cols = F.unfold(x.reshape(x.shape[0], C, H, W), tuple(kernel), padding=tuple(padding), stride=tuple(stride))
    return cols.transpose(1, 2).reshape(-1, cols.shape[1])  # (N * P, C * kh * kw)


def finish_torch(layer: LayerIR, rows: torch.Tensor, n: int, round_fn=None) -> torch.Tensor:
    """Output codes (N * P, out) -> flat features (N, out_size); ``round_fn`` rounds the average (default floor
    of x + 1/2; a straight-through version keeps gradients when fine-tuning)."""
    if layer.conv is None:
        return rows
    Ho, Wo = layer.conv["out_hw"]
    maps = rows.reshape(n, Ho, Wo, layer.out_features).permute(0, 3, 1, 2)
    pool = layer.pool
    if pool is not None:
        kernel, stride, padding = tuple(pool["kernel"]), tuple(pool["stride"]), tuple(pool["padding"])
        if pool["kind"] == "max":
            maps = F.max_pool2d(maps, kernel, stride, padding)
        else:
            mean = F.avg_pool2d(maps, kernel, stride, padding, count_include_pad=True)
            maps = round_fn(mean) if round_fn is not None else torch.floor(mean + 0.5)
    return maps.reshape(n, -1)
