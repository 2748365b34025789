"""Progress bars for every long step, on stderr, and only on a terminal (so logs and CI output stay clean)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn

_console = Console(stderr=True)


def progress_bar(label: str, enabled: bool = True, *extra: ProgressColumn, transient: bool = False) -> Progress:
    """A bar labelled ``label`` with count and elapsed time, plus ``extra`` columns (e.g. loss)."""
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), *extra, TimeElapsedColumn(),
                    console=_console, transient=transient, disable=not (enabled and _console.is_terminal))


def spinner(label: str, enabled: bool = True) -> Progress:
    """A spinner with elapsed time for steps of unknown length (the Verilator build)."""
    from rich.progress import SpinnerColumn

    return Progress(SpinnerColumn(), TextColumn(f"[bold]{label}"), TimeElapsedColumn(), console=_console,
                    transient=True, disable=not (enabled and _console.is_terminal))
