"""Atomic file writes: a temporary file in the same folder, fsync, then rename.

A run killed at any moment leaves either the old file or the complete new one, never a partial file.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    return atomic_write_with(path, lambda fh: fh.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n")


def atomic_write_with(path: str | os.PathLike[str], writer: Callable[[Any], Any]) -> Path:
    """Call ``writer(binary_file_handle)`` on a temporary file, then rename it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        with os.fdopen(fd, "wb") as fh:
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_save_npz(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> Path:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())


def read_bytes(path: str | os.PathLike[str], error: type[Exception], missing: str, unreadable: str) -> bytes:
    """The bytes of a file; a missing file raises ``error(missing)``, an unreadable one ``error(unreadable)`` with
    ``{reason}`` replaced by the system's reason."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise error(missing) from None
    except OSError as e:
        raise error(unreadable.format(reason=e.strerror)) from None


def read_npz(path: str | os.PathLike[str], error: type[Exception], what: str, fix: str) -> dict[str, np.ndarray]:
    """Every array of an npz file, read without pickle. Any failure to parse it (truncated, corrupted,
    hostile) raises ``error`` naming the file, ``what`` it is and the ``fix``."""
    p = Path(path)
    raw = read_bytes(p, error, f"{p} is missing: {fix}", f"{p}: cannot read {what} ({{reason}}): {fix}")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            return {k: np.asarray(z[k]) for k in z.files}
    except Exception as e:  # zipfile, zlib and numpy raise many types on corrupt input
        raise error(f"{p}: corrupt {what} ({type(e).__name__}: {e}): {fix}") from None
