"""CIFAR-10 (Krizhevsky, 2009): the canonical python or binary archive, or its extracted folder.

The data folder (resolved as for the IDX sets: ``--data-dir`` / ``data.dir``, ``$RERAM_DATA_DIR``, then the user
cache folder) is searched for, in this order: ``cifar-10-python.tar.gz``, ``cifar-10-binary.tar.gz``, the
extracted ``cifar-10-batches-py/`` or ``cifar-10-batches-bin/`` (or the folder itself holding the batch files).
With none of them, the python archive is downloaded (progress bar, published MD5 checked, moved into place
atomically); offline, the error names the URL, ``--data-dir`` and ``$RERAM_DATA_DIR``. There is no fallback.

Verification (``data.verify``):

* an archive is checked against its published MD5: a mismatch is an error (corrupt, truncated or modified copy)
  with ``verify=True``; with ``verify=False`` it is read and the data labelled unverified;
* an extracted folder has no published digest, so it can never be labelled verified. With ``verify=True`` it is
  accepted when its structure is CIFAR-10's (5 train batches holding 50,000 images, 10,000 test images, labels
  0..9; else an error) and a note says that its content was not checked and how to get a verified run (keep the
  archive in the folder). With ``verify=False`` any number of images is accepted (your own data in the CIFAR
  layout), labels still 0..9.

The python batches are pickles: they are read by an unpickler that resolves no global but the three numpy needs
to rebuild an array (``_reconstruct``, ``ndarray``, ``dtype``), so a hostile file cannot run code. Images come
back as uint8 (N, 3, 32, 32) (channel, row, column: the CIFAR row layout reshaped), labels as int64.
"""

from __future__ import annotations

import io
import pickle
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reram.errors import DataError
from reram.fsutil import read_bytes

from .datasets import Dataset, download_file, md5_of

NAME = "cifar10"
URL = "https://www.cs.toronto.edu/~kriz/"
SHAPE = (3, 32, 32)
PIXELS = 3 * 32 * 32
COUNTS = (50_000, 10_000)

