import contextlib
import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reram.data.idx import parse_idx, read_idx
from reram.errors import DataError


def make_idx(arr: np.ndarray, code: int = 0x08) -> bytes:
    header = struct.pack(">HBB", 0, code, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def test_roundtrip_uint8_and_float():
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(make_idx(a)), a)
    f = np.linspace(-1, 1, 10).astype(np.float32)
    np.testing.assert_array_equal(parse_idx(make_idx(f, 0x0D)), f)


def test_gzip_and_raw_files(tmp_path):
    a = np.arange(50, dtype=np.uint8).reshape(5, 10)
    (tmp_path / "a").write_bytes(make_idx(a))
    (tmp_path / "a.gz").write_bytes(gzip.compress(make_idx(a)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), a)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), a)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b"\x01" + b[1:], "magic"),
        (lambda b: b[:2] + b"\x07" + b[3:], "dtype code"),
        (lambda b: b[:3] + b"\x00" + b[4:], "dimensions"),
        (lambda b: b[:-1], "truncated"),
        (lambda b: b + b"\x00", "trailing"),
        (lambda b: b[:6], "truncated"),
    ],
)
def test_corrupt_headers(mutate, message):
    good = make_idx(np.zeros((3, 4), dtype=np.uint8))
    with pytest.raises(DataError, match=message):
        parse_idx(mutate(good), "x.idx")


def test_truncated_gzip_names_file(tmp_path):
    p = tmp_path / "t.gz"
    p.write_bytes(gzip.compress(make_idx(np.zeros((100, 100), np.uint8)))[:50])
    with pytest.raises(DataError, match=str(p)):
        read_idx(p)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_idx(tmp_path / "nope")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_only_raise_dataerror(data):
    with contextlib.suppress(DataError):
        parse_idx(data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_corrupted_valid_files_only_raise_dataerror(tmp_path_factory, data):
    arr = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    blob = bytearray(gzip.compress(make_idx(arr)) if data.draw(st.booleans()) else make_idx(arr))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    p = tmp_path_factory.mktemp("fz") / "f"
    p.write_bytes(bytes(blob[:cut]))
    with contextlib.suppress(DataError):
        read_idx(p)
