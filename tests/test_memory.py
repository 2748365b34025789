"""The allocator settings of the command line's process: large buffers are reused, not mapped and zeroed afresh."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = """
import resource, sys
import numpy as np
from reram.memory import release_free_memory, tune_allocator
if sys.argv[1] == "tuned":
    assert tune_allocator()
a = np.ones(1 << 25); del a  # 256 MB, freed
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    a = np.ones(1 << 25); del a
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
release_free_memory()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_tuned_allocator_reuses_large_buffers():
    faults = {}
    for mode in ("default", "tuned"):
        out = subprocess.run([sys.executable, "-c", CODE, mode], capture_output=True, text=True, check=True)
        faults[mode] = int(out.stdout.strip().splitlines()[-1])
    print(faults)
    assert faults["tuned"] * 10 < faults["default"], faults  # each fresh mapping faults its pages in again
