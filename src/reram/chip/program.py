"""Programming a chip: weight codes -> per-slice differential conductance pairs on an integer grid,
with programming variation, stuck-at faults and drift. One ``torch.Generator`` per chip.

Conductances are kept as integer codes of the grid step ``arch.g_lsb`` (``2**grid_sub_bits`` steps per
programmable level), fine enough to represent variation; the golden model and the RTL read exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from reram.ir.core import ArchParams, CompiledModel
from reram.ir.rules import ADC_MULT_MAX, grid_codes, round_half_up, row_tiles, target_codes, weight_digits

from .device import DeviceParams, state_dependent_sigma


@dataclass
class ChipLayer:
    """Programmed state of one layer. Codes are int32 of shape (slices, in, out)."""

    g_pos: np.ndarray
    g_neg: np.ndarray
    g0_pos: torch.Tensor  # float grid units right after programming (before drift), for .drift()
    g0_neg: torch.Tensor
    nu_pos: torch.Tensor  # per-device drift exponents
    nu_neg: torch.Tensor
    adc_mult: np.ndarray  # int64 (row_tiles,): ADC multiplier per row tile (drift compensation)
    req_mult: np.ndarray | None = None  # per-chip calibration overrides (int64, (out,))
    req_bias: np.ndarray | None = None


@dataclass
class Chip:
    seed: int
    layers: list[ChipLayer]
    time_s: float = 0.0
    program_stats: dict[str, float] = field(default_factory=dict)  # cells, writes, verify reads (program_verified)


def program_noise(g_target: torch.Tensor, arch: ArchParams, dev: DeviceParams, gen: torch.Generator) -> torch.Tensor:
    """Programmed conductance in grid units (float), before stuck-at faults and quantization."""
    if dev.program_sigma == 0 and dev.sigma_model == "constant":
        return g_target.to(torch.float64)
    g_si = g_target.to(torch.float64) * arch.g_lsb
    if dev.sigma_model == "state_dependent":
        sigma = state_dependent_sigma(g_si, dev)
    else:
        sigma = torch.full_like(g_si, dev.program_sigma * (arch.g_max - arch.g_min))
    return sigma.mul_(standard_normal(g_si.shape, gen)).add_(g_si).div_(arch.g_lsb)


def standard_normal(shape: torch.Size | tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    """Standard normal draws as float64, sampled in float32: torch's float32 sampler is vectorized (about 6x faster
    than its float64 one), and a draw's resolution (2^-24 relative) is far below any device figure."""
    return torch.randn(shape, generator=gen, dtype=torch.float32).to(torch.float64)


def program_verified(g_target: torch.Tensor, arch: ArchParams, dev: DeviceParams, gen: torch.Generator,
                     stats: dict[str, float] | None = None) -> torch.Tensor:
    """Programmed conductance (grid units, float) after the first write and ``dev.verify_cycles`` program-and-verify
    cycles: each cycle reads every cell (with the device's read noise) and writes again, with a new programming
    error, every cell read outside ``target +- dev.verify_tolerance``. ``stats`` (if given) accumulates ``cells``,
    ``writes`` (first writes included) and ``verify_reads``."""
    g = program_noise(g_target, arch, dev, gen)
    writes = float(g.numel())
    if dev.verify_cycles > 0 and (dev.program_sigma > 0 or dev.sigma_model == "state_dependent"):
        tol = dev.verify_tolerance / arch.g_lsb
        tgt = g_target.to(torch.float64)
        for _ in range(dev.verify_cycles):
            read = g.abs().mul_(dev.read_noise).mul_(standard_normal(g.shape, gen)).add_(g)  # g (1 + r e)
            out = read.sub_(tgt).abs_() > tol
            if stats is not None:
                stats["verify_reads"] = stats.get("verify_reads", 0) + g.numel()
            idx = out.nonzero(as_tuple=True)
            if not len(idx[0]):
                break
            g[idx] = program_noise(g_target[idx], arch, dev, gen)  # a new write, with a new error, where out
            writes += len(idx[0])
    if stats is not None:
        stats["cells"] = stats.get("cells", 0) + g.numel()
        stats["writes"] = stats.get("writes", 0) + writes
    return g


def apply_stuck(g: torch.Tensor, arch: ArchParams, dev: DeviceParams, gen: torch.Generator) -> torch.Tensor:
    if dev.stuck_low == 0 and dev.stuck_high == 0:
        return g
    u = torch.rand(g.shape, generator=gen, dtype=torch.float64)
    g = torch.where(u < dev.stuck_low, torch.full_like(g, arch.gmin_code), g)
    return torch.where(u >= 1 - dev.stuck_high, torch.full_like(g, arch.gmax_code), g)


