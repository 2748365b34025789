"""The layer-list vocabulary of ``model.arch = "layers"`` (and of every built-in network): each op's keys and their
defaults, and their validation, in one place (no torch: the configuration checks it when it loads)."""

from __future__ import annotations

from typing import Any

from reram.errors import ConfigError

LAYER_KEYS: dict[str, dict[str, Any]] = {  # op -> allowed keys and their defaults (None: required)
    "conv2d": {"out": None, "kernel": 3, "stride": 1, "padding": 0, "bias": True},
    "linear": {"out": None, "bias": True},
    "batchnorm": {},
    "relu": {},
    "maxpool2d": {"kernel": 2, "stride": None, "padding": 0},
    "avgpool2d": {"kernel": 2, "stride": None, "padding": 0},
    "flatten": {},
    "dropout": {"p": 0.5},
}


def check_layers(layers: list[dict[str, Any]], where: str = "model.layers") -> None:
    """Validate a layer list: every entry's op and keys, with errors naming the entry and the key."""
    if not layers:
        raise ConfigError(f"{where}: the layer list is empty; give [[model.layers]] entries")
    for i, d in enumerate(layers):
        if not isinstance(d, dict) or "op" not in d:
            raise ConfigError(f"{where}[{i}]: each entry needs an 'op' ({', '.join(LAYER_KEYS)})")
        op = d["op"]
        if op not in LAYER_KEYS:
            raise ConfigError(f"{where}[{i}]: unknown op {op!r}; ops: {', '.join(LAYER_KEYS)}")
        allowed = LAYER_KEYS[op]
        for k, v in d.items():
            if k == "op":
                continue
            if k not in allowed:
                raise ConfigError(f"{where}[{i}] ({op}): unknown key '{k}'; allowed: {', '.join(allowed) or 'none'}")
            if k == "out" and v == "classes":
                continue
            if k == "bias" and not isinstance(v, bool):
                raise ConfigError(f"{where}[{i}] ({op}): 'bias' must be true or false, got {v!r}")
            if k == "p" and not (isinstance(v, int | float) and 0 <= v < 1):
                raise ConfigError(f"{where}[{i}] ({op}): 'p' must be in [0, 1), got {v!r}")
            if k in ("out", "kernel", "stride") and v is not None and \
                    (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ConfigError(f"{where}[{i}] ({op}): '{k}' must be a positive integer, got {v!r}")
            if k == "padding" and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise ConfigError(f"{where}[{i}] ({op}): 'padding' must be a non-negative integer, got {v!r}")
        if op in ("conv2d", "linear") and "out" not in d:
            raise ConfigError(f"{where}[{i}] ({op}): 'out' is required")
    if layers[-1]["op"] != "linear":
        raise ConfigError(f"{where}: the last entry must be a linear layer (the logits)")
