"""The analog crossbar engine: a batched, differentiable PyTorch model of a compiled network on a chip.

Per layer and row tile (R rows), input slice (1 for multi-level DACs, one per bit for bit-serial, one per phase
for integrating inputs) and weight slice, the column-pair currents
``S = sum_i x_i (G+_i - G-_i)`` (in integer-grid units of conductance times input code) are digitized by a
signed ADC, shift-added and summed over tiles into ``acc``; bias, ReLU and requantization then happen
digitally (see :mod:`reram.ir.core` for the integer contract that :mod:`reram.golden` implements bit-exactly).

Column tiling does not change the arithmetic: columns are independent. It matters for IR drop (positions in
the physical array), ADC counts and energy, which read the layout of :mod:`reram.ir.layout`.

Read noise, default form (``output``): a cell read as ``G (1 + s e)`` gives column ``j`` the mean
``sum_i x_i G_ij`` and variance ``s^2 sum_i x_i^2 G_ij^2``, so one extra matmul replaces one random draw
per cell per input. The ``cell`` form draws per cell and per input and is kept for validation. Integrating
inputs drive ``x`` unit pulses at full read voltage whose charge is summed; with independent noise per pulse the
variance is ``s^2 sum_i x_i G_ij^2`` (the noise of ``x`` reads averages, the signal adds).

Gradients: quantizers are straight-through. The ADC block's gradient is that of the linear MVM
``x @ dG * adc_gain`` (computed only when autograd needs it), so fine-tuning backpropagates through the
programmed (noisy) conductances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch
from torch import nn

from reram.chip.device import DeviceParams
from reram.chip.program import Chip, ChipLayer, program_chip, set_time
from reram.ir import rules
from reram.ir.core import ArchParams, CompiledModel, LayerIR
from reram.ir.ops import OPS, POOLS, finish_torch, patches_torch
from reram.ir.rules import input_slices as slice_inputs
from reram.ir.rules import ste_round

from .irdrop import effective_conductances

CHUNK_ELEMENTS = 2**21  # elements of one (tiles, rows, out) temporary of the inference path (8 MB in float32)
CHUNK_SAMPLES = 512  # samples per piece of a large inference batch (AnalogModel.forward)
SMALL_BATCH = 16  # up to this many rows, a partial row tile is zero-padded (its padded cells hold G_min: exact)


def add_output_noise(S: torch.Tensor, var: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
    """Exact output-referred read noise, in place: ``S + sqrt(var) * e``, one standard normal ``e`` per output, where
    ``var = x^2 @ G2s`` and ``G2s`` holds r^2 (G+^2 + G-^2) (times the square of any output scaling); ``var`` is
    overwritten. The draws come from the CPU generator ``gen``: the same numbers on every device."""
    if S.is_cuda:
        eps = torch.randn(S.shape, generator=gen, dtype=S.dtype).to(S.device)
    else:
        eps = torch.randn(S.shape, generator=gen, dtype=S.dtype)
    return S.addcmul_(var.sqrt_(), eps)


def requantize(acc: torch.Tensor, m: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``acc * m + b`` in the dtype of ``m`` and ``b`` (broadcast over ``acc``), as a new tensor: float64, or float32
    where :func:`reram.ir.rules.requant_exact_float32` holds. Every value is exact either way (integer ``acc``,
    dyadic ``m`` and ``b``: :func:`reram.ir.rules.requant_scaled`), so the result does not depend on the order of
    the operations. ``acc`` is converted first and the product and sum are taken in place: ``torch.addcmul`` of a
    float32 ``acc`` with broadcast float64 operands took 5x as long (34 against 6 ms on a (256, 16, 28, 28) map, one
    AVX-512 thread)."""
    return acc.to(m.dtype, copy=True).mul_(m).add_(b)


