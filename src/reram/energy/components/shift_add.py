"""Shift-and-add per accumulated ADC code.

ISAAC (ISCA 2016, Table 1): 4 shift-and-add units per IMA draw 0.2 mW in all at the 1.2 GHz digital clock:
0.05 mW / 1.2 GHz = 0.042 pJ per operation; area 0.00024 mm2 / 4.
"""

from __future__ import annotations

from .base import ISAAC, Figure


def isaac_shift_add() -> tuple[Figure, Figure]:
    return (Figure(0.2e-3 / 4 / 1.2e9, "J/op", f"{ISAAC}: 0.2 mW / 4 units / 1.2 GHz"),
            Figure(0.00024 / 4, "mm2/unit", f"{ISAAC}: 0.00024 mm2 / 4"))
