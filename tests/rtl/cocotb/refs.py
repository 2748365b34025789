"""Helpers shared by the cocotb testbenches."""


def to_signed(v: int, width: int) -> int:
    """Two's-complement value of a ``width``-bit unsigned integer."""
    return v - (1 << width) if v & (1 << (width - 1)) else v
