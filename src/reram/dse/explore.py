"""``reram explore``: multi-objective search (Optuna NSGA-II) over ranges of configuration keys.

Objectives: validation accuracy (maximize, mean over chips), energy per inference (minimize) and area (minimize).
The validation split (``data.val_size`` images of the training file, 5000 if unset) is disjoint from the training,
calibration and test images; the trained model never sees it. Test accuracy is measured only for the final Pareto
front, so the front is chosen without looking at test data.
Studies live in Optuna's storage (SQLite in the run folder by default, or any RDB URL), so a stopped study resumes
by running the same command again. Each trial is evaluated like a sweep point (shared trained model, calibrated
flow up to per-chip bias re-calibration), in batches on the local process pool or on Ray.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reram.config import ReramConfig, load_config
from reram.errors import ConfigError
from reram.fsutil import atomic_write_text
from reram.progress import progress_bar

from .sweep import SweepPoint, ensure_model, execute_points

EXPLORE_VAL_SIZE = 5000  # validation images held out of the training file when data.val_size is unset


@dataclass(frozen=True)
class ParamRange:
    key: str
    kind: str  # int, float, log, cat
    low: float | None = None
    high: float | None = None
    choices: tuple[object, ...] = ()


def parse_param(spec: str, base: ReramConfig) -> ParamRange:
    """``key=int:LOW:HIGH``, ``key=float:LOW:HIGH``, ``key=log:LOW:HIGH`` or ``key=cat:A,B,C``; every bound and
    choice is validated like a ``--set`` value."""
    from reram.config import parse_set_value

    if "=" not in spec or ":" not in spec.split("=", 1)[1]:
        raise ConfigError(f"--param {spec!r}: expected key=int:LOW:HIGH, float:LOW:HIGH, log:LOW:HIGH or cat:A,B")
    key, rest = spec.split("=", 1)
    kind, _, vals = rest.partition(":")
    key = key.strip()
    if kind == "cat":
        choices = tuple(parse_set_value(v.strip()) for v in vals.split(",") if v.strip())
        values: list[object] = list(choices)
        pr = ParamRange(key, kind, choices=choices)
    elif kind in ("int", "float", "log"):
        try:
            lo, hi = (float(v) for v in vals.split(":"))
        except ValueError:
            raise ConfigError(f"--param {spec!r}: bounds must be two numbers LOW:HIGH") from None
        if lo >= hi:
            raise ConfigError(f"--param {spec!r}: LOW must be below HIGH")
        values = [int(lo), int(hi)] if kind == "int" else [lo, hi]
        pr = ParamRange(key, kind, lo, hi)
    else:
        raise ConfigError(f"--param {spec!r}: unknown kind {kind!r} (int, float, log, cat)")
    base_dump = base.model_dump(mode="json")
    for v in values:
        load_config(None, [f"{key}={json.dumps(v) if isinstance(v, str) else v}"], base=base_dump, option="--param")
    return pr


def run_explore(cfg: ReramConfig, params: list[str], folder: Path, trials: int, chips: int,
                storage: str | None = None, data_dir: str | None = None, seed: int = 0,
                progress: bool = True, backend: str = "local", workers: int | None = None,
                address: str | None = None) -> dict:
    """Run (or resume) a study. Trials are asked in batches of ``workers`` and evaluated on the sweep's execution
    backend (local process pool or Ray), then told to the study."""
    import os

    import optuna

    if cfg.data.val_size == 0:  # selection needs a validation split
        cfg = load_config(None, [f"data.val_size={EXPLORE_VAL_SIZE}"], base=cfg.model_dump(mode="json"))
    ranges = [parse_param(p, cfg) for p in params]
    if not ranges:
        raise ConfigError("give at least one --param to explore")
    folder.mkdir(parents=True, exist_ok=True)
    storage = storage or f"sqlite:///{(folder / 'study.db').resolve()}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(study_name=folder.name, storage=storage, load_if_exists=True,
                                    directions=["maximize", "minimize", "minimize"],
                                    sampler=optuna.samplers.NSGAIISampler(seed=seed))
    except Exception as e:  # bad URL, unreachable database
        raise ConfigError(f"--storage {storage!r}: cannot open the study ({type(e).__name__}: {e})") from None
    model_path = ensure_model(cfg, folder / "cache", data_dir, progress)
    base = cfg.model_dump(mode="json")

    def suggest(trial: optuna.Trial) -> SweepPoint:
        settings = []
        for r in ranges:
            if r.kind == "int":
                v: object = trial.suggest_int(r.key, int(r.low), int(r.high))  # type: ignore[arg-type]
            elif r.kind in ("float", "log"):
                v = trial.suggest_float(r.key, r.low, r.high, log=r.kind == "log")  # type: ignore[arg-type]
            else:
                v = trial.suggest_categorical(r.key, list(r.choices))  # type: ignore[arg-type]
            settings.append((r.key, v))
        return SweepPoint(trial.number, tuple(settings))

    batch = max(1, workers or os.cpu_count() or 1)
    with progress_bar("explore (trials)", progress) as bar:
        task = bar.add_task("explore", total=trials)
        while True:
            done = len([t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE])
            bar.update(task, completed=min(done, trials))
            if done >= trials:
                break
            asked = {}
            for _ in range(min(batch, trials - done)):
                trial = study.ask()
                asked[trial.number] = trial
            jobs = [(suggest(t), base, str(model_path), data_dir, chips, "validation") for t in asked.values()]
            for rows in execute_points(jobs, backend, min(batch, len(jobs)), address):
                trial = asked[int(rows[0]["point"])]
                accs = [float(r["test_accuracy"]) for r in rows]  # the worker's accuracy, here on validation
                trial.set_user_attr("chip_accuracies_validation", accs)
                study.tell(trial, (sum(accs) / len(accs), float(rows[0]["energy_per_inference_j"]),
                                   float(rows[0]["area_mm2"])))
    front = study.best_trials
    points = {t.number: SweepPoint(t.number, tuple((r.key, t.params[r.key]) for r in ranges)) for t in front}
    test_acc: dict[int, float] = {}
    jobs = [(points[t.number], base, str(model_path), data_dir, chips, "test") for t in front]
    for rows in execute_points(jobs, backend, max(1, min(batch, len(jobs))), address):  # the final front only
        test_acc[int(rows[0]["point"])] = sum(float(r["test_accuracy"]) for r in rows) / len(rows)
    result = {
        "study": folder.name, "storage": storage, "trials": len(study.trials),
        "selection": f"validation split of {cfg.data.val_size} training-file images (disjoint from train, "
                     "calibration and test); test accuracy measured for the final front only",
        "pareto": [{"trial": t.number, "params": t.params, "validation_accuracy": t.values[0],
                    "test_accuracy": test_acc[t.number], "energy_per_inference_j": t.values[1],
                    "area_mm2": t.values[2]} for t in front],
    }
    atomic_write_text(folder / "explore.json", json.dumps(result, indent=2))
    return result
