"""Reader for the IDX format of MNIST-style datasets (raw or gzip-compressed).

Format (LeCun et al.): two zero bytes, a dtype code, the number of dimensions, then one big-endian
uint32 per dimension, then the data in C order, big-endian. Any deviation raises :class:`DataError`
naming the file and what is wrong.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from reram.errors import DataError
from reram.fsutil import read_bytes

# dtype code -> numpy big-endian dtype
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
MAX_ELEMENTS = 1 << 31


def parse_idx(buf: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse an uncompressed IDX byte string into a native-endian array."""
    if len(buf) < 4:
        raise DataError(f"{name}: truncated IDX header ({len(buf)} bytes; need at least 4)")
    zero, code, ndim = struct.unpack(">HBB", buf[:4])
    if zero != 0:
        raise DataError(f"{name}: bad IDX magic number 0x{buf[:4].hex()} (the first two bytes must be zero)")
    if code not in IDX_DTYPES:
        raise DataError(f"{name}: unknown IDX dtype code 0x{code:02x}")
    if ndim < 1 or ndim > 4:
        raise DataError(f"{name}: unsupported number of IDX dimensions {ndim} (1 to 4 allowed)")
    header_len = 4 + 4 * ndim
    if len(buf) < header_len:
        raise DataError(f"{name}: truncated IDX header ({len(buf)} bytes; need {header_len})")
    dims = struct.unpack(">" + "I" * ndim, buf[4:header_len])
    count = 1
    for d in dims:
        count *= d
    if count > MAX_ELEMENTS:
        raise DataError(f"{name}: implausible IDX dimensions {dims}")
    dtype = IDX_DTYPES[code]
    expected = header_len + count * dtype.itemsize
    if len(buf) < expected:
        raise DataError(f"{name}: truncated: {len(buf)} bytes, the header {dims} needs {expected}")
    if len(buf) > expected:
        raise DataError(f"{name}: {len(buf) - expected} trailing bytes after the data of shape {dims}")
    arr = np.frombuffer(buf, dtype=dtype, count=count, offset=header_len).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a raw or gzip-compressed IDX file (gzip detected by its magic bytes)."""
    return parse_idx(read_idx_bytes(path), str(path))


def read_idx_bytes(path: str | os.PathLike[str]) -> bytes:
    """The uncompressed bytes of a raw or gzip-compressed IDX file."""
    p = Path(path)
    raw = read_bytes(p, DataError, f"{p}: file not found", f"{p}: cannot read ({{reason}})")
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{p}: corrupt or truncated gzip data ({e}); delete it to download it again") from None
    return raw
