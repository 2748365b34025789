"""Evaluating a network on programmed chips: accuracy over chips, ADC saturation per layer.

:func:`evaluate` (compile, then measure) and :func:`measure` (a compiled model) are the one path that the stages,
the ablation, the sensitivity sweeps and design-space exploration share; each returns a typed :class:`Evaluation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from reram.analog.engine import AnalogModel
from reram.chip.device import DeviceParams
from reram.chip.program import Chip
from reram.ir.core import CompiledModel


@dataclass
class Evaluation:
    """A compiled model measured on ``len(chips)`` programmed chips."""

    compiled: CompiledModel
    device: DeviceParams
    chips: list[ChipEval]
    summary: dict[str, object]


def evaluate(model, cfg, splits, spec, chips: int, *, split: str = "test", progress: bool = False,
             label: str = "chips", device: str = "cpu", samples: int | None = None) -> Evaluation:
    """Compile ``model`` with the flow ``spec`` under ``cfg`` (its device, arrays, DAC and ADC), then :func:`measure`
    it on ``chips`` chips."""
    from reram.config.presets import resolve_device
    from reram.pipeline.flows import compile_flow

    cm = compile_flow(model, cfg, resolve_device(cfg), spec, splits.to_float(splits.calib_x), splits.train_x,
                      splits.train_y, seed=cfg.run.seed, progress=progress)
    return measure(cm, cfg, splits, spec, chips, split=split, progress=progress, label=label, device=device,
                   samples=samples)


def measure(cm: CompiledModel, cfg, splits, spec, chips: int, *, split: str = "test", progress: bool = False,
            label: str = "chips", device: str = "cpu", dev: DeviceParams | None = None,
            samples: int | None = None) -> Evaluation:
    """Accuracy of compiled ``cm`` on the ``split`` ("test", "validation" or "calibration") -- its first ``samples``
    images (None: all) -- over chips ``0 .. chips - 1`` of the run's seed, programmed with the flow's device (``dev``:
    another device), each re-calibrated per chip where the flow says so (kept only when it helps on the calibration
    split). The summary's ``test_images`` says how many images were evaluated."""
    from reram.config.presets import resolve_device
    from reram.errors import ConfigError
    from reram.pipeline.flows import device_for

    dev = dev if dev is not None else device_for(spec, resolve_device(cfg))
    if split == "validation":
        if splits.val_x is None:
            raise ConfigError("evaluating on the validation split needs data.val_size > 0")
        x, y = splits.val_x, splits.val_y
    elif split == "calibration":
        x, y = splits.calib_x, splits.calib_y
    else:
        x, y = splits.test_x, splits.test_y
    if samples is not None:
        x, y = x[:samples], y[:samples]
    seeds = [chip_seed(cfg.run.seed, c) for c in range(chips)]
    evals = evaluate_chips(cm, dev, x, y, seeds, splits.to_float(splits.calib_x),
                           bias_recal=spec.bias_recal or "bias_recalibration" in cm.passes, fit=cfg.calibration.fit,
                           batch_size=cfg.analog.batch_size, device=device, progress=progress, label=label,
                           calib_y=splits.calib_y)
    return Evaluation(compiled=cm, device=dev, chips=evals,
                      summary=summarize(evals) | {"passes": list(cm.passes), "test_images": len(y)})


def chip_seed(run_seed: int, chip: int) -> int:
    """Seed of chip ``chip`` of a run: distinct per chip and per run seed."""
    return int(run_seed) * 100_003 + int(chip)


@dataclass
class ChipEval:
    seed: int
    accuracy: float
    layer_stats: list[dict[str, float]]
    chip: Chip
    recal_residuals: dict[str, float] = field(default_factory=dict)
    recal: dict[str, object] = field(default_factory=dict)  # kept?, calibration-split accuracy before and after
    adc_samples: list[np.ndarray] = field(default_factory=list)
    predictions: np.ndarray | None = None


