"""Calibration passes that need a chip or training: least-squares bias re-calibration (per programmed
chip, against pre-ReLU software targets) and hardware-aware fine-tuning."""

from __future__ import annotations

import logging

import numpy as np
import torch

from reram.chip.device import DeviceParams
from reram.chip.program import Chip
from reram.ir import CompiledModel
from reram.ir.ops import OPS, float_forward
from reram.ir.rules import acc_scales, requant_ints

log = logging.getLogger("reram")


@torch.no_grad()
def bias_recalibration(cm: CompiledModel, chip: Chip, dev: DeviceParams, calib_x: np.ndarray, fit: str = "gain_offset",
                       target: str = "pre_relu", engine=None,
                       soft: list[tuple[np.ndarray, np.ndarray]] | None = None) -> dict[str, float]:
    """Per output column, fit ``target ~ gain * hw + offset`` (or the offset alone) by least squares.

    ``hw`` is the chip's accumulator in float units (``acc`` times :func:`~reram.ir.rules.acc_scales`, read noise
    on) and ``target`` the software pre-activation of the same calibration images. Layers are fitted in order, each
    seeing the already calibrated earlier layers. ``target='post_relu'`` fits against ReLU'd targets instead (kept
    for the ablation: the clipped zeros bias the fit). The results are stored on the chip (its activation-unit
    memory), not in the IR. Returns the RMS residual per layer, relative to the target's RMS.

    ``engine``: an :class:`~reram.analog.engine.AnalogModel` of this chip to run the calibration images on (its read
    noise generator is used; a float64 one is built when None). ``soft``: :func:`float_forward` of ``calib_x``, when
    the caller has it (it is the same for every chip of a compiled model).
    """
    from reram.analog.engine import AnalogModel

    if engine is None:
        engine = AnalogModel(cm, dev, dtype=torch.float64, chip=chip)
    engine.eval()
    if soft is None:
        soft = float_forward(cm, calib_x)
    h = engine.input_codes(torch.from_numpy(np.asarray(calib_x, np.float32)))
    residuals = {}

    def step(li: int, h: torch.Tensor, skip: torch.Tensor | None) -> torch.Tensor:
        layer, al = cm.layers[li], engine.layers[li]
        n_samples = h.shape[0]
        acc_t = al.forward_acc(al.patches(h), engine.noise_gen)  # (N * positions, out)
        # float64 from here, in place where it can be: these are the largest arrays of a calibration
        hw = acc_t.to(torch.float64, copy=True).mul_(torch.from_numpy(acc_scales(layer)))
        # the software pre-activation, before any residual add
        z = torch.from_numpy(soft[li][1]).to(torch.float64, copy=True)
        if target == "post_relu" and layer.relu and layer.add_src is None:
            z.clamp_(min=0)
        z_ms = float(torch.einsum("ij,ij->", z, z)) / z.numel()
        mh, mz = hw.mean(0), z.mean(0)
        hc, zc = hw.sub_(mh), z.sub_(mz)  # centred, in place
        gain_t = torch.from_numpy(layer.gain.astype(np.float64))
        if fit == "gain_offset":
            n = hc.shape[0]
            cov = torch.einsum("ij,ij->j", hc, zc) / n
            var = torch.einsum("ij,ij->j", hc, hc) / n
            gain_t = torch.where(var > 1e-30, cov / var.clamp(min=1e-30), gain_t)
        offset_t = mz - gain_t * mh
        resid = zc.addcmul_(hc, gain_t, value=-1)  # z - (gain * hw + offset)
        residuals[layer.name] = float(np.sqrt(float(torch.einsum("ij,ij->", resid, resid)) / resid.numel()
                                              / max(z_ms, 1e-30)))
        gain, offset = gain_t.numpy(), offset_t.numpy()
        del hw, z, hc, zc, resid
        acc = acc_t.to(torch.float64)
        M, B = requant_ints(layer, gain, offset)
        chip.layers[li].req_mult, chip.layers[li].req_bias = M, B
        al.set_chip(chip.layers[li])
        y = al.digital(acc, None if skip is None else OPS[layer.kind].skip_rows(layer, skip))
        return y if al.is_last else al.finish(y, n_samples)

    cm.walk(h, step)
    return residuals


def hw_aware_finetune(cm: CompiledModel, dev: DeviceParams, train_x: np.ndarray, train_y: np.ndarray, iters: int,
                      lr: float, batch: int, seed: int, progress: bool = True) -> list[float]:
    """Fine-tune weights, offsets and gains with the non-idealities sampled in every forward pass.

    Each step programs fresh conductance errors (and read noise) into the forward pass; quantizers are
    straight-through. Updates the IR's float weights, offsets and gains in place; the caller re-runs the
    mapping and ADC calibration passes.
    """
    from rich.progress import TextColumn

    from reram.analog.engine import AnalogModel
    from reram.models.train import fused_adam, host_tensor
    from reram.progress import progress_bar

    torch.manual_seed(seed)
    model = AnalogModel(cm, dev, seed=seed, trainable=True)
    model.train()
    gen = torch.Generator().manual_seed(seed + 17)
    model.noise_gen = torch.Generator().manual_seed(seed + 23)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, **fused_adam())
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(iters, 1))
    x = host_tensor(train_x)  # pixels (uint8) or images in [0, 1], converted batch by batch
    pixels = x.dtype == torch.uint8 or bool(x.max() > 1.5)
    y = torch.tensor(np.asarray(train_y), dtype=torch.int64)
    losses: list[float] = []
    loss_fn = torch.nn.CrossEntropyLoss()
    with progress_bar("fine-tune (iterations)", progress, TextColumn("{task.fields[info]}")) as bar:
        task = bar.add_task("ft", total=iters, info="")
        for it in range(iters):
            idx = torch.randint(0, len(x), (batch,), generator=gen)
            xb = x[idx].to(torch.float32)
            logits = model(xb / 255.0 if pixels else xb)
            loss = loss_fn(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            if it % 20 == 0 or it == iters - 1:
                bar.update(task, completed=it + 1, info=f"loss {np.mean(losses[-20:]):.4f}")
    for layer, al in zip(cm.layers, model.layers, strict=True):
        layer.weight = al.weight.detach().numpy().astype(np.float32)
        layer.offset = al.offset.detach().numpy().astype(np.float32)
        layer.gain = al.gain.detach().numpy().astype(np.float32)
    cm.passes.append("hw_aware_finetune")
    return losses
