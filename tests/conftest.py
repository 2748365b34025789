"""Shared fixtures. The dataset folder comes from $RERAM_DATA_DIR (``.ci/run`` exports it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _mnist_dir() -> Path | None:
    env = os.environ.get("RERAM_DATA_DIR")
    cands = [Path(env)] if env else []
    cands.append(REPO.parent / "shared" / "data" / "mnist")
    for c in cands:
        if (c / "train-images-idx3-ubyte.gz").exists() or (c / "train-images-idx3-ubyte").exists():
            return c
    return None


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    d = _mnist_dir()
    if d is None:
        pytest.skip("MNIST IDX files not found: set RERAM_DATA_DIR")
    return d


@pytest.fixture(scope="session")
def small_cfg_overrides() -> list[str]:
    """A small but real configuration: a subset of MNIST, few epochs."""
    return ["data.train_subset=6000", "data.test_subset=2000", "data.calib_size=1000", "train.epochs=3",
            "run.seed=1"]


@pytest.fixture(scope="session")
def small_run(tmp_path_factory, mnist_dir, small_cfg_overrides):
    """A run folder with the data and train stages done, shared by the tests of later stages."""
    from reram.config import load_config
    from reram.pipeline import execute

    runs = tmp_path_factory.mktemp("runs")
    cfg = load_config(None, small_cfg_overrides)
    return execute(cfg, runs, name="small", stages=["data", "train"], data_dir=str(mnist_dir), progress=False)