_RECONSTRUCT = np.zeros(0).__reduce__()[0]  # numpy's array rebuilder (numpy.core or numpy._core.multiarray)
ALLOWED_GLOBALS: dict[tuple[str, str], object] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,  # as numpy 1.x wrote it (the canonical files)
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,  # as numpy 2.x writes it
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the numpy globals of :data:`ALLOWED_GLOBALS`; any other is refused."""

    def find_class(self, module: str, name: str) -> object:
        obj = ALLOWED_GLOBALS.get((module, name))
        if obj is None:
            raise pickle.UnpicklingError(f"refused to load the global {module}.{name}")
        return obj


def safe_loads(buf: bytes) -> object:
    """Unpickle ``buf`` (Python 2 strings as bytes) with :class:`SafeUnpickler`."""
    return SafeUnpickler(io.BytesIO(buf), encoding="bytes").load()


Batch = tuple[np.ndarray, np.ndarray]  # images uint8 (N, 3, 32, 32), labels int64 (N,)


def parse_python_batch(buf: bytes, name: str) -> Batch:
    """A batch of the python archive: a pickled dict with ``data`` (N, 3072) uint8 and ``labels`` (N ints)."""
    try:
        d = safe_loads(buf)
    except Exception as e:  # pickle raises many types on corrupt or hostile input
        raise DataError(f"{name}: not a CIFAR-10 python batch ({type(e).__name__}: {e})") from None
    if not isinstance(d, dict):
        raise DataError(f"{name}: not a CIFAR-10 python batch (a pickled {type(d).__name__}, not a dict)")
    data, labels = (d.get(k.encode(), d.get(k)) for k in ("data", "labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != PIXELS:
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataError(f"{name}: 'data' must be a uint8 array of shape (N, {PIXELS}), got {got}")
    try:
        y = np.asarray(labels)
    except Exception:  # ragged or otherwise odd labels
        y = np.asarray(None)
    if y.ndim != 1 or y.dtype.kind not in "iu" or len(y) != len(data):
        raise DataError(f"{name}: 'labels' must be {len(data)} integers, one per image")
    return data.reshape(-1, *SHAPE), y.astype(np.int64)


def parse_binary_batch(buf: bytes, name: str) -> Batch:
    """A batch of the binary archive: records of 1 label byte and 3072 pixel bytes."""
    if len(buf) % (PIXELS + 1):
        raise DataError(f"{name}: truncated or not a CIFAR-10 binary batch ({len(buf)} bytes is not a whole number "
                        f"of {PIXELS + 1}-byte records)")
    rec = np.frombuffer(buf, dtype=np.uint8).reshape(-1, PIXELS + 1)
    return rec[:, 1:].reshape(-1, *SHAPE), rec[:, 0].astype(np.int64)


@dataclass(frozen=True)
class Layout:
    """One of the two canonical archives: its name, published MD5, folder inside, batch files and their parser."""

    archive: str
    md5: str
    folder: str
    suffix: str
    parse: Callable[[bytes, str], Batch]

    @property
    def batches(self) -> tuple[str, ...]:
        """The five training batches, then the test batch."""
        return (*(f"data_batch_{i}{self.suffix}" for i in range(1, 6)), f"test_batch{self.suffix}")


PYTHON = Layout("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a", "cifar-10-batches-py", "",
                parse_python_batch)
BINARY = Layout("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530", "cifar-10-batches-bin", ".bin",
                parse_binary_batch)
LAYOUTS = (PYTHON, BINARY)


def find_cifar10(folder: Path) -> tuple[Layout, Path] | None:
    """The archive (preferred: it can be verified) or extracted folder of CIFAR-10 in ``folder``, if any."""
    for lay in LAYOUTS:
        if (folder / lay.archive).is_file():
            return lay, folder / lay.archive
    for lay in LAYOUTS:
        for d in (folder / lay.folder, folder):
            if any((d / b).is_file() for b in lay.batches):
                return lay, d
    return None


def download_cifar10(folder: Path, download: bool, progress: bool) -> tuple[Layout, Path]:
    """Download the python archive into ``folder``; offline (or ``download=False``) a DataError saying how to fix it."""
    url = URL + PYTHON.archive
    why = "data.download = false"
    if download:
        try:
            download_file(url, folder / PYTHON.archive, PYTHON.md5, progress=progress)
            return PYTHON, folder / PYTHON.archive
        except DataError:
            raise
        except Exception as e:  # network errors of any kind
            why = "download failed: " + " ".join(str(e).split())
    raise DataError(f"CIFAR-10 not found in {folder} ({why}); download {url} (or {URL}{BINARY.archive}) into that "
                    "folder, or point --data-dir or $RERAM_DATA_DIR at the folder that holds it")


def read_archive(path: Path, lay: Layout) -> Iterator[tuple[str, bytes]]:
    """(member name, bytes) of each batch of the archive, in one pass over it."""
    want = {f"{lay.folder}/{b}" for b in lay.batches}
    seen = set()
    try:
        with tarfile.open(path, "r:gz") as tf:
            for m in tf:
                if m.name in want and m.isfile() and m.name not in seen:
                    fh = tf.extractfile(m)
                    if fh is not None:
                        seen.add(m.name)
                        yield m.name, fh.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: corrupt or truncated archive ({type(e).__name__}: {e}); delete it to download it "
                        "again") from None
    if seen != want:
        raise DataError(f"{path}: no {min(want - seen)} in the archive (not the CIFAR-10 {lay.archive}); delete it "
                        "to download it again")


def read_batches(lay: Layout, path: Path) -> dict[str, Batch]:
    """Every batch of the archive or extracted folder ``path``, parsed, by batch file name."""
    if path.is_file():
        fix = "delete it to download it again"
        return {n.rsplit("/", 1)[1]: parse_with_fix(lay, b, f"{path}: {n}", fix) for n, b in read_archive(path, lay)}
    fix = f"extract {lay.archive} again"
    out = {}
    for b in lay.batches:
        p = path / b
        buf = read_bytes(p, DataError, f"{p}: file not found; {fix}", f"{p}: cannot read ({{reason}}); {fix}")
        out[b] = parse_with_fix(lay, buf, str(p), fix)
    return out


def parse_with_fix(lay: Layout, buf: bytes, name: str, fix: str) -> Batch:
    """Parse one batch; a bad one is a DataError naming the fix, as is a label out of range."""
    try:
        x, y = lay.parse(buf, name)
    except DataError as e:
        raise DataError(f"{e}; {fix}") from None
    if y.size and (y.min() < 0 or y.max() > 9):
        raise DataError(f"{name}: label {int(y.max() if y.max() > 9 else y.min())} out of range 0..9; {fix}")
    return x, y


def load_cifar10(folder: Path, download: bool = True, progress: bool = True, verify: bool = True) -> Dataset:
    """CIFAR-10 from ``folder`` (see the module docstring for what is searched and verified)."""
    lay, path = find_cifar10(folder) or download_cifar10(folder, download, progress)
    archive = path.is_file()
    if archive and verify and (got := md5_of(path)) != lay.md5:
        raise DataError(f"{path}: MD5 {got} is not the published {lay.md5} (corrupt, truncated or modified copy); "
                        "delete it to download it again, or set data.verify=false to use your own archive")
    batches = read_batches(lay, path)
    train = [batches[b] for b in lay.batches[:5]]
    x_train, y_train = np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])
    x_test, y_test = batches[lay.batches[5]]
    counts = (len(y_train), len(y_test))
    if verify and counts != COUNTS:
        raise DataError(f"{path}: {counts[0]:,} training and {counts[1]:,} test images, CIFAR-10 has "
                        f"{COUNTS[0]:,} and {COUNTS[1]:,}; extract {lay.archive} again, or set data.verify=false to "
                        "use your own data")
    if not all(counts):
        raise DataError(f"{path}: no {'training' if not counts[0] else 'test'} images; point --data-dir at a "
                        "folder with CIFAR-10 batches that hold some")
    if not verify:
        notes = [f"UNVERIFIED DATA: {path} was read without checking it against the published CIFAR-10 digest "
                 f"(data.verify = false); the run is labelled '{NAME}' only because the configuration says so."]
    elif not archive:
        notes = [f"UNVERIFIED DATA: {path} is an extracted folder, and only the archives have a published digest: "
                 "its structure was checked (50,000 training and 10,000 test images, labels 0..9), its content "
                 f"was not. Keep {lay.archive} in {path.parent if path.name == lay.folder else path} for a verified "
                 "run."]
    else:
        notes = []
    return Dataset(name=NAME, train_images=np.ascontiguousarray(x_train), train_labels=y_train,
                   test_images=np.ascontiguousarray(x_test), test_labels=y_test, source=str(path),
                   verified=verify and archive, notes=notes)
