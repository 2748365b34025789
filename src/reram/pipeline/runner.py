"""Runs the ordered stage list into a run folder, checkpointing metrics after each stage."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from reram.config import ReramConfig, load_config
from reram.errors import CosimMismatch, RunError, ToolchainError, ci_strict
from reram.memory import peak_rss_mb, release_free_memory

from .background import Background, OnceFilter
from .context import RunContext, run_folder, versions
from .stages import STAGES, stage_names, start_background, stop_rtl_jobs

log = logging.getLogger("reram")

RUN_MARKERS = ("config.toml", "metrics.json")


def threads_used(cfg: ReramConfig) -> dict[str, int]:
    """Thread counts: training's (``train.threads``), the other stages' (``run.threads``; their results do not
    depend on it, tests/hardening/test_threads.py), torch's intra-op threads they use, and the CPU count."""
    import os

    from reram.models.train import available_cores

    from .background import resolved_workers

    return {"train": cfg.train.threads or available_cores(), "run": cfg.run.threads,
            "torch_intra_op": cfg.run.threads or available_cores(), "cpu_count": os.cpu_count() or 1,
            "workers": resolved_workers(cfg.run.workers)}


def default_run_name() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def select_stages(requested: Sequence[str] | None) -> list[str]:
    names = stage_names()
    if not requested:
        return names
    bad = [s for s in requested if s not in names]
    if bad:
        raise RunError(f"unknown stage(s) {', '.join(bad)}; stages are: {', '.join(names)}")
    return [n for n in names if n in requested]


# What is running now, for the one-line message of an interrupt (Ctrl-C): run folder, run name, stage.
ACTIVE: dict[str, str] = {}


def _never_started(folder: Path) -> bool:
    """A folder left by a run that failed before its first stage completed: nothing in it is worth keeping."""
    names = {p.name for p in folder.iterdir() if not (p.name.startswith(".") and p.name.endswith(".tmp"))}
    if not names <= {"config.toml", "run.log", "metrics.json"} or "config.toml" not in names:
        return False
    if "metrics.json" in names:
        try:
            meta = json.loads((folder / "metrics.json").read_text()).get("meta", {})
        except (OSError, json.JSONDecodeError, AttributeError):
            return False
        return not meta.get("stages_completed")
    return True


def prepare_folder(folder: Path, force: bool, resume: bool) -> bool:
    """Make ``folder`` ready; True if this call created it (or took over a never-started one)."""
    if folder.exists() and any(folder.iterdir()) and not resume and _never_started(folder):
        shutil.rmtree(folder)  # a failed earlier attempt under this name: re-running it needs no --force
    if folder.exists() and any(folder.iterdir()):
        if resume:
            # temporary files of writes a killed run left behind (never renamed into place)
            for stale in folder.rglob(".*.tmp"):
                stale.unlink(missing_ok=True)
            return False
        if not force:
            raise RunError(f"run folder {folder} exists; pass --force to overwrite it, or --resume to continue it")
        if not any((folder / m).exists() for m in RUN_MARKERS):
            raise RunError(f"{folder} does not look like a reram run folder; refusing to overwrite it")
        shutil.rmtree(folder)
    elif resume:
        raise RunError(f"cannot resume: run folder {folder} does not exist")
    folder.mkdir(parents=True, exist_ok=True)
    return True


