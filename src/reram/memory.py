"""Process memory: the peak resident set size, and handing freed heap pages back to the system."""

from __future__ import annotations

import ctypes
import resource
import sys
from functools import cache


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@cache
def _glibc(name: str):  # -> the C library's function ``name``, or None where it has none (not glibc)
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL("libc.so.6"), name)
    except (OSError, AttributeError):
        return None


def release_free_memory() -> None:
    """Return the heap's free pages to the system (glibc ``malloc_trim``). Large buffers that a finished step freed
    otherwise stay resident in the heap, and the next step's buffers land beside them: the resident set grows step by
    step although what is live does not. A few milliseconds; a no-op where the C library is not glibc."""
    trim = _glibc("malloc_trim")
    if trim is not None:
        trim(0)


M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc mallopt parameters (malloc.h)
HEAP_TRIM_BYTES = 1 << 30  # free memory at the heap's top kept for reuse, up to this much, until release_free_memory


@cache
def tune_allocator() -> bool:
    """Serve large buffers from glibc's heap instead of fresh ``mmap`` regions, and keep freed ones for reuse.

    glibc maps every allocation above 32 MB (its largest mmap threshold) afresh and unmaps it when freed, so the
    kernel zeroes each new page again: page clearing took a quarter of the CPU samples of one chip's ResNet-8
    evaluation (perf), and a whole ResNet-8 run spent 876 of its 3,422 CPU seconds in the kernel, most of it on the
    engine's and the calibration's large temporaries. With ``mmap`` off (``M_MMAP_MAX = 0``)
    and a 1 GiB trim threshold, freed buffers are reused; :func:`release_free_memory` still hands free pages back
    between steps. Measured on one chip's evaluation of ResNet-8 (``benchmarks/allocator.py``). Called once per
    process by the command line and the run's worker processes, not on import (a library user's process keeps its
    allocator); a no-op where the C library is not glibc. Returns whether the settings were applied."""
    mallopt = _glibc("mallopt")
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, HEAP_TRIM_BYTES))