def tiled_matmul(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Every row tile's product: rows ``x`` (N, in) times tiles ``w`` (T, R, C) -> (T, N, C), tile ``t`` reading rows
    ``t R .. t R + R`` of ``x``; a last partial tile reads only the rows there are (no padding). ``x`` may also come
    as whole tiles already, (T, N, R)."""
    if x.dim() == 3:
        return torch.bmm(x, w)
    N, n_in = x.shape
    T, R, C = w.shape
    if n_in == T * R:  # whole tiles: one (batched) product
        return torch.mm(x, w[0]).unsqueeze(0) if T == 1 else torch.bmm(x.view(N, T, R).transpose(0, 1), w)
    full = n_in // R
    out = torch.empty(T, N, C, dtype=w.dtype, device=w.device)
    if full == 1:
        torch.mm(x[:, :R], w[0], out=out[0])
    elif full:
        torch.bmm(x[:, : full * R].reshape(N, full, R).transpose(0, 1), w[:full], out=out[:full])
    torch.mm(x[:, full * R :], w[full, : n_in - full * R], out=out[full])
    return out


def read_noise_cell(x: torch.Tensor, gp: torch.Tensor, gn: torch.Tensor, r: float,
                    gen: torch.Generator | None, chunk: int = 64, x_noise: torch.Tensor | None = None) -> torch.Tensor:
    """Column sums with an independent draw per cell and per input: ``sum_i x_i (G+ (1+r e) - G- (1+r e'))``.

    ``x`` (N, rows), ``gp``/``gn`` (rows, out). ``x_noise``: the noise amplitude per input where it is not ``x``
    (``sqrt(x)`` for ``x`` integrated unit pulses with independent noise). Slow; kept to validate the
    output-referred form.
    """
    x_noise = x if x_noise is None else x_noise
    out = x @ (gp - gn)
    for i in range(0, x.shape[0], chunk):
        xc = x_noise[i : i + chunk]
        shp = (xc.shape[0], *gp.shape)
        ep = torch.randn(shp, generator=gen, dtype=x.dtype).to(x.device)
        en = torch.randn(shp, generator=gen, dtype=x.dtype).to(x.device)
        out[i : i + chunk] += r * torch.einsum("nr,nro->no", xc, gp[None] * ep - gn[None] * en)
    return out


@dataclass
class LayerStats:
    """Per-layer ADC statistics accumulated over forward passes."""

    conversions: int = 0
    clipped: int = 0
    sample: list[np.ndarray] = field(default_factory=list)  # pre-ADC values in LSB units (subsample)
    sample_size: int = 0

    @property
    def saturation(self) -> float:
        return self.clipped / self.conversions if self.conversions else 0.0


class AnalogLayer(nn.Module):
    """One compiled layer on a programmed chip."""

    def __init__(self, ir: LayerIR, arch: ArchParams, dev: DeviceParams, adc_lo: int, adc_hi: int,
                 is_last: bool, trainable: bool = False, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.ir, self.arch, self.dev = ir, arch, dev
        self.adc_lo, self.adc_hi = adc_lo, adc_hi
        self.is_last = is_last
        self.dtype = dtype
        self.T = ir.row_tiles(arch)
        self.pad = self.T * arch.tile_rows - ir.in_features
        self.trainable = trainable
        w = torch.tensor(ir.weight, dtype=dtype)
        if trainable:
            self.weight = nn.Parameter(w)
            self.offset = nn.Parameter(torch.tensor(ir.offset, dtype=dtype))
            self.gain = nn.Parameter(torch.tensor(ir.gain, dtype=dtype))
        else:
            self.register_buffer("weight", w)
        self.stats = LayerStats()
        self.collect = False
        self.chip_layer: ChipLayer | None = None
        self._chip_state: tuple | None = None  # the conductance arrays and ADC multipliers loaded last (set_chip)
        self.sample_limit = 20000
        self.device_ = torch.device("cpu")
        self._sweights: list[list[float]] | None = None  # _slice_weights
        self.shared: dict = {}  # state shared by the layers of one model: fine-tuning's pool of programmed cells
        self._pad_bufs: dict[tuple, torch.Tensor] = {}  # small batches: inputs with zero rows to whole tiles

    # ------------------------------------------------------------------ chip state
    def set_chip(self, cl: ChipLayer) -> None:
        """Load a programmed state: effective conductances (IR drop folded in) as (S, T, R, out). Reloading the same
        conductance arrays and ADC multipliers (a new calibration of the activation unit only) keeps the derived
        operands."""
        state = (cl.g_pos, cl.g_neg, tuple(int(m) for m in cl.adc_mult))  # what the derived operands depend on
        old = self._chip_state
        same = old is not None and state[0] is old[0] and state[1] is old[1] and state[2] == old[2]
        self.chip_layer = cl
        self._chip_state = state
        if not same:
            gp = torch.tensor(cl.g_pos, dtype=torch.float64)
            gn = torch.tensor(cl.g_neg, dtype=torch.float64)
            if self.dev.ir_drop != "off" and self.dev.wire_resistance > 0:
                gp, gn = self._ir_effective(gp, gn)
            self._set_g(gp, gn)
            self._scaled_cache: tuple[torch.Tensor, torch.Tensor] | None = None
            self._packed_cache: tuple[torch.Tensor, torch.Tensor] | None = None
            self._conv_cache: tuple[torch.Tensor, torch.Tensor] | None = None
        self.adc_mult_t = torch.tensor(cl.adc_mult, dtype=torch.float64)
        M = cl.req_mult if cl.req_mult is not None else self.ir.req_mult
        B = cl.req_bias if cl.req_bias is not None else self.ir.req_bias
        self.req_mult = torch.tensor(M, dtype=torch.float64)
        self.req_bias = torch.tensor(B, dtype=torch.float64)
        m, b = rules.requant_scaled(self.req_mult, self.req_bias, self.ir.req_shift, self.is_last)
        # a hidden layer's activation unit runs in float32 where that is exact for every accumulator value the
        # layer's ADCs can produce (a third of float64's memory traffic on a feature map), else in float64
        acc_max = rules.acc_abs_max(self.arch, self.T, self.adc_lo, self.adc_hi)
        exact32 = not self.is_last and rules.requant_exact_float32(
            acc_max, M, B, self.ir.req_shift, self.ir.add_mult, self.arch.x_max)
        req_dtype = torch.float32 if exact32 else torch.float64
        self._req_scaled = (m.to(self.device_, req_dtype), b.to(self.device_, req_dtype))
        self._add_scaled = rules.add_scaled(self.ir.add_mult, self.ir.req_shift)
        self._req_monotone = bool((self.req_mult >= 0).all())  # floor(acc M' + B') is non-decreasing in acc

    def _ir_effective(self, gp: torch.Tensor, gn: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What stands for both conductances under IR drop (:func:`effective_conductances`: the exact transfer
        matrices, or the first-order factors), every physical array of the layer in the physical layout of
        :mod:`reram.ir.layout` (weight slices side by side in the column tiles, G+ and G- interleaved, a partial row
        tile next to the sense amplifiers); empty cells carry no current."""
        layout = self.ir.layout(self.arch)
        arrays = layout.to_arrays(gp.numpy(), gn.numpy())  # (T, U, R, 2 pairs)
        eff = effective_conductances(arrays * self.arch.g_lsb, self.dev.wire_resistance, self.dev.ir_drop)
        fp, fn = layout.from_arrays(eff / self.arch.g_lsb)
        return torch.from_numpy(np.ascontiguousarray(fp)), torch.from_numpy(np.ascontiguousarray(fn))

    def _tile(self, g: torch.Tensor) -> torch.Tensor:
        """(S, in, out) -> (S, T, R, out), padding rows with G_min (unused cells, zero input)."""
        if self.pad:
            g = torch.cat([g, torch.full((g.shape[0], self.pad, g.shape[2]), float(self.arch.gmin_code),
                                         dtype=g.dtype)], dim=1)
        return g.reshape(g.shape[0], self.T, self.arch.tile_rows, g.shape[2])

    def _set_g(self, gp: torch.Tensor, gn: torch.Tensor) -> None:
        gp_t, gn_t = self._tile(gp), self._tile(gn)
        dev = self.device_
        self.dG = (gp_t - gn_t).to(dev, self.dtype)
        self.G2 = (gp_t.square() + gn_t.square()).to(dev, self.dtype)  # for output-referred read noise
        self.Gp, self.Gn = gp_t.to(dev, self.dtype), gn_t.to(dev, self.dtype)

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor, noise_gen: torch.Generator | None,
                skip: torch.Tensor | None = None) -> torch.Tensor:
        """``x``: flat input codes (N, in_size), integer-valued floats; ``skip``: the flat output codes of the layer's
        residual add source (None: no add). Returns the next layer's flat codes (pooled for a conv layer that pools)
        or the logits."""
        op = OPS[self.ir.kind]
        if op.maps_path and not self.is_last and self._batched_ok(x):
            # inference of a hidden convolution: feature maps throughout (the ADC, the activation unit and the
            # pooling are elementwise or local), no im2col rows
            acc, pool = self._acc_conv(x, noise_gen), self.ir.pool
            if pool is not None and pool["kind"] == "max" and self._req_monotone and skip is None:
                # the activation unit is non-decreasing in acc (every channel's multiplier >= 0): max-pooling acc
                # first gives the same codes, and the unit then converts a quarter of the values
                return self._digital_maps(POOLS["max"].torch(pool, acc)).reshape(x.shape[0], -1)
            y = self._digital_maps(acc, None if skip is None else skip.reshape(acc.shape))
            if pool is not None:
                y = POOLS[pool["kind"]].torch(pool, y, ste_round)
            return y.reshape(x.shape[0], -1)
        if op.maps_path and not self.is_last and self.trainable and self.training and not self._cell_noise:
            acc = self._acc_conv_train(x, noise_gen)  # fine-tuning a convolution: on feature maps too
        else:
            acc = self.forward_acc(self.patches(x), noise_gen)
        y = self.digital(acc, None if skip is None else op.skip_rows(self.ir, skip))
        return y if self.is_last else self.finish(y, x.shape[0])

    @property
    def _cell_noise(self) -> bool:
        return self.dev.read_noise > 0 and self.dev.read_noise_mode == "cell"

    def _acc_conv_train(self, x: torch.Tensor, noise_gen: torch.Generator | None) -> torch.Tensor:
        """Fine-tuning's ``acc`` of a convolution as MVM rows (N * positions, out), computed on feature maps: fresh
        conductances each call (:meth:`_train_conductances`) as :meth:`_acc_conv`'s kernels, and the straight-through
        gradient of the ADC block as one differentiable conv2d of the linear MVM (as :meth:`forward_acc`'s rows)."""
        op, ir = OPS[self.ir.kind], self.ir
        dG, G2, lin_dG = self._train_conductances(noise_gen)
        with torch.no_grad():
            dGs, G2s = self._scaled(dG, G2)
            kernels = (op.map_kernels(ir, dGs, self.dtype), op.map_kernels(ir, G2s, self.dtype))
            acc = self._acc_conv(x.detach(), noise_gen, kernels)
        (C, H, W), out = op.in_map(ir), ir.out_features
        k_lin = lin_dG.reshape(-1, out)[: ir.in_features].t().reshape(out, C, *ir.conv["kernel"])
        lin = op.conv_maps(ir, x.reshape(x.shape[0], C, H, W), k_lin) * self._lsb_mult.mean()
        acc = acc + lin - lin.detach()
        return acc.permute(0, 2, 3, 1).reshape(-1, out)

    def _batched_ok(self, x: torch.Tensor) -> bool:
        """The batched inference path applies: no gradients wanted, the output-referred read-noise form."""
        if self._cell_noise or (self.trainable and self.training):  # fine-tuning draws fresh conductances per call
            return False
        return not (torch.is_grad_enabled() and (x.requires_grad or self.trainable))

    @torch.no_grad()
    def _acc_conv(self, x: torch.Tensor, noise_gen: torch.Generator | None,
                  kernels: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """A convolution's ``acc`` as feature maps (N, out, Ho, Wo), without im2col: each row tile's conductances
        become a conv2d kernel over the input channels its rows touch (zero outside the tile's rows,
        :meth:`~reram.ir.ops.Conv2d.map_kernels`), every weight slice in it, the read-noise variance likewise on x^2
        (x for integrating inputs). The ADC and the tile and slice sums are those of
        :meth:`_acc_tiles_batched`, on the maps, tile by tile: one tile's (N, S * out, Ho, Wo) sums at a time, not a
        temporary of every tile (ResNet-20 at batch 256, one thread, AVX-512: 1.15 -> 1.01 s per forward with the
        command line's allocator, ``benchmarks/analog_speed.py --allocator tuned``).
        ``kernels``: other than the chip's (fine-tuning's fresh draws)."""
        arch, op = self.arch, OPS[self.ir.kind]
        if kernels is None and self._conv_cache is None:
            dGs, G2s = self._inference_operands()
            self._conv_cache = (op.map_kernels(self.ir, dGs, self.dtype), op.map_kernels(self.ir, G2s, self.dtype))
        (C, H, W), (Ho, Wo) = op.in_map(self.ir), op.out_hw(self.ir)
        S, out = arch.slices, self.ir.out_features
        n = x.shape[0]
        chunk = max(1, CHUNK_ELEMENTS // (S * Ho * Wo * out))
        if n > chunk:
            return torch.cat([self._acc_conv(x[i : i + chunk], noise_gen, kernels) for i in range(0, n, chunk)])
        r = self.dev.read_noise
        integrating = arch.dac_mode == "integrating"
        conv = partial(op.conv_maps, self.ir)
        k_sig, k_var = kernels if kernels is not None else self._conv_cache
        acc: torch.Tensor | None = None
        for b, xs in enumerate(slice_inputs(x.reshape(n, C, H, W), arch, self.dtype)):
            xv = (xs.abs() if integrating else xs.square()) if r > 0 else None
            # tile by tile: each tile's column sums (the weight slices side by side) get their noise and their ADC
            # and are added into acc, so no (N, T, S * out, Ho, Wo) temporary of every tile is built
            for (c0, k), (_, kv) in zip(k_sig, k_var, strict=True):
                v = conv(xs[:, c0 : c0 + k.shape[1]], k).unsqueeze(1)
                var = None if xv is None else conv(xv[:, c0 : c0 + kv.shape[1]], kv).unsqueeze(1)
                acc = self._adc_accumulate(v, var, b, acc, noise_gen, tile_dim=1)
        assert acc is not None
        return acc

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """Flat inputs -> MVM rows: (N * positions, in_features) im2col patches of a conv layer."""
        return patches_torch(self.ir, x)

    def finish(self, y: torch.Tensor, n: int) -> torch.Tensor:
        """Output codes (N * positions, out) -> flat features (N, out_size), pooled if the layer pools."""
        return finish_torch(self.ir, y, n, round_fn=ste_round)

    def forward_acc(self, x: torch.Tensor, noise_gen: torch.Generator | None) -> torch.Tensor:
        """The accumulated ADC codes ``acc`` (N, out) before the activation unit. With gradients wanted, the ADC
        block passes the gradient of the linear MVM (straight-through); fine-tuning draws fresh conductances per
        call."""
        training = self.trainable and self.training
        if training:
            dG, G2, lin_dG = self._train_conductances(noise_gen)
            dGs, G2s = self._scaled(dG, G2)
        else:
            dG, lin_dG = self.dG, None
        grad = torch.is_grad_enabled() and (x.requires_grad or self.trainable)
        r = self.dev.read_noise
        if not (r > 0 and self.dev.read_noise_mode == "cell"):
            ops = self._pack(dGs, G2s) if training else None
            if not torch.is_grad_enabled():  # inference (no_grad already): no context switch, no detach
                return self._acc_tiles_batched(x, noise_gen, ops)
            with torch.no_grad():
                acc = self._acc_tiles_batched(x.detach(), noise_gen, ops)
            if not grad:
                return acc
        else:  # the cell form of read noise: a draw per cell and input (slow; it validates the output form)
            acc = self._acc_cells(x.detach(), noise_gen)
        # straight-through gradient of the ADC block: the linear MVM in ADC-code units
        g_lin = lin_dG if lin_dG is not None else self._combined(dG)
        xp = torch.nn.functional.pad(x, (0, self.pad)) if self.pad else x
        lin = (xp @ g_lin.reshape(-1, g_lin.shape[-1])) * self._lsb_mult.mean()
        return acc + lin - lin.detach()

    @torch.no_grad()
    def _acc_cells(self, x: torch.Tensor, noise_gen: torch.Generator | None) -> torch.Tensor:
        """``acc`` with the cell form of read noise (:func:`read_noise_cell`), tile by tile."""
        arch = self.arch
        N = x.shape[0]
        integrating = arch.dac_mode == "integrating"
        weights = self._slice_weights()
        acc = torch.zeros(N, self.ir.out_features, dtype=self.dtype, device=x.device)
        slices = slice_inputs(x, arch, self.dtype)
        for b, t, rs, s in rules.mvm_blocks(self.ir, arch):
            xs, nr = slices[b][:, rs], rs.stop - rs.start
            # integrated unit pulses with independent noise per pulse: amplitude sqrt(x)
            v = read_noise_cell(xs, self.Gp[s, t, :nr], self.Gn[s, t, :nr], self.dev.read_noise, noise_gen,
                                x_noise=xs.abs().sqrt() if integrating else None)
            v.mul_(self._lsb_mult[t])
            scale, lo, hi = self._slice_adc(b)
            if scale != 1.0:
                v.mul_(scale)
            if self.collect:
                self._record(v, lo, hi)
            acc.add_(rules.adc_convert_lsb_(v, lo, hi), alpha=weights[b][s])
        return acc

    def _slice_weights(self) -> list[list[float]]:
        """The shift-add weight of input slice b and weight slice s (:func:`reram.ir.rules.shift_add_weights`)."""
        if self._sweights is None:
            self._sweights = [[float(w) for w in row] for row in rules.shift_add_weights(self.arch)]
        return self._sweights

    def _inference_operands(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The programmed conductances scaled to ADC LSBs and the read-noise variance weights, (S, T, R, out), built
        once per chip state."""
        if self._scaled_cache is None:
            self._scaled_cache = self._scaled(self.dG, self.G2)
        return self._scaled_cache

    def _packed_operands(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The operands of the batched inference path (:meth:`_pack`), built once per chip state."""
        if self._packed_cache is None:
            self._packed_cache = self._pack(*self._inference_operands())
        return self._packed_cache

    @staticmethod
    def _pack(dGs: torch.Tensor, G2s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(S, T, R, out) -> (T, R, S * out), the weight slices side by side (slice-major) so that one matmul per row
        tile reads every column pair of the layer, and the variance weights likewise. Both products run in the
        engine's dtype: a bfloat16 variance product was tried and is 60x slower than float32 on CPUs without bf16
        units (AVX2), and it would make the noise depend on the CPU."""
        S, T, R, out = dGs.shape
        w = dGs.permute(1, 2, 0, 3).reshape(T, R, S * out).contiguous()
        v = G2s.permute(1, 2, 0, 3).reshape(T, R, S * out).contiguous()
        return w, v

    def _acc_tiles_batched(self, x: torch.Tensor, noise_gen: torch.Generator | None,
                           ops: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """The inference path of :meth:`forward_acc` (call it without gradients): every row tile and weight slice of
        an input slice in one batched matmul (T, N, R) @ (T, R, S * out) (:func:`tiled_matmul`), one read-noise draw,
        the ADC in place, the tiles and slices summed once. Same arithmetic as the per-tile loop: ADC codes are
        integers, so the order of the sums does not change them. ``ops``: packed operands (:meth:`_pack`) other than
        the chip's (fine-tuning's fresh draws)."""
        w, var_w = ops if ops is not None else self._packed_operands()
        chunk = max(256, CHUNK_ELEMENTS // (self.T * w.shape[-1]))
        if x.shape[0] > chunk:  # cache-sized pieces: the (T, rows, S * out) temporaries of a large batch spill
            return torch.cat([self._acc_tiles_batched(x[i : i + chunk], noise_gen, ops)
                              for i in range(0, x.shape[0], chunk)])
        arch = self.arch
        r = self.dev.read_noise
        integrating = arch.dac_mode == "integrating"
        extra = self.T * w.shape[1] - x.shape[1]
        if extra and x.shape[0] <= SMALL_BATCH:  # a few rows: zero-padded to whole tiles, one product (fewer ops)
            key = (x.shape[0], x.dtype, x.device)
            if key not in self._pad_bufs:  # its padding columns stay zero: only the leading ones are written
                self._pad_bufs[key] = x.new_zeros(x.shape[0], x.shape[1] + extra)
            buf = self._pad_bufs[key]
            buf[:, : x.shape[1]].copy_(x)
            x, extra = buf, 0
        acc: torch.Tensor | None = None
        for b, xs in enumerate(slice_inputs(x, arch, self.dtype)):
            if not extra and self.T > 1:  # whole tiles: one (T, N, R) view read by both products
                xs = xs.view(xs.shape[0], self.T, -1).transpose(0, 1)
            var = None
            if r > 0:  # read-noise variance weight per row: x^2 for one read at amplitude x; for x integrated unit
                # pulses (independent noise per pulse) the pulse count x
                var = tiled_matmul(xs.abs() if integrating else xs.square(), var_w)
            acc = self._adc_accumulate(tiled_matmul(xs, w), var, b, acc, noise_gen)
        assert acc is not None
        return acc

    def _adc_accumulate(self, v: torch.Tensor, var: torch.Tensor | None, b: int, acc: torch.Tensor | None,
                        noise_gen: torch.Generator | None, tile_dim: int = 0) -> torch.Tensor:
        """Pre-ADC values of input slice ``b`` in LSB units -- (T, rows, S * out), or feature maps (N, T, S * out,
        Ho, Wo) with ``tile_dim=1`` -- with their read-noise variance (or None): one noise draw, the ADC in place
        (counted when collecting statistics), the tiles summed, and each weight slice shift-added into ``acc``
        ((rows, out) or (N, out, Ho, Wo))."""
        if var is not None:
            add_output_noise(v, var, noise_gen)
        scale, lo, hi = self._slice_adc(b)
        if scale != 1.0:  # a phase converted with fewer ADC bits: the same full scale, a coarser step
            v.mul_(scale)
        if self.collect:
            self._record(v, lo, hi)
        v = rules.adc_convert_lsb_(v, lo, hi)
        summed = v.select(tile_dim, 0) if v.shape[tile_dim] == 1 else v.sum(tile_dim)  # slices along dim 1
        weights = self._slice_weights()[b]
        if len(weights) == 1 and acc is None:  # one weight slice, the first input slice
            return summed if weights[0] == 1 else summed.mul_(weights[0])
        out = self.ir.out_features
        for s, w in enumerate(weights):
            part = summed[:, s * out : (s + 1) * out]
            if acc is None:
                acc = part if w == 1 else part.mul(w)
            else:
                acc.add_(part, alpha=w)
        assert acc is not None
        return acc

    @property
    def _lsb_mult(self) -> torch.Tensor:
        """ADC gain per row tile: codes per pre-ADC unit (adc_mult / 2**adc_shift)."""
        return rules.adc_gain(self.adc_mult_t.to(self.device_, self.dtype), self.ir.adc_shift)

    def _scaled(self, dG: torch.Tensor, G2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Fold the ADC gain (and the read-noise variance) into the conductances: sums come in LSB units."""
        m = self._lsb_mult[None, :, None, None]
        r = self.dev.read_noise
        return (dG * m).contiguous(), (G2 * (m * r) ** 2).contiguous()

    def _combined(self, dG: torch.Tensor) -> torch.Tensor:
        """Sum of weight slices in acc units: (T, R, out)."""
        w = torch.tensor([float(self.arch.levels**s) for s in range(dG.shape[0])], dtype=dG.dtype)
        return (dG * w[:, None, None, None].to(dG.device)).sum(0)

    def _slice_adc(self, b: int) -> tuple[float, int, int]:
        """Input slice ``b``'s ADC: the factor to its step (``2^-drop``) and its code range."""
        if self.arch.uniform_slices:
            return 1.0, self.adc_lo, self.adc_hi
        lo, hi = rules.slice_adc_limits(self.arch, b, self.adc_lo < 0)
        return 2.0 ** -rules.slice_adc_drop(self.arch, b), lo, hi

    def _record(self, v: torch.Tensor, lo: int, hi: int) -> None:
        st = self.stats
        st.conversions += v.numel()
        st.clipped += int(((v < lo - 0.5) | (v > hi + 0.5)).sum())
        if st.sample_size < self.sample_limit:
            flat = v.detach().flatten()
            step = max(1, flat.numel() // 4000)
            take = flat[::step][: self.sample_limit - st.sample_size].cpu().numpy().astype(np.float32)
            st.sample.append(take)
            st.sample_size += take.size

    def _digital_maps(self, acc: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        """The activation unit of a hidden layer at inference on feature maps (N, out, Ho, Wo): as :meth:`digital`,
        the constants broadcast over the channels; ``skip``: the residual add's operand as maps of the same shape."""
        m, b = self._req_scaled
        y = requantize(acc, m.view(-1, 1, 1), b.view(-1, 1, 1))
        if skip is not None:
            y.add_(skip.to(y.dtype), alpha=self._add_scaled)
        return self._floor_clamp(y)

    def _floor_clamp(self, y: torch.Tensor) -> torch.Tensor:
        """Output codes of a hidden layer from its requantized values (:func:`requantize`, in place): floor, clamp to
        the code range, in the engine's dtype."""
        lo = rules.code_low(self.arch.x_max, self.ir.out_signed)
        return y.floor_().clamp_(lo, self.arch.x_max).to(self.dtype)  # B' holds the 1/2 (rules.requant_scaled)

    def digital(self, acc: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        """The activation unit: ``acc`` -> output codes of a hidden layer, or the logits (float). ``skip``: the
        residual add's operand as rows like ``acc`` (None: no add)."""
        sh = 2.0**self.ir.req_shift
        if self.trainable and self.training:
            M, B = rules.requant_ints(self.ir, self.gain, self.offset)  # straight-through, clipped as on the chip
        else:
            if not (torch.is_grad_enabled() and acc.requires_grad):
                # inference: one float64 result
                m, b = self._req_scaled
                y = requantize(acc, m, b)
                if skip is not None:
                    y.add_(skip.to(y.dtype), alpha=self._add_scaled)
                if self.is_last:
                    return y.mul_(self.ir.next_scale).to(self.dtype)
                return self._floor_clamp(y)
            M = self.req_mult.to(acc.device)
            B = self.req_bias.to(acc.device)
        if acc.dtype == torch.float64 or not (self.trainable and self.training):
            acc = acc.to(torch.float64)
            M, B = M.to(torch.float64), B.to(torch.float64)
        y = (acc * M + B) / sh
        if skip is not None:
            y = y + skip.to(y.dtype) * self._add_scaled
        if self.is_last:
            return (y * self.ir.next_scale).to(self.dtype)
        return ste_round(y).clamp(rules.code_low(self.arch.x_max, self.ir.out_signed), self.arch.x_max).to(self.dtype)

    # ------------------------------------------------------------------ fine-tuning
    def _train_conductances(self, gen):
        """Conductances from the trainable float weights, with fresh programming error each call: every cell an
        independent draw of a cell programmed to its level (program-and-verify and stuck-at faults included)."""
        arch, dev = self.arch, self.dev
        qmax = arch.q_max
        c = torch.as_tensor(self.ir.col_scales, dtype=self.weight.dtype)[:, None]
        qf = (self.weight * c / self.ir.w_max * qmax).clamp(-qmax, qmax)
        q = ste_round(qf)  # (out, in) differentiable
        step = float(2**arch.grid_sub_bits)
        from reram.chip.program import programmed_pool, sample_programmed

        with torch.no_grad():
            g_gen = gen if gen is not None else torch.Generator().manual_seed(0)
            pool = self.shared.get("program_pool")
            if pool is None:  # programmed cells per weight code, drawn once per fine-tuning model (every layer's)
                pool = self.shared["program_pool"] = programmed_pool(arch, dev, g_gen)
            gp, gn = sample_programmed(pool, q.detach().t(), arch, dev, g_gen)
            gp_t, gn_t = self._tile(gp), self._tile(gn)
            dG = (gp_t - gn_t).to(self.dtype)
            G2 = (gp_t.square() + gn_t.square()).to(self.dtype)
            delta = self._combined(dG) - self._tile((q.detach().t() * step)[None].to(self.dtype))[0]
        ideal = self._tile((q.t() * step)[None].to(torch.float64)).to(self.dtype)[0]
        lin_dG = ideal + delta  # (T, R, out): differentiable in the weights, noisy like the chip
        return dG, G2, lin_dG


class AnalogModel(nn.Module):
    """A compiled network on a programmed ReRAM chip, as a torch module taking images in [0, 1]."""

    def __init__(self, compiled: CompiledModel, dev: DeviceParams, seed: int = 0, trainable: bool = False,
                 dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu", chip: Chip | None = None):
        super().__init__()
        self.compiled, self.dev, self.dtype = compiled, dev, dtype
        n = len(compiled.layers)
        self.layers = nn.ModuleList(
            AnalogLayer(layer, compiled.arch, dev, *compiled.adc_limits(layer), is_last=(i == n - 1),
                        trainable=trainable, dtype=dtype)
            for i, layer in enumerate(compiled.layers)
        )
        shared: dict = {}
        for layer in self.layers:
            layer.shared = shared
        self.noise_gen = torch.Generator().manual_seed(0)
        self.chip: Chip | None = None
        self.device_ = torch.device(device)
        for layer in self.layers:
            layer.device_ = self.device_
        self.to(self.device_)
        if chip is None:
            self.program(seed)
        else:  # an already programmed chip (its own seed drives the read noise)
            self.noise_gen = torch.Generator().manual_seed(int(chip.seed) + 1_000_003)
            self.set_chip(chip)

    def program(self, seed: int) -> AnalogModel:
        """Program a new chip (its own generator seeded by ``seed``); resets read noise to ``seed`` too."""
        self.chip = program_chip(self.compiled, self.dev, seed)
        self.noise_gen = torch.Generator().manual_seed(int(seed) + 1_000_003)
        self._load_chip()
        return self

    def set_chip(self, chip: Chip) -> AnalogModel:
        self.chip = chip
        self._load_chip()
        return self

    def drift(self, t_seconds: float) -> AnalogModel:
        """Let the programmed chip drift to ``t_seconds`` after programming."""
        assert self.chip is not None
        set_time(self.chip, self.compiled, self.dev, t_seconds)
        self._load_chip()
        return self

    def _load_chip(self) -> None:
        assert self.chip is not None
        for layer, cl in zip(self.layers, self.chip.layers, strict=True):
            layer.set_chip(cl)

    def input_codes(self, x: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] -> first-layer DAC codes (negative inputs clamp to code 0)."""
        a = self.compiled.arch
        scale = self.compiled.layers[0].in_scale
        x = x.reshape(x.shape[0], -1).to(self.dtype)  # flat pixels, C-major for images (N, C, H, W)
        if torch.is_grad_enabled() and x.requires_grad:
            return ste_round(x / scale).clamp(0, a.x_max)
        return rules.input_codes(x, scale, a.x_max)

    def forward(self, x: torch.Tensor, codes: bool = False) -> torch.Tensor:
        if x.shape[0] > CHUNK_SAMPLES and not torch.is_grad_enabled():
            # the whole network on cache-sized pieces of a large batch: its temporaries stay in cache
            return torch.cat([self(x[i : i + CHUNK_SAMPLES], codes) for i in range(0, x.shape[0], CHUNK_SAMPLES)])
        h = x.to(self.dtype) if codes else self.input_codes(x)
        return self.compiled.walk(h, lambda i, h, skip: self.layers[i](h, self.noise_gen, skip))

    def collect_stats(self, on: bool = True) -> None:
        for layer in self.layers:
            layer.collect = on
            if on:
                layer.stats = LayerStats()

    def layer_stats(self) -> list[dict[str, float]]:
        return [{"layer": lay.ir.name, "adc_conversions": lay.stats.conversions,
                 "adc_saturation": lay.stats.saturation} for lay in self.layers]

    @torch.no_grad()
    def predict(self, x: np.ndarray | torch.Tensor, batch_size: int = 10000) -> np.ndarray:
        """Predicted classes for pixel codes (uint8) or images in [0, 1]."""
        preds = []
        for i in range(0, len(x), batch_size):
            end = min(i + batch_size, len(x))
            # converted piece by piece where forward() would cut the batch anyway (the same calls, less memory)
            step = CHUNK_SAMPLES if end - i > CHUNK_SAMPLES else end - i
            for j in range(i, end, step):
                xt = torch.as_tensor(np.array(x[j : min(j + step, end)], copy=True))
                if xt.dtype == torch.uint8:
                    xt = xt.to(torch.float32) / 255.0
                preds.append(self(xt.to(self.device_)).argmax(1).cpu())
        return torch.cat(preds).numpy()

    def evaluate(self, x: np.ndarray | torch.Tensor, y: np.ndarray, batch_size: int = 10000) -> float:
        """Accuracy on pixel codes (uint8) or images in [0, 1]."""
        return float((self.predict(x, batch_size) == np.asarray(y)).mean())