def attach_log(folder: Path) -> logging.Handler:
    handler = logging.FileHandler(folder / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("reram").addHandler(handler)
    return handler


def check_tool(stage, named: bool) -> None:
    """Raise the error of a tool ``stage`` needs and cannot find: a stage asked for by name (``named``) needs it;
    under ``CI=true`` any stage does (a skip is a failure there)."""
    missing = stage.missing_tool()
    if missing is None:
        return
    if not named:
        raise ToolchainError(f"CI=true: stage '{stage.name}' would be skipped: {missing}", fix=missing.fix)
    raise missing


def execute(
    cfg: ReramConfig | None,
    runs_dir: Path,
    name: str | None = None,
    stages: Sequence[str] | None = None,
    force: bool = False,
    resume: bool = False,
    data_dir: str | None = None,
    progress: bool = True,
    model_file: str | None = None,
) -> RunContext:
    """Run the selected stages. With ``resume``, the saved config is used and completed stages are skipped,
    unless ``stages`` names them explicitly (then exactly those run again)."""
    name = name or default_run_name()
    folder = run_folder(Path(runs_dir), name)
    created = prepare_folder(folder, force, resume)
    if resume:
        cfg = load_config(folder / "config.toml")
    assert cfg is not None
    ctx = RunContext(cfg=cfg, run_dir=folder, data_dir=data_dir, progress=progress, model_file=model_file)
    ctx.load_metrics()
    handler = attach_log(folder)
    # each warning once on the console and in run.log, whichever process or module gives it (a filter per handler:
    # those see the records of the package's modules too, which a filter on the logger would not)
    once = [(h, OnceFilter()) for h in logging.getLogger("reram").handlers]
    for h, f in once:
        h.addFilter(f)
    ACTIVE.clear()
    ACTIVE.update({"folder": str(folder), "name": name, "runs_dir": str(runs_dir), "stage": "setup"})
    completed: list[str] = []
    from reram.models.train import torch_threads

    try:
        ctx.write_config()
        meta = ctx.metrics["meta"]
        meta.update({"run_name": name, "seed": cfg.run.seed, "versions": versions(), "threads": threads_used(cfg)})
        completed = list(meta.get("stages_completed", [])) if resume else []
        selected = select_stages(stages or cfg.run.stages)
        explicit = set(selected) if (stages or cfg.run.stages) else set()  # named by --stages or run.stages
        skipped = dict(meta.get("stages_skipped") or {}) if resume else {}
        ctx.stages = tuple(selected)
        rerun = resume and bool(stages)  # --resume with --stages: run exactly those stages again
        ctx.metrics["timing"].setdefault("started_at", datetime.now().isoformat(timespec="seconds"))
        ctx.background = Background(cfg.run.workers, cfg.run.threads)
        todo = [s.name for s in STAGES if s.name in selected and not (resume and not rerun and s.name in completed)]
        for stage in STAGES:  # a stage named, or any stage under CI=true, fails for want of its tool before any runs
            if stage.name in todo and (stage.name in explicit or ci_strict()):
                check_tool(stage, stage.name in explicit)
        with torch_threads(cfg.run.threads):  # results do not depend on it (tests/hardening/test_threads.py)
            for stage in STAGES:
                if stage.name not in todo:
                    continue
                missing = stage.missing_tool()
                if missing is not None:
                    if stage.name in explicit or ci_strict():
                        check_tool(stage, stage.name in explicit)
                    skipped[stage.name] = {"reason": str(missing), "fix": missing.fix}
                    meta["stages_skipped"] = skipped
                    log.warning("stage %s skipped: %s", stage.name, missing)
                    ctx.save_metrics()
                    continue
                reason = stage.not_applicable(ctx)
                if reason is not None:
                    if stage.name in explicit:
                        raise RunError(f"stage '{stage.name}' does not apply: {reason}")
                    skipped[stage.name] = {"reason": reason, "fix": None}
                    meta["stages_skipped"] = skipped
                    log.warning("stage %s skipped: %s", stage.name, reason)
                    ctx.save_metrics()
                    continue
                skipped.pop(stage.name, None)
                meta["stages_skipped"] = skipped
                start_background(ctx, todo[todo.index(stage.name):])
                for need in stage.needs:
                    if not ctx.path(need).exists():
                        raise RunError(f"stage '{stage.name}' needs {need} in {folder}; run the stage that makes it")
                log.info("stage %s: start", stage.name)
                ACTIVE["stage"] = stage.name
                t0 = time.perf_counter()
                try:
                    stage.run(ctx)
                except CosimMismatch:
                    ctx.save_metrics()  # the mismatch counts are on record; the stage is not marked completed
                    raise
                except KeyboardInterrupt:  # into run.log only: the console gets the CLI's one line
                    handler.handle(log.makeRecord(log.name, logging.WARNING, __file__, 0, "stage %s: interrupted; "
                                                  "continue with 'reram run --resume %s'", (stage.name, name), None))
                    raise
                ctx.metrics["timing"][f"stage_{stage.name}_seconds"] = round(time.perf_counter() - t0, 3)
                if stage.name not in completed:
                    completed.append(stage.name)
                meta["stages_completed"] = [s for s in stage_names() if s in completed]
                ctx.save_metrics()
                release_free_memory()  # what the stage freed leaves the resident set before the next one starts
                log.info("stage %s: done (peak memory of this process %.0f MB)", stage.name, peak_rss_mb())
    except BaseException:
        if created and not completed:  # nothing done: leave no folder that would block a re-run
            logging.getLogger("reram").removeHandler(handler)
            handler.close()
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        if ctx.background is not None:
            ctx.background.close()
        stop_rtl_jobs(ctx)  # a synthesis or Verilator build the run did not wait for (it failed or ended first)
        for h, f in once:
            h.removeFilter(f)
        logging.getLogger("reram").removeHandler(handler)
        handler.close()
    ACTIVE.clear()  # kept on an exception, for the interrupt message
    return ctx
