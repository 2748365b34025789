"""Train / calibration / test splits. Calibration images come from the training file only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .datasets import Dataset


@dataclass
class Splits:
    """Pixel codes (uint8, flattened: 784 for MNIST, 3072 for CIFAR-10) and labels for each split, with their
    provenance.

    ``calib_index``, ``val_index`` and ``train_index`` index the training file (disjoint); the test split is the
    test file.
    """

    train_x: np.ndarray
    train_y: np.ndarray
    calib_x: np.ndarray
    calib_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    train_index: np.ndarray
    calib_index: np.ndarray
    val_x: np.ndarray | None = None
    val_y: np.ndarray | None = None
    val_index: np.ndarray | None = None

    @staticmethod
    def to_float(codes: np.ndarray) -> np.ndarray:
        """Pixel codes 0..255 -> float32 in [0, 1] (the network's input scale)."""
        return codes.astype(np.float32) / 255.0


def splits_for_config(cfg, data_dir: str | None = None, progress: bool = True) -> tuple[Dataset, Splits]:
    """The dataset and splits a configuration asks for (``data_dir``, e.g. ``--data-dir``, wins over ``data.dir``)."""
    from .datasets import load_dataset

    d = cfg.data
    ds = load_dataset(d.dataset, data_dir or d.dir, d.download, progress, verify=d.verify)
    return ds, make_splits(ds, cfg.run.seed, d.calib_size, d.train_subset, d.test_subset, d.val_size)


def make_splits(ds: Dataset, seed: int, calib_size: int, train_subset: int | None = None,
                test_subset: int | None = None, val_size: int = 0) -> Splits:
    """Hold ``calib_size`` random training images out for calibration and the next ``val_size`` for validation;
    the rest train the model (with ``val_size=0`` the splits are those of earlier versions)."""
    n = ds.n_train
    calib_size = min(calib_size, n // 5)
    val_size = min(val_size, n // 5)
    perm = np.random.default_rng(seed).permutation(n)
    calib_index = np.sort(perm[:calib_size])
    val_index = np.sort(perm[calib_size : calib_size + val_size])
    train_index = np.sort(perm[calib_size + val_size :])
    if train_subset is not None:
        train_index = train_index[:train_subset]
    flat_train = ds.train_images.reshape(n, -1)
    test_x = ds.test_images.reshape(ds.n_test, -1)
    test_y = ds.test_labels
    if test_subset is not None:
        test_x, test_y = test_x[:test_subset], test_y[:test_subset]
    return Splits(
        train_x=flat_train[train_index], train_y=ds.train_labels[train_index],
        calib_x=flat_train[calib_index], calib_y=ds.train_labels[calib_index],
        test_x=np.ascontiguousarray(test_x), test_y=test_y,
        train_index=train_index, calib_index=calib_index,
        val_x=flat_train[val_index] if val_size else None, val_y=ds.train_labels[val_index] if val_size else None,
        val_index=val_index if val_size else None,
    )