def evaluate_chips(cm: CompiledModel, dev: DeviceParams, test_x: np.ndarray, test_y: np.ndarray, seeds: list[int],
                   calib_x: np.ndarray | None = None, bias_recal: bool = False, fit: str = "gain_offset",
                   batch_size: int = 10000, device: str = "cpu", progress: bool = True,
                   label: str = "chips", calib_y: np.ndarray | None = None) -> list[ChipEval]:
    """Program one chip per seed, optionally re-calibrate its per-column gains and offsets, and measure test
    accuracy. With ``calib_y`` the re-calibration is kept per chip only when it raises the chip's accuracy on the
    calibration split (never the test split), and the choice is recorded."""
    from reram.analog.calibrate import bias_recalibration
    from reram.ir.ops import float_forward
    from reram.memory import release_free_memory
    from reram.progress import progress_bar

    out = []
    soft = float_forward(cm, calib_x) if bias_recal and calib_x is not None else None  # the same for every chip
    with progress_bar(label, progress, transient=True) as bar:
        task = bar.add_task(label, total=len(seeds))
        for seed in seeds:
            model = AnalogModel(cm, dev, seed=seed, device=device)
            resid: dict[str, float] = {}
            recal: dict[str, object] = {}
            if bias_recal:
                if calib_x is None:
                    raise ValueError("bias re-calibration needs calibration images")
                assert model.chip is not None
                before = calib_accuracy(model, calib_x, calib_y, seed) if calib_y is not None else None
                model.noise_gen.manual_seed(seed + 13)
                resid = bias_recalibration(cm, model.chip, dev, calib_x, fit, engine=model, soft=soft)
                model.set_chip(model.chip)
                if calib_y is not None:  # keep it only if it helps this chip on the calibration split
                    after = calib_accuracy(model, calib_x, calib_y, seed)
                    recal = {"kept": after >= before, "calib_accuracy_before": before, "calib_accuracy_after": after}
                    if after < before:
                        for cl in model.chip.layers:
                            cl.req_mult = cl.req_bias = None
                        model.set_chip(model.chip)
            model.eval()
            model.noise_gen.manual_seed(seed + 7)
            model.collect_stats(True)
            preds = model.predict(np.asarray(test_x), batch_size=batch_size)
            acc = float((preds == np.asarray(test_y)).mean())
            assert model.chip is not None
            samples = [np.concatenate(lay.stats.sample) if lay.stats.sample else np.zeros(0, np.float32)
                       for lay in model.layers]
            out.append(ChipEval(seed=seed, accuracy=acc, layer_stats=model.layer_stats(), chip=model.chip,
                                recal_residuals=resid, recal=recal, adc_samples=samples, predictions=preds))
            del model
            release_free_memory()  # the chip's engine buffers: not resident under the next chip's
            bar.advance(task)
    return out


def calib_accuracy(model: AnalogModel, calib_x: np.ndarray, calib_y: np.ndarray, seed: int) -> float:
    """Accuracy on the calibration split (images in [0, 1] or pixel codes), read noise seeded per chip."""
    model.eval()
    model.noise_gen.manual_seed(seed + 11)
    return model.evaluate(np.asarray(calib_x), np.asarray(calib_y))


def summarize(evals: list[ChipEval]) -> dict[str, object]:
    accs = np.array([e.accuracy for e in evals])
    n_layers = len(evals[0].layer_stats)
    per_layer = []
    for li in range(n_layers):
        sats = [e.layer_stats[li]["adc_saturation"] for e in evals]
        per_layer.append({"layer": evals[0].layer_stats[li]["layer"], "adc_saturation_mean": float(np.mean(sats)),
                          "adc_saturation_max": float(np.max(sats)),
                          "adc_conversions_per_chip": int(evals[0].layer_stats[li]["adc_conversions"])})
    return {
        "test_accuracy_mean": float(accs.mean()),
        "test_accuracy_std": float(accs.std(ddof=1)) if len(accs) > 1 else 0.0,
        "chips": len(evals),
        "chip_seeds": [e.seed for e in evals],
        "chip_accuracies": [float(a) for a in accs],
        "recalibration": [e.recal for e in evals] if any(e.recal for e in evals) else None,
        "layers": per_layer,
    }


def to_device(name: str) -> str:
    """The torch device of ``analog.device``; 'cuda' without a CUDA device is a clear error."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        from reram.errors import ConfigError

        raise ConfigError("analog.device = 'cuda' but torch sees no CUDA device (CPU build or no GPU); set "
                          "analog.device = \"cpu\" or \"auto\"")
    return name
