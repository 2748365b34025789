"""``reram sweep``: every point of a grid of configuration keys (the same dotted paths as ``--set``, validated
the same way) is compiled, calibrated per chip, evaluated on the test set over N chips, and costed (energy,
area, analytic latency). Results are a tidy CSV (one row per point and chip) written atomically after every
point, so a crashed sweep resumes without redoing finished points. Points that share a trained model reuse it:
the model is keyed by a content hash of the data, model, training and seed settings.

Each point uses the calibrated flow up to per-chip least-squares bias re-calibration; hardware-aware
fine-tuning is left out to keep a point to seconds (the run's ablation shows what it adds).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reram.config import ReramConfig, load_config, parse_set_value
from reram.errors import ConfigError
from reram.fsutil import atomic_write_text

log = logging.getLogger("reram")

COLUMNS = ("point", "chip", "chip_seed", "test_accuracy", "energy_per_inference_j", "tops_per_w_system",
           "area_mm2", "latency_s", "params")


@dataclass(frozen=True)
class SweepPoint:
    index: int
    settings: tuple[tuple[str, object], ...]

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.settings, default=str).encode()).hexdigest()[:12]

    def overrides(self) -> list[str]:
        return [f"{k}={json.dumps(v) if isinstance(v, str) else v}" for k, v in self.settings]


def parse_grid(grid: list[str], base: ReramConfig) -> dict[str, list[object]]:
    """``key=v1,v2,...`` entries -> values per key, each checked against the configuration schema."""
    out: dict[str, list[object]] = {}
    for g in grid:
        if "=" not in g:
            raise ConfigError(f"--grid {g!r}: expected section.key=value1,value2")
        key, raw = g.split("=", 1)
        values = [parse_set_value(v.strip()) for v in raw.split(",") if v.strip()]
        if not values:
            raise ConfigError(f"--grid {g!r}: no values")
        for v in values:  # validated exactly as --set validates
            load_config(None, [f"{key.strip()}={json.dumps(v) if isinstance(v, str) else v}"],
                        base=base.model_dump(mode="json"), option="--grid")
        out[key.strip()] = values
    return out


def expand_grid(grid: dict[str, list[object]]) -> list[SweepPoint]:
    keys = list(grid)
    return [SweepPoint(i, tuple(zip(keys, combo, strict=True)))
            for i, combo in enumerate(itertools.product(*(grid[k] for k in keys)))]


def model_key(cfg: ReramConfig) -> str:
    """Content hash of everything the trained model depends on."""
    blob = json.dumps({s: cfg.model_dump(mode="json")[s] for s in ("data", "model", "train")} | {"seed": cfg.run.seed},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _evaluate_point(args: tuple) -> list[dict]:
    """Worker: one grid point, all its chips. Runs in a separate process."""
    point, base_dump, model_path, data_dir, chips, *rest = args
    split = rest[0] if rest else "test"  # reram explore selects on "validation" and scores its front on "test"
    import torch

    torch.set_num_threads(1)
    from reram.data import splits_for_config
    from reram.energy import energy_report, resolve_preset
    from reram.golden import pixel_codes
    from reram.models import load_weights
    from reram.pipeline.evaluate import evaluate
    from reram.pipeline.flows import FlowSpec

    cfg = load_config(None, point.overrides(), base=base_dump)
    _, sp = splits_for_config(cfg, data_dir, progress=False)
    ev = evaluate(load_weights(Path(model_path)), cfg, sp, FlowSpec("sweep", bias_recal=True), chips, split=split)
    cm, evals = ev.compiled, ev.chips
    rep = energy_report(cm, evals[0].chip, pixel_codes(cm, sp.test_x[: min(200, len(sp.test_x))]),
                        resolve_preset(cfg.energy), cfg.rtl)
    system = rep["boundaries"][-1]
    return [{"point": point.index, "chip": c, "chip_seed": e.seed, "test_accuracy": e.accuracy, "split": split,
             "energy_per_inference_j": rep["energy_per_inference_j"], "tops_per_w_system": system["tops_per_w"],
             "area_mm2": rep["area_mm2"]["total"], "latency_s": rep["latency_s"],
             "params": json.dumps(dict(point.settings), default=str)} for c, e in enumerate(evals)]


def _read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        if set(r) != set(COLUMNS) or not (r["point"] or "").isdigit() or not (r["chip"] or "").isdigit():
            raise ConfigError(f"{path}: not a results table of this sweep; delete it to restart the sweep")
    return rows


def _write_rows(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS)
    w.writeheader()
    for r in sorted(rows, key=lambda r: (int(r["point"]), int(r["chip"]))):
        w.writerow({k: r[k] for k in COLUMNS})  # "test_accuracy": a sweep evaluates on the test split
    atomic_write_text(path, buf.getvalue())


def ensure_model(cfg: ReramConfig, cache: Path, data_dir: str | None, progress: bool) -> Path:
    """Train (once per content hash) the model the sweep points share."""
    from reram.data import splits_for_config
    from reram.models import save_weights, spec_from_config, train_model

    path = cache / f"model-{model_key(cfg)}.safetensors"
    if path.exists():
        return path
    ds, sp = splits_for_config(cfg, data_dir, progress)
    spec = spec_from_config(cfg.model, (1, *ds.train_images.shape[1:]), int(ds.train_labels.max()) + 1)
    res = train_model(sp.train_x, sp.train_y, sp.test_x, sp.test_y, cfg.model, cfg.train, cfg.run.seed,
                      progress=progress, spec=spec)
    save_weights(res.model, path, spec)
    return path


def run_sweep(cfg: ReramConfig, grid: list[str], folder: Path, chips: int, data_dir: str | None = None,
              workers: int | None = None, progress: bool = True, backend: str = "local",
              address: str | None = None) -> list[dict]:
    """Run (or resume) a sweep into ``folder``: ``results.csv``, ``pareto.json``, plots, ``report.html``.

    ``backend``: ``local`` (a process pool on this machine) or ``ray`` (Ray's scheduler and object store; with no
    ``address`` a local Ray instance is started on the loopback interface).
    """
    if backend not in ("local", "ray"):
        raise ConfigError(f"--backend {backend!r}: use 'local' or 'ray'")
    from reram.progress import progress_bar

    points = expand_grid(parse_grid(grid, cfg))
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"grid": grid, "chips": chips, "base": cfg.model_dump(mode="json")}
    spec_path = folder / "sweep.json"
    if spec_path.exists() and json.loads(spec_path.read_text()) != spec:
        raise ConfigError(f"{folder} holds a different sweep; use another --name or delete it")
    atomic_write_text(spec_path, json.dumps(spec, indent=2))
    csv_path = folder / "results.csv"
    rows = _read_rows(csv_path)
    done = {int(r["point"]) for r in rows}
    todo = [p for p in points if p.index not in done]
    model_path = ensure_model(cfg, folder / "cache", data_dir, progress)
    base = cfg.model_dump(mode="json")
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    jobs = [(p, base, str(model_path), data_dir, chips) for p in todo]
    with progress_bar("sweep (points)", progress) as bar:
        task = bar.add_task("sweep", total=len(points), completed=len(points) - len(todo))
        for point_rows in execute_points(jobs, backend, n_workers, address):
            rows += [{k: str(v) for k, v in r.items()} for r in point_rows]
            _write_rows(csv_path, rows)  # a crash loses at most the points in flight
            bar.advance(task)
    summary = summarize(rows)
    atomic_write_text(folder / "pareto.json", json.dumps(summary, indent=2))
    images = plot_pareto(summary, folder)
    render_sweep_report(folder, summary, images, grid, chips, cfg.energy.preset_file or cfg.energy.preset)
    return rows


def execute_points(jobs: list[tuple], backend: str, workers: int, address: str | None):
    """Yield each job's rows as it finishes, on a local process pool or on Ray."""
    if not jobs:
        return
    if backend == "local":
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            yield from pool.map(_evaluate_point, jobs)
        return
    try:
        import ray
    except ImportError:
        raise ConfigError("the Ray backend needs Ray: pip install -e '.[cluster]'") from None
    started = not ray.is_initialized()
    if started:
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:  # a local instance, reachable on loopback only
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                         _node_ip_address="127.0.0.1")
        except Exception as e:
            raise ConfigError(f"--address {address!r}: cannot connect to Ray ({type(e).__name__}: {e})") from None
    try:
        remote = ray.remote(num_cpus=1)(_evaluate_point)
        pending = [remote.remote(job) for job in jobs]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            yield ray.get(ready[0])
    finally:
        if started:
            ray.shutdown()


