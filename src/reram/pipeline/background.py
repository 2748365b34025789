"""Work of later stages that needs only the configuration, the data and the trained network, run in worker
processes while the main process runs the stages in order: the accuracy-sensitivity sweeps, and the ablation's
second network (trained the other way round with respect to ``train.hwa``, then compiled and evaluated).

A job runs the same function with the same seeds and torch thread count as the main process would, so its results
are the same wherever it runs (a test compares them); ``run.workers = 1`` computes everything in the main process.
Workers are spawned (a fresh interpreter: no forked torch state), ignore Ctrl-C (the main process stops them), and
are terminated when the run ends or fails.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import resource
import signal
import time
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any

log = logging.getLogger("reram")


def resolved_workers(workers: int) -> int:
    """``run.workers``: 0 means one process per CPU (at most 2: the main process and one worker)."""
    if workers > 0:
        return workers
    return max(1, min(2, os.cpu_count() or 1))


def _init_worker(threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the main process, which terminates the pool
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    logging.getLogger("reram").setLevel(logging.WARNING)


class Background:
    """A small pool of worker processes for independent jobs, keyed by name; :meth:`take` waits for a job's result
    (re-raising its error) or returns None when the job was not submitted here."""

    def __init__(self, workers: int, threads: int):
        self.workers = resolved_workers(workers)
        self.threads = threads
        self._pool: Pool | None = None
        self._jobs: dict[str, AsyncResult] = {}
        self._started: set[str] = set()

    @property
    def enabled(self) -> bool:
        return self.workers > 1

    def submit(self, key: str, fn, *args: Any) -> bool:
        """Start ``fn(*args)`` in a worker (``fn`` a module-level function, the arguments picklable); False when the
        run has no workers (the caller computes it itself)."""
        if not self.enabled:
            return False
        if self._pool is None:
            self._pool = mp.get_context("spawn").Pool(self.workers - 1, initializer=_init_worker,
                                                      initargs=(self.threads,))
        self._jobs[key] = self._pool.apply_async(fn, args)
        self._started.add(key)
        log.info("background job %s: started in a worker process", key)
        return True

    def submitted(self, key: str) -> bool:
        """Whether ``key`` was started here (taken or not)."""
        return key in self._started

    def take(self, key: str) -> Any | None:
        job = self._jobs.pop(key, None)
        if job is None:
            return None
        t0 = time.perf_counter()
        res = job.get()
        log.info("background job %s: done (waited %.1f s for it)", key, time.perf_counter() - t0)
        return res

    def close(self) -> None:
        """Stop the workers (a job still running is abandoned: the run has ended or failed)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        self._jobs.clear()


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------- jobs
def _splits(cfg, data_dir: str | None):
    from reram.data import splits_for_config

    return splits_for_config(cfg, data_dir, False)[1]


def sensitivity_job(cfg, data_dir: str | None, model_path: str) -> tuple[dict, float, float]:
    """The sensitivity stage's sweeps: (results, seconds, worker peak RSS in MB)."""
    from reram.analog.sensitivity import accuracy_sensitivity
    from reram.models import load_weights

    t0 = time.perf_counter()
    res = accuracy_sensitivity(load_weights(Path(model_path)), cfg, _splits(cfg, data_dir),
                               cfg.analog.sensitivity_chips, progress=False)
    return res, time.perf_counter() - t0, peak_rss_mb()


def second_network_job(cfg, data_dir: str | None, spec: dict) -> tuple[dict, float]:
    """The ablation's last row (:func:`reram.compile.ablation.second_network_row`): (row, worker peak RSS in MB)."""
    from reram.compile.ablation import second_network_row

    return second_network_row(cfg, _splits(cfg, data_dir), spec, progress=False), peak_rss_mb()
