"""The report's figures (matplotlib, Agg backend). Each function returns a PNG as bytes, or None if its data is
missing."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

plt.rcParams.update({"figure.dpi": 100, "font.size": 9, "axes.grid": True, "grid.alpha": 0.3})


# Layout problems found in the last figure saved (reram.report.layout); the report and its tests read them.
LAST_PROBLEMS: list[str] = []


def _png(fig) -> bytes:
    from .layout import layout_problems

    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})  # constrained layout: the figure fits as drawn
    LAST_PROBLEMS[:] = layout_problems(fig, drawn=True)  # the layout savefig drew, not a third draw
    plt.close(fig)
    return buf.getvalue()


def training_curves(history: list[dict]) -> bytes | None:
    if not history:
        return None
    ep = [h["epoch"] for h in history]
    fig, ax = plt.subplots(1, 2, figsize=(9, 3), layout="constrained")
    ax[0].plot(ep, [h["loss"] for h in history], marker="o")
    ax[0].set(xlabel="epoch", ylabel="training loss", yscale="log", title="loss")
    ax[1].plot(ep, [100 * h["train_accuracy"] for h in history], marker="o", label="train")
    ax[1].plot(ep, [100 * h["test_accuracy"] for h in history], marker="s", label="test")
    ax[1].set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    ax[1].legend()
    return _png(fig)


def ablation_bars(rows: list[dict], software: float | None) -> bytes | None:
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(rows) + 1.2), layout="constrained")
    labels = [r["step"] for r in rows]
    means = [100 * r["test_accuracy_mean"] for r in rows]
    stds = [100 * r["test_accuracy_std"] if r.get("chips", 1) > 1 else 0.0 for r in rows]
    ax.barh(range(len(rows)), means, xerr=stds, color="#4c72b0", capsize=3)
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    xlabel = "test accuracy (%), mean ± std over chips"
    if software is not None:  # named in the axis label: a legend would sit on the bars or their labels
        ax.axvline(100 * software, color="k", ls="--", lw=1)
        xlabel += f"; dashed line: software {100 * software:.2f} %"
    for i, (m, sd) in enumerate(zip(means, stds, strict=True)):
        ax.text(m + sd + 1.0, i, f"{m:.2f} %", va="center")  # right of the error bar
    ax.set(xlabel=xlabel, xlim=(0, 122), xticks=range(0, 101, 20))
    return _png(fig)


def sensitivity(sens: dict | None) -> bytes | None:
    if not sens:
        return None
    titles = {"program_sigma": ("programming σ (fraction of window)", 1), "adc_bits": ("ADC bits", 1),
              "cell_bits": ("cell bits", 1)}
    fig, axes = plt.subplots(1, len(sens), figsize=(4.2 * len(sens), 3), layout="constrained")
    for ax, (name, rows) in zip(np.atleast_1d(axes), sens.items(), strict=False):
        x = [r["value"] for r in rows]
        ax.errorbar(x, [100 * r["test_accuracy_mean"] for r in rows], yerr=[100 * r["test_accuracy_std"] for r in rows],
                    marker="o", capsize=3)
        ax.set(xlabel=titles.get(name, (name, 1))[0], ylabel="test accuracy (%)")
    return _png(fig)


def adc_histograms(samples: dict[str, np.ndarray], layers: list[dict], limits: list[tuple[int, int]]) -> bytes | None:
    if not samples:
        return None
    n = len(samples)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.2), layout="constrained")
    for i, ax in enumerate(np.atleast_1d(axes)):
        v = samples.get(f"layer{i}")
        if v is None or v.size == 0:
            continue
        lo, hi = limits[i]
        clipped = float(((v < lo - 0.5) | (v > hi + 0.5)).mean())
        ax.hist(np.clip(v, lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo)), bins=120, color="#55a868", log=True)
        ax.axvspan(lo - 0.5, hi + 0.5, color="#4c72b0", alpha=0.1, label="ADC range")
        ax.axvline(lo - 0.5, color="r", lw=1)
        ax.axvline(hi + 0.5, color="r", lw=1)
        name = layers[i]["layer"] if i < len(layers) else f"layer {i}"
        ax.set(title=f"{name}: {100 * clipped:.3f} % clipped", xlabel="pre-ADC value (LSB)", ylabel="count")
        ax.legend(loc="upper right")
    return _png(fig)


def conductances(target_us: np.ndarray, programmed_us: np.ndarray) -> bytes | None:
    if target_us.size == 0:
        return None
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    ax[0].hexbin(target_us, programmed_us, gridsize=60, bins="log", cmap="viridis")
    lim = [0, max(target_us.max(), programmed_us.max()) * 1.05]
    ax[0].plot(lim, lim, "r--", lw=1)
    ax[0].set(xlabel="target G (µS)", ylabel="programmed G (µS)", title="programmed vs target conductance")
    err = programmed_us - target_us
    ax[1].hist(err, bins=100, color="#c44e52")
    ax[1].set(xlabel="programming error (µS)", ylabel="cells", title=f"error σ = {err.std():.2f} µS")
    return _png(fig)


def ir_drop_columns(ir: dict | None) -> bytes | None:
    """Per-column attenuation of one programmed array under IR drop: the exact transfer matrix against the static
    first-order model."""
    att = (ir or {}).get("column_attenuation")
    if not att:
        return None
    fig, ax = plt.subplots(figsize=(9, 3), layout="constrained")
    for key, style in (("solve", "-"), ("approx", "--")):
        ax.plot(range(len(att[key])), att[key], style, label={"solve": "solved (exact transfer matrix)",
                                                              "approx": "static first-order model"}[key])
    ax.set(xlabel="physical column (G+ and G- interleaved; far from the drivers to the right)",
           ylabel="current / ideal", title=f"IR drop per column, first array of layer 0 ({ir['array']}, "
           f"{ir['wire_ohm_per_segment']:g} ohm per segment, every row driven)")
    ax.legend()
    return _png(fig)


def confusion(preds: np.ndarray, labels: np.ndarray) -> bytes | None:
    if preds.size == 0:
        return None
    k = int(max(preds.max(), labels.max())) + 1
    m = np.zeros((k, k), np.int64)
    np.add.at(m, (labels, preds), 1)
    fig, ax = plt.subplots(figsize=(7, 6.2), layout="constrained")
    ax.imshow(m, cmap="Blues")
    for i in range(k):
        for j in range(k):
            if m[i, j]:
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=9 if m[i, j] < 1000 else 8,
                        color="white" if m[i, j] > m.max() / 2 else "black")
    ax.set(xlabel="predicted", ylabel="true", title="analog confusion matrix (chip 0)", xticks=range(k),
           yticks=range(k))
    ax.grid(False)
    return _png(fig)


def energy_breakdown(energy: dict) -> bytes | None:
    if not energy:
        return None
    layers = energy["by_layer"]
    comps = list(layers[0]["energy_j"])
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained", width_ratios=(1, 1.15))
    bottom = np.zeros(len(layers))
    for c in comps:
        vals = np.array([1e9 * pl["energy_j"][c] for pl in layers])
        ax[0].bar([pl["layer"] for pl in layers], vals, bottom=bottom, label=c)
        bottom += vals
    ax[0].set(ylabel="nJ per inference", title="energy by layer and component")
    ax[0].legend(fontsize=7)
    tot = energy["by_component_j"]
    ax[1].barh(list(tot), [1e9 * v for v in tot.values()], color="#8172b2")
    ax[1].set(xlabel="nJ per inference", title="energy by component")
    return _png(fig)


def precision_sweep(energy: dict) -> bytes | None:
    """System TOPS/W and the energy shares of the components against input bits and ADC bits."""
    sens = (energy or {}).get("sensitivity") or {}
    sweeps = [(k, label) for k, label in (("input_bits", "input (DAC) bits"), ("adc_bits", "ADC bits"))
              if sens.get(k) and "shares" in sens[k][0]]
    if not sweeps:
        return None
    fig, ax = plt.subplots(2, len(sweeps), figsize=(5.2 * len(sweeps), 6.4), layout="constrained", squeeze=False)
    comps = [c for c in sens[sweeps[0][0]][0]["shares"] if any(r["shares"][c] > 0.005 for k, _ in sweeps
                                                                for r in sens[k])]
    colors = dict(zip(comps, plt.get_cmap("tab20").colors, strict=False))
    for j, (key, label) in enumerate(sweeps):
        rows = sens[key]
        xs = [r["value"] for r in rows]
        for b, style in (("system", "o-"), ("macro", "s--"), ("array", "^:")):
            ax[0, j].plot(xs, [r["tops_per_w"][b] for r in rows], style, label=f"{b} boundary")
        ax[0, j].set(xlabel=label, ylabel="TOPS/W (2 ops per MAC)", yscale="log", xticks=xs,
                     title=f"efficiency against {label} ({energy.get('input_mode', {}).get('mode', '')} inputs)")
        ax[0, j].legend(fontsize=7)
        bottom = np.zeros(len(rows))
        for c in comps:
            vals = np.array([100 * r["shares"][c] for r in rows])
            ax[1, j].bar([str(x) for x in xs], vals, bottom=bottom, label=c, color=colors[c])
            bottom += vals
        ax[1, j].bar([str(x) for x in xs], 100 - bottom, bottom=bottom, color="#bbbbbb",
                     label="other (< 0.5 % each)" if j == len(sweeps) - 1 else None)
        ax[1, j].set(xlabel=label, ylabel="% of system energy", ylim=(0, 100), title=f"component shares against "
                     f"{label}")
    ax[1, -1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _png(fig)


def tops_vs_baselines(energy: dict) -> bytes | None:
    if not energy:
        return None
    names, vals, colors, errs = [], [], [], []
    for b in energy["boundaries"]:
        names.append(f"this design ({b['boundary']} boundary)")
        vals.append(b["tops_per_w"])
        lo, hi = b["tops_per_w_range"]
        errs.append((b["tops_per_w"] - lo, hi - b["tops_per_w"]))
        colors.append("#4c72b0")
    for base in energy.get("baselines", []):
        if base["tops_per_w"]:
            names.append(f"{base['name']} (chip, vendor peak)")
            vals.append(base["tops_per_w"])
            errs.append((0, 0))
            colors.append("#dd8452")
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(names) + 1), layout="constrained")
    ax.barh(range(len(names)), vals, color=colors, xerr=np.array(errs).T, capsize=3)
    ax.set_yticks(range(len(names)), names)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set(xlabel="TOPS/W (2 ops per MAC; log scale)",
           title="efficiency; error bars: ADC energy band. Boundaries differ: see labels")
    return _png(fig)


def area_breakdown(energy: dict) -> bytes | None:
    if not energy:
        return None
    area = {k: v for k, v in energy["area_mm2"].items() if k != "total"}
    fig, ax = plt.subplots(figsize=(6, 2.8), layout="constrained")
    ax.barh(list(area), list(area.values()), color="#937860")
    ax.set(xscale="log", xlabel="mm² (log scale)", title=f"area: {energy['area_mm2']['total']:.3g} mm² in all")
    return _png(fig)


def save_png(path: Path, data: bytes) -> None:
    from reram.fsutil import atomic_write_bytes

    atomic_write_bytes(path, data)


def pareto(points: list[dict], front: list[int], cost: str, label: str) -> bytes | None:
    """Accuracy against a cost for every sweep point, with the Pareto front marked."""
    if not points:
        return None
    scale = 1e9 if cost.endswith("_j") else 1.0
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    xs = [scale * p[cost] for p in points]
    ys = [100 * p["test_accuracy_mean"] for p in points]
    ax.errorbar(xs, ys, yerr=[100 * p["test_accuracy_std"] for p in points], fmt="o", color="#999", capsize=2,
                label="sweep points")
    fr = sorted((p for p in points if p["point"] in front), key=lambda p: p[cost])
    ax.plot([scale * p[cost] for p in fr], [100 * p["test_accuracy_mean"] for p in fr], "o-", color="#c44e52",
            label="Pareto front")
    for p in fr:
        ax.annotate(", ".join(f"{k.split('.')[-1]}={v}" for k, v in p["params"].items()),
                    (scale * p[cost], 100 * p["test_accuracy_mean"]), fontsize=6, xytext=(3, 3),
                    textcoords="offset points")
    ax.set(xlabel=label, ylabel="test accuracy (%)", xscale="log", title=f"accuracy vs {label}")
    ax.legend()
    return _png(fig)
