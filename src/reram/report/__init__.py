"""The run report: a self-contained HTML page with plots (Jinja2 + matplotlib)."""

from .render import render_report

__all__ = ["render_report"]
