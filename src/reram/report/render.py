"""``report.html``: self-contained (images embedded as base64, no network resources), with PNGs alongside."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import jinja2
import numpy as np

from reram.fsutil import atomic_write_json, atomic_write_text
from reram.ir.rules import adc_limits

from . import plots
from .fmt import band, mean_spread

log = logging.getLogger("reram")


def _summary(m: dict) -> list[tuple[str, str, str, str]]:
    """(stage, figure, value, anchor) rows of the report's summary table, for the sections the run has."""
    sec = {k: m.get(k) or {} for k in ("software", "analog", "cosim", "synth", "energy")}
    ds, sp = m["meta"].get("dataset", {}), m["meta"].get("splits", {})
    an, co, sy, en = sec["analog"], sec["cosim"], sec["synth"], sec["energy"]
    rows: list[tuple[str, str, str, str]] = []
    if ds:
        sizes = ", ".join(f"{k} {v}" for k, v in sp.items())
        rows.append(("data", "dataset", f"{'FALLBACK ' if ds.get('fallback') else ''}{ds.get('name')} ({sizes})",
                     "dataset"))
    if "test_accuracy" in sec["software"]:
        rows.append(("software", "test accuracy", f"{100 * sec['software']['test_accuracy']:.2f} %", "sw-acc"))
    if "test_accuracy_mean" in an:
        rows.append(("analog", f"test accuracy, {an['chips']} chips",
                     mean_spread(an["test_accuracy_mean"], an["test_accuracy_std"], an["chips"]), "analog-acc"))
    rows += [(name, "skipped", sk["reason"], f"sum-skipped-{name}")
             for name, sk in (m["meta"].get("stages_skipped") or {}).items()]
    if "mismatched_codes" in co:
        rows += [("cosim", f"mismatching codes, {co['samples']} samples",
                  f"{co['mismatched_codes']} of {co['compared_codes']}", "match"),
                 ("cosim", "latency / initiation interval", f"{co['latency_cycles']} / {co['ii_cycles']} cycles",
                  "cycles")]
    if "cells" in sy:
        rows.append(("synth", "digital periphery: cells, latches", f"{sy['cells']:,}, {sy['latches']}", "synth"))
    rows += [("energy", f"TOPS/W, {b['boundary']} boundary, 2 ops/MAC", f"{b['tops_per_w']:.3g}",
              f"sum-tops-{b['boundary']}") for b in en.get("boundaries", [])]
    if "energy_per_inference_j" in en:
        rows.append(("energy", "energy per inference (system)", f"{1e9 * en['energy_per_inference_j']:.3g} nJ",
                     "energy"))
    return rows


def _conductance_data(run_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    from reram.chip.program import load_chip
    from reram.ir import CompiledModel
    from reram.ir.rules import target_codes

    try:
        cm = CompiledModel.load(run_dir / "compiled")
        chip = load_chip(run_dir / "chip0.npz", cm)
    except Exception:  # a missing stage: the section says so
        return np.zeros(0), np.zeros(0)
    layer = cm.layers[0]
    tp, _ = target_codes(layer, cm.arch)
    g = chip.layers[0].g_pos
    rng = np.random.default_rng(0)
    idx = rng.choice(g.size, size=min(g.size, 50000), replace=False)
    to_us = cm.arch.g_lsb * 1e6
    return tp.numpy().ravel()[idx] * to_us, g.ravel()[idx] * to_us


def render_report(run_dir: Path, metrics: dict, config_toml: str) -> Path:
    run_dir = Path(run_dir)
    out_dir = run_dir / "report"
    images: dict[str, str] = {}
    problems: dict[str, list[str]] = {}

    def add(name: str, png: bytes | None) -> None:
        if png:
            plots.save_png(out_dir / f"{name}.png", png)
            images[name] = base64.b64encode(png).decode()
            if plots.LAST_PROBLEMS:
                problems[name] = list(plots.LAST_PROBLEMS)
                log.warning("report figure %s: %s", name, "; ".join(plots.LAST_PROBLEMS))

    sw = metrics.get("software", {})
    an = metrics.get("analog", {})
    cal = metrics.get("calibration", {})
    en = metrics.get("energy", {})
    add("training", plots.training_curves(sw.get("history", [])))
    add("ablation", plots.ablation_bars(cal.get("ablation") or [], sw.get("test_accuracy")))
    add("sensitivity", plots.sensitivity(an.get("sensitivity")))
    samples: dict[str, np.ndarray] = {}
    if (run_dir / "adc_samples.npz").exists():
        with np.load(run_dir / "adc_samples.npz", allow_pickle=False) as z:
            samples = {k: z[k] for k in z.files}
        b = int(cal.get("adc_bits", 8))
        limits = [adc_limits(b, bool(ly.get("adc_signed", True))) for ly in cal.get("layers", [])]
        add("adc", plots.adc_histograms(samples, cal.get("layers", []), limits))
    add("conductance", plots.conductances(*_conductance_data(run_dir)))
    add("irdrop", plots.ir_drop_columns(an.get("ir_drop")))
    if (run_dir / "analog_predictions.npz").exists():
        with np.load(run_dir / "analog_predictions.npz", allow_pickle=False) as z:
            add("confusion", plots.confusion(z["predictions"], z["labels"]))
    add("energy", plots.energy_breakdown(en))
    add("tops", plots.tops_vs_baselines(en))
    add("precision", plots.precision_sweep(en))
    add("area", plots.area_breakdown(en))
    env = jinja2.Environment(loader=jinja2.PackageLoader("reram.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.ChainableUndefined)
    env.filters["mean_spread"] = lambda r: mean_spread(r["test_accuracy_mean"], r["test_accuracy_std"], r["chips"])
    env.filters["band"] = band
    from reram.chip.figures import CITATIONS

    refs = {f"[{k}]": v for k, v in CITATIONS.items()}
    used: dict[str, str] = {}

    def cite(text: str) -> str:  # a long citation once, under References; its key where it is used
        for key, full in refs.items():
            if full in text:
                used[key] = full
                text = text.replace(full, key)
        return text

    env.filters["cite"] = cite
    env.globals["references"] = used
    html = env.get_template("report.html").render(
        run_name=metrics["meta"].get("run_name", run_dir.name), seed=metrics["meta"].get("seed"),
        versions=metrics["meta"].get("versions", {}), dataset=metrics["meta"].get("dataset", {}),
        summary=_summary(metrics), images=images, software=sw, analog=an, calibration=cal,
        cosim=metrics.get("cosim", {}), synth=metrics.get("synth", {}), energy=en, config_toml=config_toml,
        followups=metrics.get("followups") or {}, timing=metrics.get("timing", {}),
        skipped=metrics["meta"].get("stages_skipped") or {},
    )
    path = run_dir / "report.html"
    atomic_write_text(path, html)
    atomic_write_json(out_dir / "layout.json", problems)  # overlaps found per figure (the tests require none)
    return path
