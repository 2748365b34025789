"""Work run in a worker process (the sensitivity sweeps, the ablation's second network) gives the same results as in
the main process; a job's error reaches the stage that takes it; stopping the pool abandons a running job."""

from __future__ import annotations

import logging
import operator
import time

import pytest

from reram.config import load_config
from reram.pipeline import execute
from reram.pipeline.background import Background, OnceFilter, resolved_workers


def test_workers_resolve():
    assert resolved_workers(1) == 1 and resolved_workers(3) == 3
    assert 1 <= resolved_workers(0) <= 2
    assert not Background(1, 1).enabled and Background(2, 1).enabled
    assert Background(1, 1).submit("x", operator.add, 1, 2) is False  # the caller computes it


def test_worker_warnings_reach_the_main_handlers_once():
    """A worker's log records go through the main process's handlers (not printed bare by the worker), and a warning
    the run has given already (the data banner a worker repeats when it loads the data) is not given again."""
    got: list[str] = []
    where: dict[str, str] = {}

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            got.append(record.getMessage())
            where[record.getMessage()] = record.processName

    logger = logging.getLogger("reram")
    handler = Collect()
    handler.addFilter(OnceFilter())  # as a run sets it up: one per handler
    logger.addHandler(handler)
    bg = Background(2, 1)
    try:
        logging.getLogger("reram.data.datasets").warning("FALLBACK DATA: a banner")  # a module's logger
        assert bg.submit("again", logger.warning, "FALLBACK DATA: a banner")
        assert bg.submit("own", logger.warning, "only the worker says this")
        time.sleep(8)  # the worker starts (torch imported) and runs both
        bg.take("again")
        bg.take("own")
    finally:
        bg.close()  # the records the worker sent are handled first
        logger.removeHandler(handler)
    assert got.count("FALLBACK DATA: a banner") == 1
    assert got.count("only the worker says this") == 1
    assert where["only the worker says this"] != "MainProcess"  # logged in the worker, handled here


def test_a_job_error_reaches_the_taker_and_close_stops_a_running_job():
    bg = Background(2, 1)
    try:
        assert bg.submit("ok", operator.add, 2, 3)
        time.sleep(5)  # the worker starts and runs it
        assert bg.take("ok") == 5
        assert bg.take("ok") is None and bg.submitted("ok")  # taken once; never started again
        bg.submit("bad", operator.truediv, 1, 0)
        time.sleep(1)
        with pytest.raises(ZeroDivisionError):
            bg.take("bad")
        # a job no worker has started runs in the taker's process: the worker is busy with the first
        bg.submit("long", time.sleep, 60)
        bg.submit("queued", operator.mul, 6, 7, inline=lambda: "inline")
        time.sleep(0.5)
        assert bg.take("queued") == "inline"
    finally:
        t0 = time.perf_counter()
        bg.close()
    assert time.perf_counter() - t0 < 10


@pytest.mark.slow
def test_results_do_not_depend_on_workers(tmp_path, small_cfg_overrides, caplog):
    caplog.set_level(logging.INFO, logger="reram")
    sets = [*small_cfg_overrides, "analog.chips=2", "calibration.ablation_chips=2", "calibration.finetune_iters=20",
            "analog.sensitivity_chips=1"]
    stages = ["data", "train", "compile", "analog", "calibrate", "sensitivity"]
    runs = {}
    for w in (1, 2):
        runs[w] = execute(load_config(None, [*sets, f"run.workers={w}"]), tmp_path, name=f"w{w}", stages=stages,
                          progress=False).metrics
    log = (tmp_path / "w2" / "run.log").read_text()
    assert "background job second_network: done in a worker process" in log
    assert log.count("background job sensitivity ") == 10  # 11 points, the run's own ADC and cell bits one point
    assert "background job" not in (tmp_path / "w1" / "run.log").read_text()
    a, b = runs[1], runs[2]
    assert a["meta"]["threads"]["workers"] == 1 and b["meta"]["threads"]["workers"] == 2
    assert len(a["calibration"]["ablation"]) == 9 and a["analog"]["sensitivity"]  # 7, the IR-drop row, 8
    for section in ("software", "analog", "calibration"):
        assert a[section] == b[section], section
    assert b["timing"]["sensitivity_seconds"] > 0 and b["timing"]["ablation_second_network_train_seconds"] > 0


def _gone(pid: int) -> bool:
    """No such process, or a zombie (exited, not yet reaped)."""
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.skipif(not __import__("pathlib").Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_a_worker_exits_when_its_main_process_is_killed():
    """A main process killed without a pool shutdown (SIGKILL) leaves no worker computing on."""
    import signal
    import subprocess
    import sys

    worker = ("import os, time; from reram.pipeline.background import _exit_with_parent; "
              "_exit_with_parent(os.getppid()); print(os.getpid(), flush=True); time.sleep(60)")
    main = (f"import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', {worker!r}], "
            "stdout=sys.stdout); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", main], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(proc.stdout.readline())
        assert not _gone(pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _gone(pid), "the worker outlived its main process"
    finally:
        proc.kill()
