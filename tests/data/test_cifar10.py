"""data.dataset = "cifar10": the canonical python and binary archives and their extracted folders, generated here
in the canonical format (the real CIFAR-10 is not needed)."""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from reram.data import cifar, load_dataset
from reram.data.datasets import Dataset, md5_of
from reram.errors import DataError
from reram_cifar import N_TEST, TRAIN_PER_BATCH, make_cifar, py2_batch  # noqa: F401


def load(folder: Path, **kw) -> Dataset:
    return load_dataset("cifar10", folder, **{"download": False, "progress": False, **kw})


def assert_same(ds: Dataset, want: Dataset) -> None:
    for k in ("train_images", "train_labels", "test_images", "test_labels"):
        np.testing.assert_array_equal(getattr(ds, k), getattr(want, k))
    assert ds.train_images.shape == (5 * TRAIN_PER_BATCH, 3, 32, 32) and ds.test_images.shape == (N_TEST, 3, 32, 32)
    assert ds.train_images.dtype == ds.test_images.dtype == np.uint8
    assert ds.train_labels.dtype == ds.test_labels.dtype == np.int64
    assert ds.name == "cifar10" and ds.channels == 3 and ds.image_shape == (3, 32, 32) and not ds.fallback


def one_line_error(fn, match: str) -> str:
    with pytest.raises(DataError, match=match) as e:
        fn()
    assert "\n" not in str(e.value)
    return str(e.value)


@pytest.fixture
def as_published(monkeypatch):
    """Make ``path``, a generated archive, the published one: its MD5 and image counts become CIFAR-10's."""

    def patch(path: Path) -> None:
        layouts = tuple(dataclasses.replace(lay, md5=md5_of(path)) if lay.archive == path.name else lay
                        for lay in cifar.LAYOUTS)
        monkeypatch.setattr(cifar, "LAYOUTS", layouts)
        monkeypatch.setattr(cifar, "COUNTS", (5 * TRAIN_PER_BATCH, N_TEST))

    return patch


@pytest.mark.parametrize("kind", ["python", "binary"])
def test_archive_roundtrip_unverified(tmp_path, kind):
    want, path = make_cifar(tmp_path, kind)
    ds = load(tmp_path, verify=False)
    assert_same(ds, want)
    assert ds.source == str(path) and not ds.verified and "UNVERIFIED" in ds.notes[0]


@pytest.mark.parametrize("kind", ["python", "binary"])
def test_archive_with_another_md5_is_refused_when_verifying(tmp_path, kind):
    _, path = make_cifar(tmp_path, kind)
    msg = one_line_error(lambda: load(tmp_path), "published")
    assert str(path) in msg and "data.verify=false" in msg


@pytest.mark.parametrize("kind", ["python", "binary"])
def test_published_archive_is_verified(tmp_path, kind, as_published):
    want, path = make_cifar(tmp_path, kind)
    as_published(path)
    ds = load(tmp_path)
    assert_same(ds, want)
    assert ds.verified and ds.notes == [] and ds.describe()["verified"] is True


@pytest.mark.parametrize("kind", ["python", "binary"])
def test_extracted_folder_roundtrip(tmp_path, kind):
    want, path = make_cifar(tmp_path, kind, extract=True)
    assert_same(load(tmp_path, verify=False), want)
    ds = load(path, verify=False)  # --data-dir at the extracted folder itself
    assert_same(ds, want)
    assert ds.source == str(path) and not ds.verified


def test_extracted_folder_is_checked_for_structure_and_never_verified(tmp_path, monkeypatch):
    want, _ = make_cifar(tmp_path, extract=True)
    one_line_error(lambda: load(tmp_path), r"100 training and 10 test images, CIFAR-10 has 50,000 and 10,000")
    monkeypatch.setattr(cifar, "COUNTS", (5 * TRAIN_PER_BATCH, N_TEST))
    ds = load(tmp_path)
    assert_same(ds, want)
    assert not ds.verified and "extracted folder" in ds.notes[0] and f"Keep {cifar.PYTHON.archive} in {tmp_path}" \
        in ds.notes[0]


def test_archive_preferred_over_extracted_folder(tmp_path, as_published):
    make_cifar(tmp_path, extract=True, seed=1)
    want, path = make_cifar(tmp_path, "binary")
    as_published(path)
    ds = load(tmp_path)
    assert_same(ds, want)
    assert ds.source == str(path) and ds.verified


