"""Accuracy sensitivity: test accuracy against programming sigma, ADC bits and cell bits (mean, std over chips).

Each point recompiles the network for its parameters with the calibrated flow up to and including per-chip
bias re-calibration (fine-tuning is left out to keep a sweep to minutes; the ablation shows what it adds). Points
whose configurations are equal (the run's own ADC and cell bits) are computed once; the points are independent, so
the run computes them in its worker process and its main process at once (:mod:`reram.pipeline.background`).
"""

from __future__ import annotations

import json
import weakref

import numpy as np
from torch import nn

from reram.config import ReramConfig, load_config
from reram.ir.core import CompiledModel

SWEEPS: dict[str, tuple[str, list[float | int]]] = {
    "program_sigma": ("device.program_sigma", [0.0, 0.02, 0.05, 0.10]),
    "adc_bits": ("adc.bits", [4, 6, 8, 10]),
    "cell_bits": ("device.cell_bits", [2, 4, 6]),
}


def point_config(cfg: ReramConfig, name: str, value: float | int,
                 sweeps: dict[str, tuple[str, list[float | int]]] | None = None) -> ReramConfig:
    """The configuration of one sweep point: the run's, with the swept key set."""
    key = (sweeps or SWEEPS)[name][0]
    sets = [f"{key}={value}"]
    if name == "program_sigma":  # the constant-sigma model, so that sigma is the swept value
        sets.append('device.sigma_model="constant"')
    return load_config(None, sets, base=cfg.model_dump(mode="json"))


# the last point's compiled model: (a weak reference to its network, its compile key, the model)
_LAST_COMPILED: list[tuple[weakref.ref, str, CompiledModel]] = []


def sensitivity_point(model: nn.Module, cfg: ReramConfig, splits, name: str, value: float | int, chips: int,
                      progress: bool = False, sweeps: dict[str, tuple[str, list[float | int]]] | None = None) -> dict:
    """Test accuracy (mean, std over ``chips``) and ADC saturation at one sweep point. Points whose compiled model is
    the same (the programming-error sweep: the compiler reads the device's levels and window, not its noise) compile
    once: the last point's model is kept for the next."""
    from dataclasses import asdict

    from reram.config.presets import resolve_device
    from reram.pipeline.flows import FlowSpec, arch_from_config, compile_flow, device_for

    from .evaluate import measure

    pcfg = point_config(cfg, name, value, sweeps)
    spec = FlowSpec("sensitivity", bias_recal=True)
    dev = resolve_device(pcfg)
    key = json.dumps([pcfg.model_dump(mode="json", exclude={"device"}),
                      asdict(arch_from_config(pcfg, device_for(spec, dev)))], sort_keys=True, default=str)
    last = _LAST_COMPILED[0] if _LAST_COMPILED else None
    if last is not None and last[0]() is model and last[1] == key:
        cm = last[2]
    else:
        _LAST_COMPILED.clear()
        cm = compile_flow(model, pcfg, dev, spec, splits.to_float(splits.calib_x), seed=pcfg.run.seed,
                          progress=progress)
        _LAST_COMPILED.append((weakref.ref(model), key, cm))
    ev = measure(cm, pcfg, splits, spec, chips, progress=progress, label=f"{name}={value}",
                 samples=cfg.analog.sensitivity_samples)
    s = ev.summary
    return {"value": value, "test_accuracy_mean": s["test_accuracy_mean"], "test_accuracy_std": s["test_accuracy_std"],
            "chips": s["chips"], "test_images": s["test_images"],
            "adc_saturation": [ly["adc_saturation_mean"] for ly in s["layers"]]}  # type: ignore


def distinct_points(cfg: ReramConfig, sweeps: dict[str, tuple[str, list[float | int]]] | None = None
                    ) -> tuple[list[tuple[str, float | int]], dict[tuple[str, float | int], tuple[str, float | int]]]:
    """The sweep points to compute, and for every point the one computed for it: points whose configurations are
    equal (the run's own ADC bits and cell bits, e.g.) are computed once."""
    from reram.config.presets import resolve_device

    todo: list[tuple[str, float | int]] = []
    same: dict[tuple[str, float | int], tuple[str, float | int]] = {}
    seen: dict[str, tuple[str, float | int]] = {}
    for name, (_, values) in (sweeps or SWEEPS).items():
        for v in values:
            pcfg = point_config(cfg, name, v, sweeps)  # compared with its device resolved (preset or keys)
            resolved = pcfg.model_dump(mode="json", exclude={"device"}) | {"device": resolve_device(pcfg).to_dict()}
            key = json.dumps(resolved, sort_keys=True, default=str)
            if key not in seen:
                seen[key] = (name, v)
                todo.append((name, v))
            same[(name, v)] = seen[key]
    return todo, same


def assemble(results: dict[tuple[str, float | int], dict], same: dict, sweeps=None) -> dict[str, list[dict]]:
    """The sweeps' rows in order, a point computed once standing for its equals (with its own value)."""
    out: dict[str, list[dict]] = {}
    for name, (_, values) in (sweeps or SWEEPS).items():
        out[name] = [results[same[(name, v)]] | {"value": v} for v in values]
    return out


def accuracy_sensitivity(model: nn.Module, cfg: ReramConfig, splits, chips: int, progress: bool = True,
                         sweeps: dict[str, tuple[str, list[float | int]]] | None = None) -> dict[str, list[dict]]:
    todo, same = distinct_points(cfg, sweeps)
    results = {pt: sensitivity_point(model, cfg, splits, *pt, chips, progress, sweeps) for pt in todo}
    return assemble(results, same, sweeps)


ENERGY_SWEEPS = {"input_bits": ("dac.bits", [2, 4, 6, 8]), "adc_bits": ("adc.bits", [4, 6, 8, 10]),
          "cell_bits": ("device.cell_bits", [2, 4, 6]), "array_size": ("array.rows", [64, 128, 256])}


def energy_sensitivity(model, cfg, calib: np.ndarray, x_pixels: np.ndarray, preset) -> dict:
    """System TOPS/W, energy per inference and the component shares against input bits, ADC bits, cell bits and
    array size (the run's input mode; each point compiled on a noise-free chip)."""
    from reram.chip.device import noise_free
    from reram.chip.program import program_chip
    from reram.config import load_config
    from reram.config.presets import resolve_device
    from reram.energy.model import energy_report
    from reram.golden import pixel_codes
    from reram.pipeline.flows import FLOW_SPECS, compile_flow

    base = cfg.model_dump(mode="json")
    out: dict[str, list[dict]] = {}
    for name, (key, values) in ENERGY_SWEEPS.items():
        rows = []
        for v in values:
            if name == "input_bits" and v % cfg.dac.phases:
                continue  # integrating phases must divide the input bits
            sets = [f"{key}={v}"] + ([f"array.cols={v}"] if name == "array_size" else [])
            pcfg = load_config(None, sets, base=base)
            dev = noise_free(resolve_device(pcfg))
            cm = compile_flow(model, pcfg, dev, FLOW_SPECS["ideal"], calib, progress=False)
            chip = program_chip(cm, dev, seed=0)
            rep = energy_report(cm, chip, pixel_codes(cm, x_pixels), preset, pcfg.rtl)
            total = rep["energy_per_inference_j"]
            rows.append({"value": v, "tops_per_w": {b["boundary"]: b["tops_per_w"] for b in rep["boundaries"]},
                         "energy_per_inference_j": total,
                         "shares": {c: e / total for c, e in rep["by_component_j"].items()},
                         "area_mm2": rep["area_mm2"]["total"], "latency_s": rep["latency_s"]})
        out[name] = rows
    return out
