"""Data layer: IDX reader, dataset resolution/download, splits."""

from .datasets import Dataset, load_dataset, resolve_data_dir
from .idx import parse_idx, read_idx
from .splits import Splits, make_splits, splits_for_config

__all__ = ["Dataset", "Splits", "load_dataset", "make_splits", "parse_idx", "read_idx", "resolve_data_dir",
           "splits_for_config"]
