"""The run report: a self-contained HTML page with plots (Jinja2 + matplotlib)."""

from __future__ import annotations

from typing import Any

__all__ = ["render_report"]


def __getattr__(name: str) -> Any:  # lazy: the CLI imports reram.report.fmt without matplotlib
    if name == "render_report":
        from .render import render_report

        return render_report
    raise AttributeError(name)
