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
def _malloc_trim():  # -> the C function, or None where the C library has none (not glibc)
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_free_memory() -> None:
    """Return the heap's free pages to the system (glibc ``malloc_trim``). Large buffers that a finished step freed
    otherwise stay resident in the heap, and the next step's buffers land beside them: the resident set grows step by
    step although what is live does not. A few milliseconds; a no-op where the C library is not glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
