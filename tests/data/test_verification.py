"""Local files are verified against the canonical digests of their decompressed IDX content (issue: trust)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from reram.data import load_dataset
from reram.errors import DataError
from reram_testing import missing

FASHION = Path("/usr/share/datasets/fashion-mnist")


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*-ubyte*"):
        shutil.copy(f, dst / f.name)
    return dst


def test_one_changed_byte_is_refused(tmp_path, mnist_dir):
    d = _copy(mnist_dir, tmp_path / "m")
    p = d / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(p.read_bytes()))
    raw[8] ^= 0x01  # first label, inside the data; still a valid IDX file
    p.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match=r"t10k-labels.*canonical"):
        load_dataset("mnist", d, download=False, progress=False)


def test_regzipped_and_raw_copies_pass(tmp_path, mnist_dir):
    d = tmp_path / "m"
    d.mkdir()
    for f in mnist_dir.glob("*.gz"):
        content = gzip.decompress(f.read_bytes())
        if "labels" in f.name:  # raw IDX
            (d / f.name[:-3]).write_bytes(content)
        else:  # re-compressed with other settings: another compressed MD5, the same content
            (d / f.name).write_bytes(gzip.compress(content, compresslevel=1, mtime=123))
    ds = load_dataset("mnist", d, download=False, progress=False)
    assert ds.verified and ds.name == "mnist" and ds.n_train == 60000


def test_dataset_named_from_its_digests(tmp_path, mnist_dir):
    with pytest.raises(DataError, match=r"mnist.*fashion-mnist|fashion-mnist.*mnist"):
        load_dataset("fashion-mnist", mnist_dir, download=False, progress=False)


def _need_fashion() -> None:
    if not FASHION.is_dir():
        missing("Debian's Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")


def test_fashion_files_under_mnist_name_refused():
    _need_fashion()
    with pytest.raises(DataError, match=r"fashion-mnist"):
        load_dataset("mnist", FASHION, download=False, progress=False)
    ds = load_dataset("fashion-mnist", FASHION, download=False, progress=False)  # re-gzipped by Debian
    assert ds.verified and ds.name == "fashion-mnist"


def test_verify_false_runs_on_own_files_and_says_so(tmp_path, mnist_dir):
    d = _copy(mnist_dir, tmp_path / "own")
    p = d / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(p.read_bytes()))
    raw[8] = (raw[8] + 1) % 10
    p.write_bytes(gzip.compress(bytes(raw)))
    ds = load_dataset("mnist", d, download=False, progress=False, verify=False)
    assert not ds.verified
    assert ds.describe()["verified"] is False
    assert any("UNVERIFIED" in n for n in ds.notes)


def test_missing_explicit_folder_is_an_error(tmp_path, monkeypatch):
    missing = tmp_path / "nope"
    with pytest.raises(DataError, match=str(missing)):
        load_dataset("mnist", missing, download=True, progress=False)
    assert not missing.exists()
    monkeypatch.setenv("RERAM_DATA_DIR", str(missing))
    with pytest.raises(DataError, match="RERAM_DATA_DIR"):
        load_dataset("mnist", None, download=True, progress=False)
    assert not missing.exists()


def test_fallback_names_the_folder_it_searched(tmp_path):
    ds = load_dataset("mnist", tmp_path, download=False, progress=False)
    assert ds.fallback and str(tmp_path) in ds.notes[0]


def test_fashion_found_in_debian_folder(tmp_path, monkeypatch):
    _need_fashion()
    monkeypatch.delenv("RERAM_DATA_DIR", raising=False)
    monkeypatch.setattr("reram.data.datasets.default_cache_dir", lambda: tmp_path / "cache")
    ds = load_dataset("fashion-mnist", None, download=False, progress=False)
    assert ds.source == str(FASHION) and ds.verified
