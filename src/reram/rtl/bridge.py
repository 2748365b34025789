"""ctypes bridge to the Verilated accelerator: batched runs, counters, watchdog."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from reram.errors import CosimError, ToolchainError

COUNTERS = ("dac_row_activations", "array_reads", "adc_conversions", "shift_adds", "input_buffer_reads",
            "output_buffer_writes", "busy_cycles")
STATE_NAMES = {0: "IDLE", 1: "LAYER", 2: "LATCH", 3: "READ", 4: "CONV", 5: "DRAIN", 6: "ACT", 7: "FINISH",
               8: "DONE"}

_P = ctypes.c_void_p


def _check(arr: np.ndarray, dtype: type, name: str, ndim: int) -> np.ndarray:
    if not isinstance(arr, np.ndarray) or arr.dtype != np.dtype(dtype) or arr.ndim != ndim \
            or not arr.flags["C_CONTIGUOUS"]:
        raise CosimError(f"bridge argument '{name}' must be a C-contiguous {ndim}-D {np.dtype(dtype)} array")
    return arr


class RtlSim:
    """One Verilated accelerator instance. Loads its library under a unique file name and unloads it
    (dlclose) on :meth:`close`, so a rebuilt library is never confused with a loaded one."""

    def __init__(self, lib_path: Path):
        self._tmpdir = Path(tempfile.mkdtemp(prefix="reram-rtl-"))
        self._copy = self._tmpdir / f"{lib_path.stem}-{os.getpid()}-{id(self)}.so"
        shutil.copy2(lib_path, self._copy)
        try:
            self._lib = ctypes.CDLL(str(self._copy))
        except OSError as e:
            raise ToolchainError(f"cannot load the RTL library {lib_path}: {e}; delete it to rebuild") from None
        L = self._lib
        L.rs_abi_version.restype = ctypes.c_int
        if L.rs_abi_version() != 1:
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
        L.rs_run_batch.argtypes = [_P, _P, ctypes.c_int64, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32,
                                   ctypes.c_int32, _P, _P, _P, ctypes.c_uint64, _P]
        L.rs_run_batch.restype = ctypes.c_int64
        L.rs_counters.argtypes = [_P, _P, ctypes.c_int32]
        L.rs_trace_open.argtypes = [_P, ctypes.c_char_p]
        L.rs_trace_open.restype = ctypes.c_int
        L.rs_trace_close.argtypes = [_P]
        self._h = L.rs_create()
        self.reset()

    def reset(self) -> None:
        self._lib.rs_reset(self._h)

    def write(self, addr: int, data: int) -> None:
        self._lib.rs_write(self._h, addr & 0xFFFFFFFF, data & 0xFFFFFFFF)

    def tick(self, n: int = 1) -> None:
        """Idle clock cycles (the host does nothing)."""
        self._lib.rs_tick(self._h, int(n))

    def status(self) -> dict[str, int | str]:
        v = self.read(1)
        return {"done": v & 1, "busy": (v >> 1) & 1, "protocol_error": (v >> 2) & 1,
                "state": STATE_NAMES.get((v >> 4) & 0xF, str((v >> 4) & 0xF))}

    def read(self, addr: int) -> int:
        return int(self._lib.rs_read(self._h, addr & 0xFFFFFFFF))

    def write_block(self, addrs: np.ndarray, data: np.ndarray) -> None:
        addrs = _check(np.ascontiguousarray(addrs, np.uint32), np.uint32, "addrs", 1)
        data = _check(np.ascontiguousarray(data, np.uint32), np.uint32, "data", 1)
        if len(addrs) != len(data):
            raise CosimError("write_block: addresses and data differ in length")
        n = self._lib.rs_write_block(self._h, addrs.ctypes.data, data.ctypes.data, len(addrs))
        if n != len(addrs):
            raise CosimError("write_block: the bridge rejected the image")

    def run_batch(self, inputs: np.ndarray, n_out: int, code_bits: int, max_cycles: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        inputs = _check(inputs, np.uint16, "inputs", 2)
        n, n_in = inputs.shape
        logits = np.zeros((n, n_out), np.int64)
        preds = np.zeros(n, np.int32)
        cycles = np.zeros(n, np.uint32)
        hang = np.zeros(1, np.uint32)
        cpw = 4 if code_bits <= 8 else 2
        done = self._lib.rs_run_batch(self._h, inputs.ctypes.data, n, n_in, n_out, cpw, code_bits,
                                      logits.ctypes.data, preds.ctypes.data, cycles.ctypes.data, int(max_cycles),
                                      hang.ctypes.data)
        if done < 0:
            raise CosimError("run_batch: the bridge rejected its arguments")
        if done < n:
            state = STATE_NAMES.get(int(hang[0]), str(int(hang[0])))
            raise CosimError(f"RTL hang: sample {done} did not finish within {max_cycles} cycles "
                             f"(watchdog); controller state {state}")
        if self.status()["protocol_error"]:
            raise CosimError("RTL host-bus protocol error: a write reached the accelerator while it was busy")
        return logits, preds, cycles

    def counters(self) -> dict[str, int]:
        out = np.zeros(len(COUNTERS), np.uint64)
        self._lib.rs_counters(self._h, out.ctypes.data, len(COUNTERS))
        return {k: int(v) for k, v in zip(COUNTERS, out, strict=True)}

    def clear_counters(self) -> None:
        self.write(0x0, 0b10)

    def set_stall(self, on: bool) -> None:
        """Test hook: freeze the controller (the watchdog must catch it)."""
        self.write(0x6, 1 if on else 0)

    def read_buffer(self, which: int, n: int) -> np.ndarray:
        region = 0x09 if which == 0 else 0x0A
        return np.array([self.read((region << 24) | i) for i in range(n)], np.int64)

    def trace_open(self, path: Path) -> None:
        if self._lib.rs_trace_open(self._h, str(path).encode()) != 0:
            raise CosimError("this RTL build has no waveform support; pass --waves to build one with it")

    def trace_close(self) -> None:
        self._lib.rs_trace_close(self._h)

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