def summarize(rows: list[dict]) -> dict:
    by_point: dict[int, list[dict]] = {}
    for r in rows:
        by_point.setdefault(int(r["point"]), []).append(r)
    points = []
    for idx, rs in sorted(by_point.items()):
        acc = np.array([float(r["test_accuracy"]) for r in rs])
        points.append({"point": idx, "params": json.loads(rs[0]["params"]), "chips": len(rs),
                       "test_accuracy_mean": float(acc.mean()),
                       "test_accuracy_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                       "energy_per_inference_j": float(rs[0]["energy_per_inference_j"]),
                       "area_mm2": float(rs[0]["area_mm2"]), "latency_s": float(rs[0]["latency_s"]),
                       "tops_per_w_system": float(rs[0]["tops_per_w_system"])})
    return {"points": points,
            "pareto_energy": pareto_front(points, "energy_per_inference_j"),
            "pareto_area": pareto_front(points, "area_mm2")}


def pareto_front(points: list[dict], cost: str) -> list[int]:
    """Indices of the points no other point beats on both accuracy (higher) and ``cost`` (lower)."""
    front = []
    for p in points:
        dominated = any(q["test_accuracy_mean"] >= p["test_accuracy_mean"] and q[cost] <= p[cost]
                        and (q["test_accuracy_mean"] > p["test_accuracy_mean"] or q[cost] < p[cost])
                        for q in points)
        if not dominated:
            front.append(p["point"])
    return front


def plot_pareto(summary: dict, folder: Path) -> dict[str, bytes]:
    from reram.report import plots

    out = {}
    for kind, cost, label in (("energy", "energy_per_inference_j", "energy per inference (nJ)"),
                              ("area", "area_mm2", "area (mm²)")):
        png = plots.pareto(summary["points"], summary[f"pareto_{kind}"], cost, label)
        if png:
            plots.save_png(folder / f"pareto_{kind}.png", png)
            out[kind] = png
    return out


def render_sweep_report(folder: Path, summary: dict, images: dict[str, bytes], grid: list[str], chips: int,
                        preset: str) -> Path:
    """``report.html`` of the sweep: Pareto plots and the table of points (self-contained)."""
    import base64

    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("reram.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]))
    html = env.get_template("sweep.html").render(
        name=folder.name, chips=chips, grid=grid, preset=preset, points=summary["points"],
        pareto_energy=summary["pareto_energy"], pareto_area=summary["pareto_area"],
        images={k: base64.b64encode(v).decode() for k, v in images.items()})
    path = folder / "report.html"
    atomic_write_text(path, html)
    return path