POOL_CELLS = 2**22  # cells of a fine-tuning pool at most (see programmed_pool)


def programmed_pool(arch: ArchParams, dev: DeviceParams, gen: torch.Generator, size: int | None = None) -> torch.Tensor:
    """(codes, size, slices, 2) conductances (grid units, float32): for every signed weight code ``-q_max .. q_max``,
    ``size`` independent sets of its cells (per weight slice, G+ and G-) programmed exactly as :func:`program_chip`
    programs them (first write and program-and-verify; stuck-at faults are drawn per step by
    :func:`sample_programmed`), before drift. ``size``: 1,024 to 16,384, at most ``POOL_CELLS`` cells in all.

    A cell's programmed value depends only on its target level, so hardware-aware fine-tuning draws each weight's
    cells of each step from this pool instead of running program-and-verify on the whole network every step: the
    same distribution per cell, at a fraction of the cost."""
    qmax = arch.q_max
    n_codes = 2 * qmax + 1
    if size is None:
        size = int(min(16384, max(1024, POOL_CELLS // (n_codes * arch.slices * 2))))
    pos, neg = weight_digits(torch.arange(-qmax, qmax + 1)[None, :], arch)  # (S, codes, 1)
    levels = torch.stack([pos[..., 0], neg[..., 0]], dim=-1).permute(1, 0, 2)  # (codes, S, 2)
    tgt = (arch.gmin_code + levels * 2**arch.grid_sub_bits).to(torch.float64)
    tgt = tgt[:, None].expand(-1, size, -1, -1).contiguous()  # (codes, size, S, 2)
    return program_verified(tgt, arch, dev, gen).clamp(0, arch.gmax_code).to(torch.float32)


def sample_programmed(pool: torch.Tensor, codes: torch.Tensor, arch: ArchParams, dev: DeviceParams,
                      gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Programmed conductances (grid units, float32) of signed weight codes ``codes`` (in, out): an independent draw
    from ``pool`` (:func:`programmed_pool`) per weight, then the device's stuck-at faults; returns G+ and G-, each
    (slices, in, out)."""
    n_codes, size, S, _ = pool.shape
    idx = torch.randint(0, size, codes.shape, generator=gen).add_((codes.to(torch.int64) + arch.q_max) * size)
    g = pool.reshape(n_codes * size, S * 2).index_select(0, idx.reshape(-1)).reshape(*codes.shape, S, 2)
    g = apply_stuck(g.permute(2, 3, 0, 1), arch, dev, gen)  # (S, 2, in, out)
    return g[:, 0], g[:, 1]


def drift_factor(nu: torch.Tensor, dev: DeviceParams, t: float) -> torch.Tensor:
    if t <= dev.drift_t0:
        return torch.ones_like(nu)
    return (t / dev.drift_t0) ** (-nu)


def program_chip(model: CompiledModel, dev: DeviceParams, seed: int, time_s: float | None = None) -> Chip:
    """Program every layer with a generator seeded by ``seed``; then let it drift to ``time_s``."""
    gen = torch.Generator().manual_seed(int(seed))
    arch = model.arch
    t = dev.drift_time if time_s is None else time_s
    layers = []
    stats: dict[str, float] = {}
    for layer in model.layers:
        tp, tn = target_codes(layer, arch)
        g0p = apply_stuck(program_verified(tp, arch, dev, gen, stats).clamp(0, arch.gmax_code), arch, dev, gen)
        g0n = apply_stuck(program_verified(tn, arch, dev, gen, stats).clamp(0, arch.gmax_code), arch, dev, gen)
        if dev.drift_nu > 0 or dev.drift_nu_std > 0:
            nup = (dev.drift_nu + dev.drift_nu_std * torch.randn(g0p.shape, generator=gen, dtype=g0p.dtype)).clamp(0)
            nun = (dev.drift_nu + dev.drift_nu_std * torch.randn(g0n.shape, generator=gen, dtype=g0n.dtype)).clamp(0)
        else:
            nup = torch.zeros_like(g0p)
            nun = torch.zeros_like(g0n)
        layers.append(ChipLayer(g_pos=np.zeros(0), g_neg=np.zeros(0), g0_pos=g0p, g0_neg=g0n, nu_pos=nup,
                                nu_neg=nun, adc_mult=np.full(layer.row_tiles(arch), layer.adc_mult, np.int64)))
    chip = Chip(seed=int(seed), layers=layers, program_stats=stats)
    set_time(chip, model, dev, t)
    return chip


def set_time(chip: Chip, model: CompiledModel, dev: DeviceParams, t: float) -> None:
    """Apply drift to time ``t`` (seconds after programming), with optional per-tile gain compensation."""
    arch = model.arch
    for layer, cl in zip(model.layers, chip.layers, strict=True):
        if cl.g0_pos.numel() == 0:
            from reram.errors import CompileError

            raise CompileError("this chip was loaded from its integer codes and has no drift state; "
                               "program it with AnalogModel.program(seed) to study drift")
        fp, fn = drift_factor(cl.nu_pos, dev, t), drift_factor(cl.nu_neg, dev, t)
        gp, gn = cl.g0_pos * fp, cl.g0_neg * fn
        cl.g_pos, cl.g_neg = grid_codes(gp, arch), grid_codes(gn, arch)
        cl.adc_mult = np.full(layer.row_tiles(arch), layer.adc_mult, np.int64)
        if dev.drift_compensation and t > dev.drift_t0:
            # one global gain per row tile: the ratio of programmed to drifted total conductance, as a
            # reference-column measurement would give it; applied to the ADC multiplier
            for ti, rs in enumerate(row_tiles(layer, arch)):
                before = (cl.g0_pos[:, rs] + cl.g0_neg[:, rs]).sum()
                after = (gp[:, rs] + gn[:, rs]).sum()
                gain = float(before / after) if after > 0 else 1.0
                cl.adc_mult[ti] = min(round_half_up(layer.adc_mult * gain), ADC_MULT_MAX)
    chip.time_s = t


def save_chip(path, chip: Chip) -> None:
    """The programmed state (integer codes, ADC multipliers, calibrated activation-unit constants) as npz."""
    from reram.fsutil import atomic_save_npz

    arrays: dict[str, np.ndarray] = {"seed": np.array(chip.seed), "time_s": np.array(chip.time_s)}
    for k, v in chip.program_stats.items():
        arrays[f"program.{k}"] = np.array(float(v))
    for i, cl in enumerate(chip.layers):
        arrays[f"l{i}.g_pos"] = cl.g_pos
        arrays[f"l{i}.g_neg"] = cl.g_neg
        arrays[f"l{i}.adc_mult"] = cl.adc_mult
        if cl.req_mult is not None and cl.req_bias is not None:
            arrays[f"l{i}.req_mult"] = cl.req_mult
            arrays[f"l{i}.req_bias"] = cl.req_bias
    atomic_save_npz(path, arrays)


def load_chip(path, model: CompiledModel) -> Chip:
    """Read a chip saved by :func:`save_chip`, checking it against the compiled model's shapes."""
    from pathlib import Path

    from reram.errors import IRError
    from reram.fsutil import read_npz

    p = Path(path)
    arrays = read_npz(p, IRError, "chip file", "re-run the 'analog' stage")
    layers = []
    arch = model.arch
    try:
        for i, layer in enumerate(model.layers):
            gp, gn = arrays[f"l{i}.g_pos"], arrays[f"l{i}.g_neg"]
            shape = (arch.slices, layer.in_features, layer.out_features)
            for name, g in (("g_pos", gp), ("g_neg", gn)):
                if g.shape != shape or g.dtype.kind not in "iu" or g.min() < 0 or g.max() > arch.gmax_code:
                    raise IRError(f"{p}: l{i}.{name} must be integer codes in [0, {arch.gmax_code}] of shape {shape}")
            am = arrays[f"l{i}.adc_mult"]
            if am.shape != (layer.row_tiles(arch),):
                raise IRError(f"{p}: l{i}.adc_mult has shape {am.shape}")
            zero = torch.zeros(0)
            layers.append(ChipLayer(g_pos=gp.astype(np.int32), g_neg=gn.astype(np.int32), g0_pos=zero, g0_neg=zero,
                                    nu_pos=zero, nu_neg=zero, adc_mult=am.astype(np.int64),
                                    req_mult=arrays.get(f"l{i}.req_mult"), req_bias=arrays.get(f"l{i}.req_bias")))
        stats = {k.split(".", 1)[1]: float(v) for k, v in arrays.items() if k.startswith("program.")}
        return Chip(seed=int(arrays["seed"]), layers=layers, time_s=float(arrays["time_s"]), program_stats=stats)
    except KeyError as e:
        raise IRError(f"{p}: array {e} is missing; re-run the 'analog' stage") from None
