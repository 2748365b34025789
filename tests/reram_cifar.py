"""A small CIFAR-10 generated in the canonical formats (python pickles, binary records; archive or extracted folder)
for the data tests and the residual-network runs: the real CIFAR-10 cannot be downloaded on the test machines."""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np

from reram.data import cifar
from reram.data.datasets import Dataset

TRAIN_PER_BATCH, N_TEST = 20, 10


def py2_batch(rows: np.ndarray, labels: list[int], name: str) -> bytes:
    """A batch pickled as the canonical files are: Python 2's cPickle, protocol 2 (strings as BINSTRING), an array
    of numpy 1.x (``numpy.core.multiarray._reconstruct``) under ``data``, a list of ints under ``labels``."""

    def s(b: bytes) -> bytes:
        return pickle.BINSTRING + struct.pack("<i", len(b)) + b

    def i(n: int) -> bytes:
        return pickle.BININT + struct.pack("<i", n)

    def items(xs: list[bytes]) -> bytes:
        return pickle.EMPTY_LIST + pickle.MARK + b"".join(xs) + pickle.APPENDS

    dtype = (pickle.GLOBAL + b"numpy\ndtype\n" + s(b"u1") + pickle.NEWFALSE + pickle.NEWTRUE + pickle.TUPLE3
             + pickle.REDUCE + pickle.MARK + i(3) + s(b"|") + pickle.NONE * 3 + i(-1) + i(-1) + i(0) + pickle.TUPLE
             + pickle.BUILD)
    array = (pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n" + pickle.GLOBAL + b"numpy\nndarray\n" + i(0)
             + pickle.TUPLE1 + s(b"b") + pickle.TUPLE3 + pickle.REDUCE + pickle.MARK + i(1) + i(rows.shape[0])
             + i(rows.shape[1]) + pickle.TUPLE2 + dtype + pickle.NEWFALSE + s(rows.tobytes()) + pickle.TUPLE
             + pickle.BUILD)
    return (pickle.PROTO + b"\x02" + pickle.EMPTY_DICT + pickle.MARK + s(b"batch_label") + s(name.encode())
            + s(b"labels") + items([i(v) for v in labels]) + s(b"data") + array
            + s(b"filenames") + items([s(f"img_{k}.png".encode()) for k in range(len(labels))])
            + pickle.SETITEMS + pickle.STOP)


def make_cifar(root: Path, kind: str = "python", extract: bool = False, seed: int = 0, per_batch: int = TRAIN_PER_BATCH,
               n_test: int = N_TEST) -> tuple[Dataset, Path]:
    """A small CIFAR-10 in the canonical ``kind`` ('python' or 'binary') layout: 5 train batches of ``per_batch``
    random images and a test batch of ``n_test``, as the .tar.gz (or, with ``extract``, its extracted folder) in
    ``root``. Returns the images and labels it holds, and the path written."""
    lay = cifar.PYTHON if kind == "python" else cifar.BINARY
    rng = np.random.default_rng(seed)
    files, parts = {}, []
    for b in lay.batches:
        n = n_test if b.startswith("test") else per_batch
        rows, labels = rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n)
        parts.append((rows.reshape(n, 3, 32, 32), labels))
        files[b] = (py2_batch(rows, labels.tolist(), b) if kind == "python"
                    else np.concatenate([labels.astype(np.uint8)[:, None], rows], axis=1).tobytes())
    files["readme.html"] = b"<html></html>"
    root.mkdir(parents=True, exist_ok=True)
    if extract:
        path = root / lay.folder
        path.mkdir()
        for name, blob in files.items():
            (path / name).write_bytes(blob)
    else:
        path = root / lay.archive
        with tarfile.open(path, "w:gz") as tf:
            folder = tarfile.TarInfo(lay.folder)
            folder.type, folder.mode = tarfile.DIRTYPE, 0o755
            tf.addfile(folder)
            for name, blob in files.items():
                info = tarfile.TarInfo(f"{lay.folder}/{name}")
                info.size = len(blob)
                tf.addfile(info, io.BytesIO(blob))
    expected = Dataset("cifar10", np.concatenate([x for x, _ in parts[:5]]), np.concatenate([y for _, y in parts[:5]]),
                       parts[5][0], parts[5][1], source=str(path))
    return expected, path
