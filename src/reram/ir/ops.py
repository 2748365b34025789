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

from .rules import round_half_up, window_out_hw

if TYPE_CHECKING:
    import torch

    from .core import CompiledModel, LayerIR


def pair(v) -> list[int]:
    """A torch size argument (an int or a pair) as [h, w]."""
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


# --------------------------------------------------------------------------- pooling ops
class Pool:
    """A digital pooling op on output codes (N, C, H, W)."""

    kind = ""

    @staticmethod
    def out_hw(pool: dict[str, Any], h: int, w: int) -> tuple[int, int]:
        return window_out_hw((h, w), pool["kernel"], pool["stride"], pool["padding"])

    def float_torch(self, pool: dict[str, Any], maps: torch.Tensor) -> torch.Tensor:
        """The software (float) pooling the compiled op stands for."""
        raise NotImplementedError

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

    def float_torch(self, pool, maps):
        import torch.nn.functional as F

        return F.max_pool2d(maps, tuple(pool["kernel"]), tuple(pool["stride"]), tuple(pool["padding"]))

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

    def float_torch(self, pool, maps):
        import torch.nn.functional as F

        return F.avg_pool2d(maps, tuple(pool["kernel"]), tuple(pool["stride"]), tuple(pool["padding"]))

    def np(self, pool, maps):
        (kh, kw) = pool["kernel"]
        k = kh * kw
        return (2 * self._windows(pool, maps, 0).sum(axis=(4, 5), dtype=np.int64) + k) // (2 * k)  # half up

    def torch(self, pool, maps, round_fn=None):
        import torch.nn.functional as F

        mean = F.avg_pool2d(maps, tuple(pool["kernel"]), tuple(pool["stride"]), tuple(pool["padding"]),
                            count_include_pad=True)
        return round_fn(mean) if round_fn is not None else round_half_up(mean)


POOLS: dict[str, Pool] = {p.kind: p for p in (MaxPool(), AvgPool())}


