"""reram: design and verify analog in-memory-computing inference accelerators on ReRAM crossbars."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reram.version import __version__

__all__ = ["__version__", "convert"]

if TYPE_CHECKING:
    from reram.api import convert


def __getattr__(name: str) -> Any:  # lazy: importing reram stays cheap (no torch) for the CLI's --help
    if name == "convert":
        from reram.api import convert

        return convert
    raise AttributeError(name)


def __dir__() -> list[str]:  # dir(reram) lists the lazy attributes too
    return sorted({*globals(), *__all__})
