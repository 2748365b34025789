"""The layer-list vocabulary of ``model.arch = "layers"`` (and of every built-in network): each op's keys and their
defaults, and their validation, in one place (no torch: the configuration checks it when it loads).

Entries form a graph: each reads the output of the entry before it, or of the entry named by its ``input``; any entry
may carry a ``name``. ``add`` adds the output of the entry named by ``from`` to its input (a residual connection,
fused into the crossbar layer it follows); ``gap`` is global average pooling.
"""

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
    "add": {"from": None},
    "gap": {},
}
GRAPH_KEYS = ("name", "input")  # keys every entry may carry


def check_layers(layers: list[dict[str, Any]], where: str = "model.layers") -> None:
    """Validate a layer list: every entry's op and keys, with errors naming the entry and the key."""
    if not layers:
        raise ConfigError(f"{where}: the layer list is empty; give [[model.layers]] entries")
    names: set[str] = set()
    for i, d in enumerate(layers):
        if isinstance(d, dict):
            for k in ("input", "from"):
                if k in d and (not isinstance(d[k], str) or d[k] not in names):
                    raise ConfigError(f"{where}[{i}]: '{k}' = {d[k]!r} names no earlier entry; name one with "
                                      "name = \"...\"")
            if "name" in d:
                if not isinstance(d["name"], str) or not d["name"] or d["name"] in names:
                    raise ConfigError(f"{where}[{i}]: 'name' must be a new non-empty string, got {d['name']!r}")
                names.add(d["name"])
        if not isinstance(d, dict) or "op" not in d:
            raise ConfigError(f"{where}[{i}]: each entry needs an 'op' ({', '.join(LAYER_KEYS)})")
        op = d["op"]
        if op not in LAYER_KEYS:
            raise ConfigError(f"{where}[{i}]: unknown op {op!r}; ops: {', '.join(LAYER_KEYS)}")
        allowed = LAYER_KEYS[op]
        for k, v in d.items():
            if k == "op" or k in GRAPH_KEYS or (k == "from" and op == "add"):
                continue
            if k not in allowed:
                keys = ", ".join([*allowed, *GRAPH_KEYS])
                raise ConfigError(f"{where}[{i}] ({op}): unknown key '{k}'; allowed: {keys}")
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
        if op == "add" and "from" not in d:
            raise ConfigError(f"{where}[{i}] (add): 'from' (the name of the entry whose output is added) is required")
    if layers[-1]["op"] != "linear":
        raise ConfigError(f"{where}: the last entry must be a linear layer (the logits)")
