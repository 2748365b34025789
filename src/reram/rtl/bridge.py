"""ctypes bridge to the Verilated accelerator: batched runs, counters, watchdog."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from reram.errors import CosimError, ToolchainError
from reram.ir.addrmap import ADDR_MASK, COUNTERS, CTRL_STATES, REG, STATE_BITS, STATE_WORDS, STATUS, addr, bit

STATE_NAMES = dict(enumerate(CTRL_STATES))
ABI = 7  # rs_abi_version() of the C++ bridge (written into reram_params.h as RERAM_ABI)


def layer_states(word: int, n_layers: int) -> list[str]:
    """The controller state of each layer from ``word``: the word STATES + k (layers 8k .. 8k + 7) in bits 32k to
    32k + 31."""
    mask = (1 << STATE_BITS) - 1
    return [STATE_NAMES.get((word >> (STATE_BITS * li)) & mask, "?") for li in range(n_layers)]

_P = ctypes.c_void_p


def _check(arr: np.ndarray, dtype: type, name: str, ndim: int) -> np.ndarray:
    if not isinstance(arr, np.ndarray) or arr.dtype != np.dtype(dtype) or arr.ndim != ndim \
            or not arr.flags["C_CONTIGUOUS"]:
        raise CosimError(f"bridge argument '{name}' must be a C-contiguous {ndim}-D {np.dtype(dtype)} array")
    return arr


class RtlSim:
    """One Verilated accelerator instance. Loads its library under a unique file name and unloads it
    (dlclose) on :meth:`close`, so a rebuilt library is never confused with a loaded one."""

    def __init__(self, lib_path: Path, plusargs: Sequence[str] = ()):
        """``plusargs``: simulator plusargs, e.g. ``+gmem=DIR`` to preload the arrays' conductance codes
        (:func:`reram.rtl.images.write_preload`)."""
        self._tmpdir = Path(tempfile.mkdtemp(prefix="reram-rtl-"))
        self._copy = self._tmpdir / f"{lib_path.stem}-{os.getpid()}-{id(self)}.so"
        shutil.copy2(lib_path, self._copy)
        try:
            self._lib = ctypes.CDLL(str(self._copy))
        except OSError as e:
            raise ToolchainError(f"cannot load the RTL library {lib_path}: {e}; delete it to rebuild") from None
        L = self._lib
        L.rs_abi_version.restype = ctypes.c_int
        if L.rs_abi_version() != ABI:
            raise ToolchainError(f"{lib_path}: bridge ABI mismatch; delete the RTL cache to rebuild")
        L.rs_create.restype = _P
        L.rs_destroy.argtypes = [_P]
        L.rs_reset.argtypes = [_P]
        L.rs_write.argtypes = [_P, ctypes.c_uint32, ctypes.c_uint32]
        L.rs_tick.argtypes = [_P, ctypes.c_int64]
        L.rs_read.argtypes = [_P, ctypes.c_uint32]
        L.rs_read.restype = ctypes.c_uint32
        L.rs_write_block.argtypes = [_P, _P, _P, ctypes.c_int64]
        L.rs_write_block.restype = ctypes.c_int64
        L.rs_run_batch.argtypes = [_P, _P, ctypes.c_int64, ctypes.c_int32, _P, _P, _P, ctypes.c_uint64, _P, _P,
                                   ctypes.c_int64, _P, ctypes.c_uint64, ctypes.c_uint64]
        L.rs_run_batch.restype = ctypes.c_int64
        L.rs_counters.argtypes = [_P, _P, ctypes.c_int32]
        L.rs_trace_open.argtypes = [_P, ctypes.c_char_p]
        L.rs_trace_open.restype = ctypes.c_int
        L.rs_trace_close.argtypes = [_P]
        L.rs_plusarg.argtypes = [_P, ctypes.c_char_p]
        L.rs_plusarg.restype = ctypes.c_int
        L.rs_coverage_write.argtypes = [_P, ctypes.c_char_p]
        L.rs_coverage_write.restype = ctypes.c_int
        self._h = L.rs_create()
        for arg in plusargs:  # before the first evaluation: initial blocks read them
            L.rs_plusarg(self._h, arg.encode())
        self.reset()

    def reset(self) -> None:
        self._lib.rs_reset(self._h)

    def write(self, addr: int, data: int) -> None:
        self._lib.rs_write(self._h, addr & ADDR_MASK, data & 0xFFFFFFFF)

    def tick(self, n: int = 1) -> None:
        """Idle clock cycles (the host does nothing)."""
        self._lib.rs_tick(self._h, int(n))

    def status(self) -> dict[str, int]:
        """The STATUS register's bits by name (reram.ir.addrmap.BITS): busy, protocol_error, out_ready, in_ready."""
        v = self.read(addr("REG", REG["STATUS"]))
        return {name: (v >> pos) & 1 for name, pos in STATUS.items()}

    def read(self, address: int) -> int:
        return int(self._lib.rs_read(self._h, address & ADDR_MASK))

    def write_block(self, addrs: np.ndarray, data: np.ndarray) -> None:
        addrs = _check(np.ascontiguousarray(addrs, np.uint32), np.uint32, "addrs", 1)
        data = _check(np.ascontiguousarray(data, np.uint32), np.uint32, "data", 1)
        if len(addrs) != len(data):
            raise CosimError("write_block: addresses and data differ in length")
        n = self._lib.rs_write_block(self._h, addrs.ctypes.data, data.ctypes.data, len(addrs))
        if n != len(addrs):
            raise CosimError("write_block: the bridge rejected the image")

    def run_batch(self, inputs: np.ndarray, n_out: int, max_cycles: int, capture_sizes: list[int] | None = None,
                  n_layers: int = 0, jitter_seed: int = 0, stall_seed: int = 0
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
        """Stream ``inputs`` (N, in) uint16 codes through the pipeline. Returns the logits, the predictions, the
        cycle each sample's logits showed ready (from the first input beat, pipeline idle at the start) and, for
        ``capture_sizes`` (the hidden layers' output sizes), every hidden layer's output codes (-1 where the RTL
        never wrote). ``jitter_seed`` (non-zero): an irregular host that idles between input beats and reads the
        logits late, so the pipeline stalls on full buffers (the cycles then differ from the schedule).
        ``stall_seed`` (non-zero): the host also freezes every layer controller (the DEBUG register's STALL bit) at
        pseudo-random cycles, mid-inference, 1-6 cycles at a time: codes and event counts must not change, only the
        cycles (the analytic schedule has no stalls)."""
        inputs = _check(inputs, np.uint16, "inputs", 2)
        n, n_in = inputs.shape
        logits = np.zeros((n, n_out), np.int64)
        preds = np.zeros(n, np.int32)
        cycles = np.zeros(n, np.uint32)
        hang = np.zeros(1 + STATE_WORDS, np.uint32)  # cycle, the STATES words
        sizes = list(capture_sizes or [])
        stride = max(1, sum(sizes))
        offs = np.ascontiguousarray(np.concatenate([[0], np.cumsum(sizes)[:-1]]) if sizes else [0], np.int64)
        cap = np.full((n, stride), -1, np.int64) if sizes else None
        done = self._lib.rs_run_batch(self._h, inputs.ctypes.data, n, n_in, logits.ctypes.data, preds.ctypes.data,
                                      cycles.ctypes.data, int(max_cycles), hang.ctypes.data,
                                      None if cap is None else cap.ctypes.data, stride, offs.ctypes.data,
                                      int(jitter_seed), int(stall_seed))
        if done < 0:
            raise CosimError("run_batch: the bridge rejected its arguments (input width or capture layout)")
        if done < n:
            word = sum(int(w) << (32 * k) for k, w in enumerate(hang[1:]))
            states = ", ".join(f"layer {i} {s}" for i, s in enumerate(layer_states(word, n_layers or 8)))
            raise CosimError(f"RTL hang: sample {done} of the batch had no logits after {int(hang[0])} cycles "
                             f"(watchdog); controllers: {states}")
        if self.status()["protocol_error"]:
            raise CosimError("RTL protocol error: a host write reached the accelerator while it was busy, or the "
                             "host broke the stream handshake")
        captures = [] if cap is None else [cap[:, o : o + sz] for o, sz in zip(offs, sizes, strict=True)]
        return logits, preds, cycles, captures

    def counters(self) -> dict[str, int]:
        out = np.zeros(len(COUNTERS), np.uint64)
        self._lib.rs_counters(self._h, out.ctypes.data, len(COUNTERS))
        return {k: int(v) for k, v in zip(COUNTERS, out, strict=True)}

    def clear_counters(self) -> None:
        self.write(addr("REG", REG["CTRL"]), bit("CTRL", "CLEAR"))

    def set_stall(self, on: bool) -> None:
        """Test hook: freeze every layer controller (the watchdog must catch it)."""
        self.write(addr("REG", REG["DEBUG"]), bit("DEBUG", "STALL") if on else 0)

    def trace_open(self, path: Path) -> None:
        if self._lib.rs_trace_open(self._h, str(path).encode()) != 0:
            raise CosimError("this RTL build has no waveform support; pass --waves to build one with it")

    def trace_close(self) -> None:
        self._lib.rs_trace_close(self._h)

    def coverage_write(self, path: Path) -> None:
        """Write the line and toggle coverage gathered so far to a Verilator coverage file (a build with
        ``coverage=True``)."""
        if self._lib.rs_coverage_write(self._h, str(path).encode()) != 0:
            raise CosimError("this RTL build has no coverage support; build it with build_library(coverage=True)")

    def close(self) -> None:
        if getattr(self, "_h", None):
            self._lib.rs_destroy(self._h)
            self._h = None
        lib = getattr(self, "_lib", None)
        if lib is not None:
            import _ctypes

            _ctypes.dlclose(lib._handle)
            self._lib = None  # type: ignore[assignment]
        shutil.rmtree(getattr(self, "_tmpdir", ""), ignore_errors=True)

    def __enter__(self) -> RtlSim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        with contextlib.suppress(Exception):
            self.close()
