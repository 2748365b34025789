"""Row driver / DAC: energy per row activation per input pulse.

ISAAC (Shafiee et al., ISCA 2016, Table 1): 8 x 128 one-bit DACs per IMA draw 4 mW in all over a 100 ns crossbar
cycle, i.e. 4 mW / 1024 x 100 ns = 0.39 fJ per row activation of a 1-bit DAC. A multi-level DAC of b bits is
modelled as b times that (an assumption: linear in resolution), stated in every result that uses it.
"""

from __future__ import annotations

from .base import ISAAC, Figure


def isaac_dac_1bit() -> tuple[Figure, Figure]:
    energy = Figure(4e-3 / 1024 * 100e-9, "J/activation", f"{ISAAC}: 4 mW / (8 x 128 DACs) x 100 ns")
    area = Figure(0.00017 / 1024, "mm2/DAC", f"{ISAAC}: 0.00017 mm2 / (8 x 128)")
    return energy, area


def dac_energy(e_1bit: float, bits_per_pulse: int) -> float:
    """Energy of one row activation driving ``bits_per_pulse`` bits (1 for bit-serial inputs)."""
    return e_1bit * bits_per_pulse
