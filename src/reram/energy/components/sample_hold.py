"""Sample-and-hold per column conversion.

ISAAC (ISCA 2016, Table 1): 8 x 128 sample-and-hold circuits per IMA draw 10 uW in all over a 100 ns crossbar
cycle: 10 uW / 1024 x 100 ns = 0.98 fJ per sample; area 0.00004 mm2 / 1024.
"""

from __future__ import annotations

from .base import ISAAC, Figure


def isaac_sample_hold() -> tuple[Figure, Figure]:
    return (Figure(10e-6 / 1024 * 100e-9, "J/sample", f"{ISAAC}: 10 uW / (8 x 128) x 100 ns"),
            Figure(0.00004 / 1024, "mm2/unit", f"{ISAAC}: 0.00004 mm2 / (8 x 128)"))