def test_safe_unpickler_refuses_other_globals(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    with pytest.raises(pickle.UnpicklingError, match=r"global \w+\.system"):
        cifar.safe_loads(pickle.dumps({b"data": Evil()}))
    _, path = make_cifar(tmp_path / "d", extract=True)
    (path / "data_batch_2").write_bytes(pickle.dumps({b"data": Evil(), b"labels": [0]}))
    msg = one_line_error(lambda: load(tmp_path / "d", verify=False), "refused to load the global")
    assert str(path / "data_batch_2") in msg and "extract cifar-10-python.tar.gz again" in msg
    assert not marker.exists()


def test_safe_unpickler_reads_numpy_pickles_of_python3():
    rows = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    blob = pickle.dumps({"data": rows, "labels": [3, 7]}, protocol=4)  # numpy._core.multiarray._reconstruct
    x, y = cifar.parse_python_batch(blob, "b")
    np.testing.assert_array_equal(x.reshape(2, -1), rows)
    assert y.tolist() == [3, 7]


@pytest.mark.parametrize("kind", ["python", "binary"])
def test_truncated_archive(tmp_path, kind):
    _, path = make_cifar(tmp_path, kind)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    msg = one_line_error(lambda: load(tmp_path, verify=False), "corrupt or truncated archive")
    assert str(path) in msg and "delete it to download it again" in msg
    one_line_error(lambda: load(tmp_path), f"{path}: MD5 .* not the published")


@pytest.mark.parametrize("kind, batch, match", [("python", "test_batch", "not a CIFAR-10 python batch"),
                                                ("binary", "data_batch_3.bin", "whole number of 3073-byte records")])
def test_truncated_batch_file(tmp_path, kind, batch, match):
    _, path = make_cifar(tmp_path, kind, extract=True)
    p = path / batch
    p.write_bytes(p.read_bytes()[:-100])
    msg = one_line_error(lambda: load(tmp_path, verify=False), match)
    assert str(p) in msg and "again" in msg


def test_missing_batch_and_bad_labels(tmp_path):
    _, path = make_cifar(tmp_path, "binary", extract=True)
    blob = bytearray((path / "data_batch_4.bin").read_bytes())
    blob[3073] = 10  # the second image's label
    (path / "data_batch_4.bin").write_bytes(bytes(blob))
    one_line_error(lambda: load(tmp_path, verify=False), r"data_batch_4.bin: label 10 out of range 0..9")
    (path / "data_batch_4.bin").unlink()
    one_line_error(lambda: load(tmp_path, verify=False), r"data_batch_4.bin: file not found")


def test_archive_without_the_batches(tmp_path):
    path = tmp_path / cifar.PYTHON.archive
    with tarfile.open(path, "w:gz") as tf:
        tf.addfile(tarfile.TarInfo("readme.txt"), io.BytesIO())
    one_line_error(lambda: load(tmp_path, verify=False), r"no cifar-10-batches-py/data_batch_1 in the archive")


def test_offline_names_url_and_flags(tmp_path, monkeypatch):
    msg = one_line_error(lambda: load(tmp_path), "data.download = false")
    for needle in (cifar.URL + cifar.PYTHON.archive, "--data-dir", "$RERAM_DATA_DIR", str(tmp_path)):
        assert needle in msg

    def offline(url, dest, md5, progress=True):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(cifar, "download_file", offline)
    monkeypatch.delenv("RERAM_DATA_DIR", raising=False)
    monkeypatch.setattr("reram.data.datasets.default_cache_dir", lambda: tmp_path / "cache")
    msg = one_line_error(lambda: load_dataset("cifar10", None, progress=False), "download failed")
    for needle in (cifar.URL + cifar.PYTHON.archive, "--data-dir", "$RERAM_DATA_DIR", str(tmp_path / "cache")):
        assert needle in msg


def test_download_goes_to_the_data_folder(tmp_path, monkeypatch):
    want, src = make_cifar(tmp_path / "server")
    got = []

    def fake(url, dest, md5, progress=True):
        got.append((url, md5))
        dest.write_bytes(src.read_bytes())

    monkeypatch.setattr(cifar, "download_file", fake)
    (tmp_path / "data").mkdir()
    ds = load(tmp_path / "data", download=True, verify=False)
    assert got == [(cifar.URL + cifar.PYTHON.archive, cifar.PYTHON.md5)]
    assert ds.source == str(tmp_path / "data" / cifar.PYTHON.archive)
    assert_same(ds, want)


def test_channel_stats(tmp_path):
    want, _ = make_cifar(tmp_path)
    ds = load(tmp_path, verify=False)
    mean, std = ds.channel_stats()
    x = want.train_images / 255.0
    assert mean.dtype == std.dtype == np.float64 and mean.shape == std.shape == (3,)
    np.testing.assert_allclose(mean, x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(std, x.std(axis=(0, 2, 3)), rtol=1e-10)
    grey = Dataset("g", want.train_images[:, 0], want.train_labels, want.test_images[:, 0], want.test_labels, "mem")
    assert grey.channels == 1
    np.testing.assert_allclose(grey.channel_stats()[0], [x[:, 0].mean()], rtol=1e-12)
    with pytest.raises(ValueError, match="no training images"):
        ds.without_images().channel_stats()


def test_config_accepts_cifar10():
    from reram.config import load_config

    assert load_config(None, ["data.dataset=cifar10"]).data.dataset == "cifar10"
