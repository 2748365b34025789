"""RTL test fixtures. RTL tests skip, with the reason, where Verilator or a C++ compiler is missing (under CI=true
they fail instead)."""

from __future__ import annotations

import numpy as np
import pytest

from reram.errors import ToolchainError
from reram_testing import missing


@pytest.fixture(scope="session")
def toolchain():
    from reram.rtl.build import find_toolchain

    try:
        return find_toolchain()
    except ToolchainError as e:
        missing(f"RTL toolchain missing: {e}")


@pytest.fixture(scope="session")
def rtl_case(build, mnist_small, toolchain):
    """rtl_case(*sets) -> (cm, chip, x_codes, labels): the small_run model compiled with ``sets`` on a chip
    with programming variation, calibrated per chip."""
    from dataclasses import replace

    from reram.analog.calibrate import bias_recalibration
    from reram.chip.device import noise_free
    from reram.chip.program import program_chip
    from reram.golden import pixel_codes

    def _case(*sets: str):
        _, dev, cm = build(*sets)
        dev = replace(noise_free(dev), program_sigma=0.03, sigma_model="constant")
        chip = program_chip(cm, dev, seed=11)
        bias_recalibration(cm, chip, dev, mnist_small["calib"][:200])
        x = pixel_codes(cm, mnist_small["test_x"][:40])
        return cm, chip, x, np.asarray(mnist_small["test_y"][:40])

    return _case
