"""The analog crossbar engine: a batched, differentiable PyTorch model of a compiled network on a chip.

Per layer and row tile (R rows), input slice (1 for multi-level DACs, one per bit for bit-serial, one per phase
for integrating inputs) and weight slice, the column-pair currents
``S = sum_i x_i (G+_i - G-_i)`` (in integer-grid units of conductance times input code) are digitized by a
signed ADC, shift-added and summed over tiles into ``acc``; bias, ReLU and requantization then happen
digitally (see :mod:`reram.compile.ir` for the integer contract that :mod:`reram.golden` implements bit-exactly).

Column tiling does not change the arithmetic: columns are independent. It matters for IR drop (positions in
the physical array), ADC counts and energy, which use :func:`reram.analog.irdrop.array_layout`.

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

from reram.compile.datapath import finish_torch, patches_torch
from reram.compile.ir import ArchParams, CompiledModel, LayerIR
from reram.compile.passes import slice_inputs

from .irdrop import approx_factors, array_layout
from .presets import DeviceParams
from .program import Chip, ChipLayer, program_chip, set_time

CHUNK_ELEMENTS = 2**21  # elements of one (tiles, rows, out) temporary of the inference path (8 MB in float32)


def ste_round(x: torch.Tensor) -> torch.Tensor:
    """Round half up, with a straight-through gradient when autograd needs one."""
    if not (torch.is_grad_enabled() and x.requires_grad):
        return torch.floor(x + 0.5)
    return x + (torch.floor(x + 0.5) - x).detach()


def add_output_noise(S: torch.Tensor, x_sq: torch.Tensor, G2s: torch.Tensor,
                     gen: torch.Generator | None) -> torch.Tensor:
    """Exact output-referred read noise: ``S + sqrt(x^2 @ G2s) * e``, where ``G2s`` holds r^2 (G+^2 + G-^2)
    (times the square of any output scaling)."""
    sd = (x_sq @ G2s).sqrt_()
    eps = torch.randn(S.shape, generator=gen, dtype=S.dtype, device="cpu").to(S.device)
    return S.addcmul_(sd, eps)


def variance_bmm(x_sq: torch.Tensor, g2: torch.Tensor) -> torch.Tensor:
    """The read-noise variance ``x_sq @ g2`` (batched over tiles). A float32 engine computes it in bfloat16 with
    float32 accumulation (several times faster on CPUs with bf16 units): the variance's relative error is a few
    tenths of a percent (8-bit mantissas), its standard deviation's half that -- a test bounds it at 2 %. A float64
    engine computes it exactly."""
    if x_sq.dtype != torch.float32:
        return torch.bmm(x_sq, g2)
    return torch.bmm(x_sq.to(torch.bfloat16), g2.to(torch.bfloat16)).to(torch.float32)


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
        self.pad = self.T * arch.rows - ir.in_features
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
        self.sample_limit = 20000
        self.device_ = torch.device("cpu")

    # ------------------------------------------------------------------ chip state
    def set_chip(self, cl: ChipLayer) -> None:
        """Load a programmed state: effective conductances (IR drop folded in) as (S, T, R, out)."""
        self.chip_layer = cl
        gp = torch.tensor(cl.g_pos, dtype=torch.float64)
        gn = torch.tensor(cl.g_neg, dtype=torch.float64)
        if self.dev.ir_drop == "approx" and self.dev.wire_resistance > 0:
            gp, gn = self._ir_factors(gp, gn)
        self._set_g(gp, gn)
        self.adc_mult_t = torch.tensor(cl.adc_mult, dtype=torch.float64)
        self._scaled_cache: tuple[torch.Tensor, torch.Tensor] | None = None
        self._conv_cache: list[tuple[torch.Tensor, torch.Tensor]] | None = None
        M = cl.req_mult if cl.req_mult is not None else self.ir.req_mult
        B = cl.req_bias if cl.req_bias is not None else self.ir.req_bias
        self.req_mult = torch.tensor(M, dtype=torch.float64)
        self.req_bias = torch.tensor(B, dtype=torch.float64)

    def _ir_factors(self, gp: torch.Tensor, gn: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, R = self.arch, self.arch.rows
        gp_n, gn_n = gp.numpy().copy(), gn.numpy().copy()
        S, IN, _ = gp_n.shape
        for s in range(S):
            for t in range(self.T):
                rs = slice(t * R, min((t + 1) * R, IN))
                for sl, phys in array_layout(gp_n[s, rs], gn_n[s, rs], a.cols):
                    f = approx_factors(phys * a.g_lsb, self.dev.wire_resistance)
                    gp_n[s, rs, sl] *= f[:, 0::2]
                    gn_n[s, rs, sl] *= f[:, 1::2]
        return torch.from_numpy(gp_n), torch.from_numpy(gn_n)

    def _tile(self, g: torch.Tensor) -> torch.Tensor:
        """(S, in, out) -> (S, T, R, out), padding rows with G_min (unused cells, zero input)."""
        if self.pad:
            g = torch.cat([g, torch.full((g.shape[0], self.pad, g.shape[2]), float(self.arch.gmin_code),
                                         dtype=g.dtype)], dim=1)
        return g.reshape(g.shape[0], self.T, self.arch.rows, g.shape[2])

    def _set_g(self, gp: torch.Tensor, gn: torch.Tensor) -> None:
        gp_t, gn_t = self._tile(gp), self._tile(gn)
        dev = self.device_
        self.dG = (gp_t - gn_t).to(dev, self.dtype)
        self.G2 = (gp_t.square() + gn_t.square()).to(dev, self.dtype)  # for output-referred read noise
        self.Gp, self.Gn = gp_t.to(dev, self.dtype), gn_t.to(dev, self.dtype)

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor, noise_gen: torch.Generator | None) -> torch.Tensor:
        """``x``: flat input codes (N, in_size), integer-valued floats. Returns the next layer's flat codes
        (pooled for a conv layer that pools) or the logits."""
        if self.ir.kind == "conv2d" and self._batched_ok(x):
            acc = self._acc_conv(x, noise_gen)
        else:
            acc = self.forward_acc(self.patches(x), noise_gen)
        y = self._digital(acc)
        return y if self.is_last else self.finish(y, x.shape[0])

    def _batched_ok(self, x: torch.Tensor) -> bool:
        """The batched inference path applies: no gradients wanted, the output-referred read-noise form."""
        cell_mode = self.dev.read_noise > 0 and self.dev.read_noise_mode == "cell"
        if cell_mode or (self.trainable and self.training):  # fine-tuning draws fresh conductances per call
            return False
        return not (torch.is_grad_enabled() and (x.requires_grad or self.trainable))

    @torch.no_grad()
    def _acc_conv(self, x: torch.Tensor, noise_gen: torch.Generator | None) -> torch.Tensor:
        """A convolution's ``acc`` without im2col: each row tile's conductances become conv2d kernels (zero outside
        the tile's rows), all tiles in one conv2d, the read-noise variance in another on x^2 (x for integrating
        inputs). The outputs are the im2col MVM rows (sample-major, then position), so the ADC, the tile sums and
        everything after are the same as :meth:`_acc_tiles_batched`."""
        arch, c = self.arch, self.ir.conv
        if self._conv_cache is None:
            dGs, G2s = self._inference_operands()
            S, T, R, out = dGs.shape
            C, H, W = c["in_shape"]
            n_in = self.ir.in_features

            def kernels(g: torch.Tensor) -> torch.Tensor:  # (T, R, out) -> (T * out, C, kh, kw)
                k = torch.zeros(T, out, n_in, dtype=self.dtype, device=g.device)
                for t in range(T):
                    nr = min(R, n_in - t * R)
                    k[t, :, t * R : t * R + nr] = g[t, :nr].t().to(self.dtype)
                return k.reshape(T * out, C, *c["kernel"])

            self._conv_cache = [(kernels(dGs[s]), kernels(G2s[s])) for s in range(S)]
        C, H, W = c["in_shape"]
        Ho, Wo = c["out_hw"]
        T, out = self.T, self.ir.out_features
        n = x.shape[0]
        chunk = max(1, CHUNK_ELEMENTS // (T * Ho * Wo * out))
        if n > chunk:
            return torch.cat([self._acc_conv(x[i : i + chunk], noise_gen) for i in range(0, n, chunk)])
        r = self.dev.read_noise
        integrating = arch.dac_mode == "integrating"
        weights = self._slice_weights()
        conv = partial(torch.nn.functional.conv2d, stride=tuple(c["stride"]), padding=tuple(c["padding"]))
        acc: torch.Tensor | None = None
        for b, xs in enumerate(slice_inputs(x.reshape(n, C, H, W), arch, self.dtype)):
            xsq = (xs if integrating else xs.square()) if r > 0 else None
            for s, (k_sig, k_var) in enumerate(self._conv_cache):
                # (N, T * out, Ho, Wo) -> (T, N * Ho * Wo, out): the im2col row order
                v = conv(xs, k_sig).reshape(n, T, out, Ho * Wo).permute(1, 0, 3, 2).reshape(T, -1, out)
                var = None if xsq is None else \
                    conv(xsq, k_var).reshape(n, T, out, Ho * Wo).permute(1, 0, 3, 2).reshape(T, -1, out)
                part = self._adc_tiles(v, var, noise_gen)
                w = weights[b][s]
                acc = part.mul_(w) if acc is None else acc.add_(part, alpha=w)
        assert acc is not None
        return acc

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """Flat inputs -> MVM rows: (N * positions, in_features) im2col patches of a conv layer."""
        return patches_torch(self.ir, x)

    def finish(self, y: torch.Tensor, n: int) -> torch.Tensor:
        """Output codes (N * positions, out) -> flat features (N, out_size), pooled if the layer pools."""
        return finish_torch(self.ir, y, n, round_fn=ste_round)

    def forward_acc(self, x: torch.Tensor, noise_gen: torch.Generator | None) -> torch.Tensor:
        """The accumulated ADC codes ``acc`` (N, out) before the activation unit."""
        arch = self.arch
        if self.trainable and self.training:
            dG, G2, lin_dG = self._train_conductances(noise_gen)
            dGs, G2s = self._scaled(dG, G2)
        else:
            dG, lin_dG = self.dG, None
            dGs, G2s = self._inference_operands()
        N, IN, R = x.shape[0], self.ir.in_features, arch.rows
        r = self.dev.read_noise
        cell_mode = r > 0 and self.dev.read_noise_mode == "cell"
        weights = self._slice_weights()
        integrating = arch.dac_mode == "integrating"
        if not cell_mode and not (torch.is_grad_enabled() and (x.requires_grad or self.trainable)):
            return self._acc_tiles_batched(x, dGs, G2s, weights, noise_gen)
        G2s = G2s.to(self.dtype)  # the per-tile path (gradients, the cell form) computes the variance exactly
        with torch.no_grad():
            slices = slice_inputs(x.detach(), arch, self.dtype)
            acc = torch.zeros(N, self.ir.out_features, dtype=self.dtype, device=x.device)
            for b, xs in enumerate(slices):
                # read-noise variance weight per row: x^2 for one read at amplitude x; for integrated unit pulses
                # (independent noise per pulse) the pulse count x
                xsq = (xs if integrating else xs.square()) if r > 0 and not cell_mode else None
                for t in range(self.T):
                    rs = slice(t * R, min((t + 1) * R, IN))
                    nr = rs.stop - rs.start
                    for s in range(dG.shape[0]):
                        if cell_mode:
                            v = read_noise_cell(xs[:, rs], self.Gp[s, t, :nr], self.Gn[s, t, :nr], r, noise_gen,
                                                x_noise=xs[:, rs].sqrt() if integrating else None)
                            v.mul_(self._lsb_mult[t])
                        else:
                            v = xs[:, rs] @ dGs[s, t, :nr]  # (N, out), in ADC LSB units
                            if xsq is not None:
                                v = add_output_noise(v, xsq[:, rs], G2s[s, t, :nr], noise_gen)
                        if self.collect:
                            self._record(v)
                        acc.add_(v.add_(0.5).floor_().clamp_(self.adc_lo, self.adc_hi), alpha=weights[b][s])
        if torch.is_grad_enabled() and (x.requires_grad or self.trainable):
            # straight-through gradient of the ADC block: the linear MVM in ADC-code units
            g_lin = lin_dG if lin_dG is not None else self._combined(dG)
            xp = torch.nn.functional.pad(x, (0, self.pad)) if self.pad else x
            lin = (xp @ g_lin.reshape(-1, g_lin.shape[-1])) * self._lsb_mult.mean()
            acc = acc + lin - lin.detach()
        return acc

    def _slice_weights(self) -> list[list[float]]:
        """The shift-add weight of input slice b and weight slice s: 2^(b * slice_bits) * levels^s."""
        a = self.arch
        return [[float(2 ** (b * a.slice_bits) * a.levels**s) for s in range(a.slices)] for b in range(a.input_slices)]

    def _inference_operands(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The programmed conductances scaled to ADC LSBs and the read-noise variance weights, (S, T, R, out), built
        once per chip state."""
        if self._scaled_cache is None:
            dGs, G2s = self._scaled(self.dG, self.G2)
            if self.T == 1 and self.pad:  # one partial tile: no padded rows to multiply by zero
                n_in = self.ir.in_features
                dGs, G2s = dGs[:, :, :n_in].contiguous(), G2s[:, :, :n_in].contiguous()
            if G2s.dtype == torch.float32:  # variance_bmm's operand, converted once
                G2s = G2s.to(torch.bfloat16)
            self._scaled_cache = (dGs, G2s)
        return self._scaled_cache

    @torch.no_grad()
    def _acc_tiles_batched(self, x: torch.Tensor, dGs: torch.Tensor, G2s: torch.Tensor, weights: list[list[float]],
                           noise_gen: torch.Generator | None) -> torch.Tensor:
        """The inference path of :meth:`forward_acc`: all row tiles of a slice in one batched matmul (T, N, R) @
        (T, R, out), one read-noise draw per slice, the ADC in place, the tiles summed once. Same arithmetic as the
        per-tile loop: ADC codes are integers, so the order of the sums does not change them."""
        chunk = max(256, CHUNK_ELEMENTS // (self.T * dGs.shape[-1]))
        if x.shape[0] > chunk:  # cache-sized pieces: the (T, rows, out) temporaries of a large batch spill
            return torch.cat([self._acc_tiles_batched(x[i : i + chunk], dGs, G2s, weights, noise_gen)
                              for i in range(0, x.shape[0], chunk)])
        arch = self.arch
        N, T, R = x.shape[0], self.T, dGs.shape[2]  # R: the rows per tile as cached (trimmed for one tile)
        extra = T * R - x.shape[1]
        xp = torch.nn.functional.pad(x, (0, extra)) if extra else x
        r = self.dev.read_noise
        integrating = arch.dac_mode == "integrating"
        acc: torch.Tensor | None = None
        for b, xs in enumerate(slice_inputs(xp, arch, self.dtype)):
            xt = xs.reshape(1, N, R) if T == 1 else xs.reshape(N, T, R).transpose(0, 1).contiguous()  # (T, N, R)
            xsq = (xt if integrating else xt.square()) if r > 0 else None
            for s in range(dGs.shape[0]):
                v = torch.bmm(xt, dGs[s])  # (T, N, out), in ADC LSB units
                part = self._adc_tiles(v, None if xsq is None else variance_bmm(xsq, G2s[s]), noise_gen)
                w = weights[b][s]
                acc = part.mul_(w) if acc is None else acc.add_(part, alpha=w)
        assert acc is not None
        return acc

    def _adc_tiles(self, v: torch.Tensor, var: torch.Tensor | None, noise_gen: torch.Generator | None) -> torch.Tensor:
        """Pre-ADC values (T, rows, out) in LSB units, with their read-noise variance (or None): one noise draw, the
        ADC in place (counted when collecting statistics), and the tiles summed."""
        if var is not None:
            eps = torch.randn(v.shape, generator=noise_gen, dtype=v.dtype, device="cpu").to(v.device)
            v.addcmul_(var.clamp_min_(0).sqrt_(), eps)
        if self.collect:
            self._record(v)
        return v.add_(0.5).floor_().clamp_(self.adc_lo, self.adc_hi).sum(0)

    @property
    def _lsb_mult(self) -> torch.Tensor:
        """ADC gain per row tile: codes per pre-ADC unit (adc_mult / 2**adc_shift)."""
        return self.adc_mult_t.to(self.device_, self.dtype) / 2.0**self.ir.adc_shift

    def _scaled(self, dG: torch.Tensor, G2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Fold the ADC gain (and the read-noise variance) into the conductances: sums come in LSB units."""
        m = self._lsb_mult[None, :, None, None]
        r = self.dev.read_noise
        return (dG * m).contiguous(), (G2 * (m * r) ** 2).contiguous()

    def _combined(self, dG: torch.Tensor) -> torch.Tensor:
        """Sum of weight slices in acc units: (T, R, out)."""
        w = torch.tensor([float(self.arch.levels**s) for s in range(dG.shape[0])], dtype=dG.dtype)
        return (dG * w[:, None, None, None].to(dG.device)).sum(0)

    def _record(self, v: torch.Tensor) -> None:
        st = self.stats
        st.conversions += v.numel()
        st.clipped += int(((v < self.adc_lo - 0.5) | (v > self.adc_hi + 0.5)).sum())
        if st.sample_size < self.sample_limit:
            flat = v.detach().flatten()
            step = max(1, flat.numel() // 4000)
            take = flat[::step][: self.sample_limit - st.sample_size].cpu().numpy().astype(np.float32)
            st.sample.append(take)
            st.sample_size += take.size

    def _digital(self, acc: torch.Tensor) -> torch.Tensor:
        sh = 2.0**self.ir.req_shift
        if self.trainable and self.training:
            scale = self.ir.out_scale / self.ir.next_scale * sh
            M = ste_round(self.gain * scale)
            B = ste_round(self.offset / self.ir.next_scale * sh)
        else:
            M = self.req_mult.to(acc.device)
            B = self.req_bias.to(acc.device)
            if not (torch.is_grad_enabled() and acc.requires_grad):  # inference: one float64 buffer, in place
                y = acc.to(torch.float64).mul_(M).add_(B).mul_(1.0 / sh)  # 1/sh: a power of two, exact
                if self.is_last:
                    return y.mul_(self.ir.next_scale).to(self.dtype)
                return y.add_(0.5).floor_().clamp_(0, self.arch.x_max).to(self.dtype)
        if acc.dtype == torch.float64 or not (self.trainable and self.training):
            acc = acc.to(torch.float64)
            M, B = M.to(torch.float64), B.to(torch.float64)
        y = (acc * M + B) / sh
        if self.is_last:
            return (y * self.ir.next_scale).to(self.dtype)
        return ste_round(y).clamp(0, self.arch.x_max).to(self.dtype)

    # ------------------------------------------------------------------ fine-tuning
    def _train_conductances(self, gen):
        """Conductances from the trainable float weights, with fresh programming noise each call."""
        arch, dev = self.arch, self.dev
        qmax = arch.q_max
        qf = (self.weight / self.ir.w_max * qmax).clamp(-qmax, qmax)
        q = ste_round(qf)  # (out, in) differentiable
        step = float(2**arch.grid_sub_bits)
        from .program import apply_stuck, program_verified, weight_digits

        with torch.no_grad():
            pos, neg = weight_digits(q.detach().round().to(torch.int64), arch)
            tp, tn = arch.gmin_code + pos * step, arch.gmin_code + neg * step
            g_gen = gen if gen is not None else torch.Generator().manual_seed(0)
            gp = apply_stuck(program_verified(tp.double(), arch, dev, g_gen).clamp(0, arch.gmax_code), arch, dev,
                             g_gen)
            gn = apply_stuck(program_verified(tn.double(), arch, dev, g_gen).clamp(0, arch.gmax_code), arch, dev,
                             g_gen)
            gp_t, gn_t = self._tile(gp), self._tile(gn)
            dG = (gp_t - gn_t).to(self.dtype)
            G2 = (gp_t.square() + gn_t.square()).to(self.dtype)
            delta = self._combined(dG) - self._tile((q.detach().t() * step)[None].double())[0].to(self.dtype)
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
        return ste_round(x / scale).clamp(0, a.x_max)

    def forward(self, x: torch.Tensor, codes: bool = False) -> torch.Tensor:
        h = x.to(self.dtype) if codes else self.input_codes(x)
        for layer in self.layers:
            h = layer(h, self.noise_gen)
        return h

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
        xt = torch.as_tensor(np.array(x, copy=True))
        if xt.dtype == torch.uint8:
            xt = xt.to(torch.float32) / 255.0
        preds = []
        for i in range(0, len(xt), batch_size):
            preds.append(self(xt[i : i + batch_size].to(self.device_)).argmax(1).cpu())
        return torch.cat(preds).numpy()

    def evaluate(self, x: np.ndarray | torch.Tensor, y: np.ndarray, batch_size: int = 10000) -> float:
        """Accuracy on pixel codes (uint8) or images in [0, 1]."""
        return float((self.predict(x, batch_size) == np.asarray(y)).mean())