# --------------------------------------------------------------------------- crossbar layer ops
class LayerOp:
    """One kind of crossbar layer, owning everything that differs between kinds: how flat inputs become MVM rows
    and output rows flat features (numpy and torch), its float forward, its IR geometry check, and its code in the
    RTL's parameter header."""

    kind = ""
    module = ""  # the torch.nn module it lowers
    rtl_code = 0  # L_KIND in the RTL's parameter header
    spatial = False  # outputs are feature maps (C, H, W): BatchNorm2d and pooling may follow; not the logits
    maps_path = False  # the engine may run a hidden layer on feature maps (map_kernels, conv_maps), without im2col

    def lower(self, m: Any, path: str, shape: tuple[int, ...] | None, index: int) -> LayerIR:
        """The IR layer of torch module ``m`` (at ``path``) on inputs of ``shape`` (None: flat, unknown);
        :class:`~reram.errors.CompileError` naming the module where the op cannot take it."""
        raise NotImplementedError

    def check(self, layer: LayerIR) -> str | None:
        """What is wrong with the layer's geometry, or None."""
        return None if layer.conv is None else f"a {self.kind} layer with a conv geometry"

    def float_torch(self, layer: LayerIR, h: torch.Tensor, skip: torch.Tensor | None = None,
                    pool: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """The folded float layer on flat inputs (N, in_size), plus the flat output ``skip`` of its residual add if it
        has one: (pre-activation as MVM rows (N * positions, out), before the add; flat output (N, out_size) after
        the add, ReLU and pooling -- before pooling with ``pool=False``)."""
        import torch

        z = h @ torch.from_numpy(layer.weight).t() + torch.from_numpy(layer.bias)
        y = z if skip is None else z + skip
        return z, torch.relu(y) if layer.relu else y

    def pre_maps(self, layer: LayerIR) -> tuple[int, ...]:
        """Output shape per sample before pooling: what a residual add adds to."""
        return (layer.out_features,)

    def skip_rows(self, layer: LayerIR, flat: Any) -> Any:
        """A residual add's operand, flat (N, out_size of its source) numpy or torch -> rows in the order of this
        layer's MVM outputs (N * positions, out)."""
        return flat

    def positions(self, layer: LayerIR) -> int:
        return 1

    def in_size(self, layer: LayerIR) -> int:
        return layer.in_features

    def in_maps(self, layer: LayerIR) -> tuple[int, ...]:
        """Input shape per sample: (C, H, W) for feature maps, (in_features,) for a flat input."""
        return (layer.in_features,)

    def tiled_input(self, layer: LayerIR, row: np.ndarray) -> np.ndarray:
        """A flat input (in_size,) that puts ``row`` (one value per MVM row) under as many of the layer's windows as
        it can: the row itself for one MVM per sample."""
        return np.asarray(row)

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
    module = "Linear"

    def lower(self, m, path, shape, index):
        from reram.errors import CompileError

        from .core import LayerIR

        if shape is not None and int(np.prod(shape)) != m.in_features:
            raise CompileError(f"{path}: Linear expects {m.in_features} inputs, the previous op gives "
                               f"{int(np.prod(shape))}")
        w = m.weight.detach().double().numpy()
        b = m.bias.detach().double().numpy() if m.bias is not None else np.zeros(m.out_features)
        return LayerIR(name=f"fc{index}", in_features=m.in_features, out_features=m.out_features, relu=False,
                       weight=w, bias=b, kind=self.kind)


class Conv2d(LayerOp):
    """im2col: one MVM of the layer's arrays per output position, on that position's patch."""

    kind = "conv2d"
    module = "Conv2d"
    rtl_code = 1
    spatial = True
    maps_path = True

    @staticmethod
    def in_map(layer) -> tuple[int, int, int]:
        return tuple(layer.conv["in_shape"])  # type: ignore[return-value]

    @staticmethod
    def out_hw(layer) -> tuple[int, int]:
        return tuple(layer.conv["out_hw"])  # type: ignore[return-value]

    def map_kernels(self, layer, g, dtype):
        """Per-tile conductances (S, T, R, out) -> one conv2d kernel per row tile: (first channel, kernel (S * out,
        channels, kh, kw)) over the input channels the tile's rows touch (rows are C-major: channel c holds rows
        ``c * kh * kw ..``), zero outside the tile's rows, so that the convolutions of all tiles cost about one
        convolution of the layer (a channel cut by a tile boundary is read by both tiles)."""
        import torch

        S, T, R, out = g.shape
        n_in = layer.in_features
        kk = layer.conv["kernel"][0] * layer.conv["kernel"][1]
        kernels = []
        for t in range(T):
            lo, hi = t * R, min(n_in, (t + 1) * R)
            c0, c1 = lo // kk, -(-hi // kk)
            k = torch.zeros(S, out, (c1 - c0) * kk, dtype=dtype, device=g.device)
            k[:, :, lo - c0 * kk : hi - c0 * kk] = g[:, t, : hi - lo].transpose(1, 2).to(dtype)
            kernels.append((c0, k.reshape(S * out, c1 - c0, *layer.conv["kernel"])))
        return kernels

    def conv_maps(self, layer, x, kernels):
        """Input maps (N, C, H, W) convolved (the layer's stride and padding) with a kernel (out, C, kh, kw), or with
        :meth:`map_kernels`'s per-tile kernels: (N, T * S * out, Ho, Wo), the tiles side by side."""
        import torch
        import torch.nn.functional as F

        stride, padding = tuple(layer.conv["stride"]), tuple(layer.conv["padding"])
        if not isinstance(kernels, list):
            return F.conv2d(x, kernels, stride=stride, padding=padding)
        parts = [F.conv2d(x[:, c0 : c0 + k.shape[1]], k, stride=stride, padding=padding) for c0, k in kernels]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)

    def lower(self, m, path, shape, index):
        from reram.errors import CompileError

        from .core import LayerIR

        if m.groups != 1 or pair(m.dilation) != [1, 1] or m.padding_mode != "zeros" or isinstance(m.padding, str):
            raise CompileError(f"{path}: Conv2d with groups=1, dilation=1 and numeric zero padding only")
        if shape is None or len(shape) != 3 or shape[0] != m.in_channels:
            raise CompileError(f"{path}: Conv2d needs an input of shape ({m.in_channels}, H, W), the previous "
                               f"op gives {shape}; declare images with nn.Unflatten or in_shape")
        (kh, kw), (sh, sw), (ph, pw) = pair(m.kernel_size), pair(m.stride), pair(m.padding)
        C, H, W = shape
        Ho, Wo = window_out_hw((H, W), (kh, kw), (sh, sw), (ph, pw))
        if Ho < 1 or Wo < 1:
            raise CompileError(f"{path}: the {kh}x{kw} kernel does not fit the {H}x{W} input")
        w = m.weight.detach().double().numpy().reshape(m.out_channels, -1)
        b = m.bias.detach().double().numpy() if m.bias is not None else np.zeros(m.out_channels)
        return LayerIR(name=f"conv{index}", in_features=C * kh * kw, out_features=m.out_channels, relu=False,
                       weight=w, bias=b, kind=self.kind,
                       conv={"in_shape": [C, H, W], "kernel": [kh, kw], "stride": [sh, sw], "padding": [ph, pw],
                             "out_hw": [Ho, Wo]})

    def check(self, layer):
        c = layer.conv
        if c is None:
            return "a conv2d layer needs its conv geometry"
        try:
            ok = all(len(c[k]) == n and all(isinstance(v, int) and v >= lo for v in c[k])
                     for k, n, lo in (("in_shape", 3, 1), ("kernel", 2, 1), ("stride", 2, 1), ("padding", 2, 0),
                                      ("out_hw", 2, 1)))
            ok = ok and c["in_shape"][0] * c["kernel"][0] * c["kernel"][1] == layer.in_features
            ok = ok and list(window_out_hw(c["in_shape"][1:], c["kernel"], c["stride"], c["padding"])) == \
                list(c["out_hw"])
        except (KeyError, TypeError):
            ok = False
        return None if ok else f"a malformed conv geometry {c!r}"

    def float_torch(self, layer, h, skip=None, pool=True):
        import torch
        import torch.nn.functional as F

        c, n = layer.conv, h.shape[0]
        w = torch.from_numpy(layer.weight).reshape(layer.out_features, -1, *c["kernel"])
        maps = F.conv2d(h.reshape(n, *c["in_shape"]), w, torch.from_numpy(layer.bias), stride=tuple(c["stride"]),
                        padding=tuple(c["padding"]))
        z = maps.permute(0, 2, 3, 1).reshape(-1, layer.out_features)
        if skip is not None:
            maps = maps + skip.reshape(maps.shape)
        if layer.relu:
            maps = torch.relu(maps)
        if pool and layer.pool is not None:
            maps = POOLS[layer.pool["kind"]].float_torch(layer.pool, maps)
        return z, maps.reshape(n, -1)

    def positions(self, layer):
        h, w = layer.conv["out_hw"]
        return h * w

    def pre_maps(self, layer):
        return (layer.out_features, *layer.conv["out_hw"])

    def skip_rows(self, layer, flat):
        Ho, Wo = layer.conv["out_hw"]
        maps = flat.reshape(flat.shape[0], layer.out_features, Ho, Wo)
        if isinstance(maps, np.ndarray):
            return np.ascontiguousarray(maps.transpose(0, 2, 3, 1)).reshape(-1, layer.out_features)
        return maps.permute(0, 2, 3, 1).reshape(-1, layer.out_features)

    def in_size(self, layer):
        c, h, w = layer.conv["in_shape"]
        return c * h * w

    def in_maps(self, layer):
        return tuple(layer.conv["in_shape"])

    def tiled_input(self, layer, row):
        """The patch (C, kh, kw order) repeated over the map with the kernel's period, aligned with the first window
        (the padding included): the windows whose top-left lies on that period each see the whole patch."""
        c = layer.conv
        (C, H, W), (kh, kw), (ph, pw) = c["in_shape"], c["kernel"], c["padding"]
        ys, xs = (np.arange(H) + ph) % kh, (np.arange(W) + pw) % kw
        idx = (np.arange(C)[:, None, None] * kh + ys[None, :, None]) * kw + xs[None, None, :]
        return np.asarray(row)[idx.ravel()]

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
def float_forward(cm: CompiledModel, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Software forward of the folded float model over the layer graph: per layer (flat input (N, in_size),
    pre-activation as MVM rows (N * positions, out) before any residual add, in the row order above)."""
    import torch

    h = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    out: list[tuple[np.ndarray, np.ndarray]] = []

    def step(i, h, skip):
        layer = cm.layers[i]
        z, nxt = OPS[layer.kind].float_torch(layer, h, skip)
        out.append((h.numpy(), z.numpy()))
        return nxt

    cm.walk(h.reshape(h.shape[0], -1), step)
    return out


def float_outputs(cm: CompiledModel, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Software forward of the folded float model: per layer (flat output before pooling, after its add and ReLU --
    what its output codes stand for; flat output after pooling -- what its readers get), the logits for the last."""
    import torch

    h = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    out: list[tuple[np.ndarray, np.ndarray]] = []

    def step(i, h, skip):
        layer = cm.layers[i]
        _, y = OPS[layer.kind].float_torch(layer, h, skip, pool=False)
        if layer.pool is not None:
            maps = y.reshape(-1, *OPS[layer.kind].pre_maps(layer))
            pooled = POOLS[layer.pool["kind"]].float_torch(layer.pool, maps).reshape(y.shape[0], -1)
        else:
            pooled = y
        out.append((y.numpy(), pooled.numpy()))
        return pooled

    cm.walk(h.reshape(h.shape[0], -1), step)
    return out


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
