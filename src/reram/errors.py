"""Exception hierarchy. Every failure the user can cause is a :class:`ReramError`.

The CLI prints these as one line on stderr and exits with status 2 (``CosimMismatch``: status 1);
a traceback appears only with ``--debug``.
"""

from __future__ import annotations


class ReramError(Exception):
    """Base class of every error reram raises on purpose."""

    exit_code = 2


class ConfigError(ReramError):
    """A configuration key or value is wrong."""


class DataError(ReramError):
    """A dataset file is missing, corrupt or truncated."""


class ToolchainError(ReramError):
    """An external tool (Verilator, a C++ compiler, ...) is missing or failed. ``fix``: the command that installs
    a missing tool (also in the message), for the records of a stage skipped for want of it."""

    def __init__(self, message: str, fix: str = ""):
        super().__init__(message)
        self.fix = fix


def ci_strict() -> bool:
    """``CI=true`` (set by .ci/run and by CI services): a stage or test skipped for want of a tool is a failure."""
    import os

    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


class RunError(ReramError):
    """A run folder problem: it exists already, a stage's inputs are missing, a bad name."""


class IRError(ReramError):
    """A compiled-model (IR) file is corrupt, incomplete or of an unknown version."""


class CompileError(ReramError):
    """A model cannot be compiled onto crossbars (e.g. unsupported layers)."""


class CosimError(ReramError):
    """The RTL co-simulation failed (hang, bad image, bridge error)."""


class CheckFailed(ReramError):
    """A check of the design failed after its figures were recorded (exit status 1)."""

    exit_code = 1


class CosimMismatch(CosimError, CheckFailed):
    """The RTL output differs from the bit-exact golden model."""

    exit_code = 1


class SynthCheckFailed(CheckFailed):
    """Synthesis found latches or combinational loops in the digital periphery."""
