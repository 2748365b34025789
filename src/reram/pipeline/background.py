"""Work of later stages that needs only the configuration, the data and the trained network, run in worker
processes while the main process runs the stages in order: the points of the accuracy-sensitivity sweeps, and the
ablation's second network (trained the other way round with respect to ``train.hwa``, then compiled and evaluated).
A job no worker has started when its stage needs it runs in the main process instead.

A job runs the same function with the same seeds and torch thread count as the main process would, so its results
are the same wherever it runs (a test compares them); ``run.workers = 1`` computes everything in the main process.
Workers are spawned (a fresh interpreter: no forked torch state), ignore Ctrl-C (the main process stops them), and
are terminated when the run ends or fails. Their log records (warnings and worse) go through a queue to the main
process's handlers (console and run.log), where a warning the run has already given is not given again: a worker
that loads the data repeats the main process's data warnings, which the user reads once.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any

log = logging.getLogger("reram")


def resolved_workers(workers: int) -> int:
    """``run.workers``: 0 means one process per CPU (at most 2: the main process and one worker)."""
    if workers > 0:
        return workers
    return max(1, min(2, os.cpu_count() or 1))


_CLAIMS = None  # in a worker: the shared claim flags of the jobs (Background._claims)


def _init_worker(threads: int, claims, records) -> None:
    global _CLAIMS
    _CLAIMS = claims
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the main process, which terminates the pool
    import torch

    from reram.memory import tune_allocator

    tune_allocator()  # as the command line's process does

    if threads > 0:
        torch.set_num_threads(threads)
    logger = logging.getLogger("reram")
    logger.setLevel(logging.WARNING)
    logger.handlers[:] = [logging.handlers.QueueHandler(records)]  # to the main process's handlers
    logger.propagate = False
    _exit_with_parent(os.getppid())


def _exit_with_parent(parent: int) -> None:
    """A worker whose main process is gone (killed with SIGTERM or SIGKILL, no pool shutdown) exits within a second
    instead of computing on for nobody."""
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="reram-parent-watch", daemon=True).start()


class OnceFilter(logging.Filter):
    """Passes each distinct warning (or worse) once; other records always. On each handler of a run's ``reram``
    logger."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.levelno, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


class _ToLogger(logging.Handler):
    """The main process's end of the workers' record queue: each record through the ``reram`` logger (its filters
    and handlers), as if logged here."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger("reram").handle(record)


def _claimed(slot: int, fn, args: tuple) -> Any:
    """Run job ``slot`` in the worker unless the main process claimed it first (then nothing runs here)."""
    assert _CLAIMS is not None
    with _CLAIMS.get_lock():
        if _CLAIMS[slot]:
            return None
        _CLAIMS[slot] = 1
    return fn(*args)


class Background:
    """A small pool of worker processes for independent jobs, keyed by name. Workers take queued jobs in order;
    :meth:`take` returns a job's result: waiting for it when a worker has started it (re-raising its error), or
    running it in the main process (``inline``) when no worker has, so neither process idles while the other has
    work. None when the job was not submitted here."""

    MAX_JOBS = 256

    def __init__(self, workers: int, threads: int):
        self.workers = resolved_workers(workers)
        self.threads = threads
        self._pool: Pool | None = None
        self._claims = None
        self._jobs: dict[str, tuple[int, AsyncResult, Callable[[], Any]]] = {}
        self._started: set[str] = set()
        self._listener: logging.handlers.QueueListener | None = None

    @property
    def enabled(self) -> bool:
        return self.workers > 1

    def submit(self, key: str, fn, *args: Any, inline: Callable[[], Any] | None = None) -> bool:
        """Queue ``fn(*args)`` for a worker (``fn`` a module-level function, the arguments picklable); ``inline``
        computes the same result in the main process (default ``fn(*args)``). False when the run has no workers (the
        caller computes it itself)."""
        if not self.enabled or len(self._started) >= self.MAX_JOBS:
            return False
        if self._pool is None:
            ctx = mp.get_context("spawn")
            self._claims = ctx.Array("b", self.MAX_JOBS)
            records = ctx.Queue()
            self._listener = logging.handlers.QueueListener(records, _ToLogger())
            self._listener.start()
            self._pool = ctx.Pool(self.workers - 1, initializer=_init_worker,
                                  initargs=(self.threads, self._claims, records))
        slot = len(self._started)
        self._jobs[key] = (slot, self._pool.apply_async(_claimed, (slot, fn, args)),
                           inline if inline is not None else (lambda: fn(*args)))
        self._started.add(key)
        log.debug("background job %s: queued", key)
        return True

    def submitted(self, key: str) -> bool:
        """Whether ``key`` was queued here (taken or not)."""
        return key in self._started

    def take(self, key: str) -> Any | None:
        job = self._jobs.pop(key, None)
        if job is None:
            return None
        slot, res, inline = job
        assert self._claims is not None
        with self._claims.get_lock():
            mine = not self._claims[slot]
            if mine:
                self._claims[slot] = 2
        t0 = time.perf_counter()
        if mine:
            out = inline()
            log.info("background job %s: run in the main process (no worker had started it), %.1f s", key,
                     time.perf_counter() - t0)
            return out
        out = res.get()
        log.info("background job %s: done in a worker process (waited %.1f s for it)", key, time.perf_counter() - t0)
        return out

    def close(self) -> None:
        """Stop the workers (a job still running is abandoned: the run has ended or failed)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        if self._listener is not None:
            self._listener.stop()  # the records the workers sent are handled first
            self._listener = None
        self._jobs.clear()


# ---------------------------------------------------------------------------------------------- jobs
_SPLITS: dict[str, Any] = {}


def _splits(cfg, data_dir: str | None):
    """The run's splits, loaded once per worker process."""
    from reram.data import splits_for_config

    key = f"{data_dir}|{cfg.data.model_dump_json()}|{cfg.run.seed}"
    if key not in _SPLITS:  # jobs start after the data stage: what the main process could download, it has
        local = cfg.model_copy(update={"data": cfg.data.model_copy(update={"download": False})})
        _SPLITS[key] = splits_for_config(local, data_dir, False)[1]
    return _SPLITS[key]


_MODELS: dict[str, Any] = {}


def sensitivity_point_job(cfg, data_dir: str | None, model_path: str, name: str, value: float | int) -> dict:
    """One point of the sensitivity stage's sweeps (:func:`reram.pipeline.sensitivity.sensitivity_point`)."""
    from reram.models import load_weights
    from reram.pipeline.sensitivity import sensitivity_point

    if model_path not in _MODELS:
        _MODELS[model_path] = load_weights(Path(model_path))
    return sensitivity_point(_MODELS[model_path], cfg, _splits(cfg, data_dir), name, value,
                             cfg.analog.sensitivity_chips)


def second_network_job(cfg, data_dir: str | None, spec: dict) -> dict:
    """The ablation's last row (:func:`reram.pipeline.ablation.second_network_row`)."""
    from reram.pipeline.ablation import second_network_row

    return second_network_row(cfg, _splits(cfg, data_dir), spec, progress=False)
