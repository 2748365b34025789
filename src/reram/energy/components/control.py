"""Controller, activation unit and leakage: energy per clock cycle.

Derived from ISAAC (ISCA 2016, Table 1): a tile's digital logic besides buffers, bus and router (sigmoid units
0.52 mW, shift-and-add 0.05 mW, max-pool 0.4 mW, output register 1.68 mW: 2.65 mW) is shared by 12 IMAs:
0.22 mW per IMA-equivalent, times the clock period. Area: 0.0041 mm2 / 12 per macro.
"""

from __future__ import annotations

from .base import ISAAC, Figure


def isaac_control(clock_hz: float) -> tuple[Figure, Figure]:
    p = (0.52e-3 + 0.05e-3 + 0.4e-3 + 1.68e-3) / 12
    return (Figure(p / clock_hz, "J/cycle", f"{ISAAC}: (0.52 + 0.05 + 0.4 + 1.68) mW / 12 IMAs / clock"),
            Figure((0.0006 + 0.00006 + 0.00024 + 0.0032) / 12, "mm2/macro", f"{ISAAC}: tile digital area / 12"))
