"""ADC energy per conversion, scaling with resolution. Two models:

* preset family (ISAAC-anchored, 32 nm): 4 b 0.79, 5 b 0.99, 6 b 1.20, 7 b 1.42, 8 b 1.67, 9 b 1.97,
  10 b 2.38 pJ per conversion (Accelergy's ISAAC model, scaled after Saberi et al. 2011); outside 4-10 bits the
  Walden scaling 2^b continues from the nearest end point;
* Walden figure of merit: E = FoM * 2^ENOB (Murmann's ADC survey: best SAR ADCs with 6.5-8 ENOB about
  6 fJ/step, median about 50 fJ/step).

The band reported with every result: low = 6 fJ/step x 2^b, nominal = the preset's model, high = 50 fJ/step x 2^b.
"""

from __future__ import annotations

from .base import ACCELERGY_ISAAC, ISAAC, MURMANN, Figure

FAMILY_PJ = {4: 0.79, 5: 0.99, 6: 1.20, 7: 1.42, 8: 1.67, 9: 1.97, 10: 2.38}
FOM_BEST_J = 6e-15
FOM_MEDIAN_J = 50e-15


def family_energy(bits: int) -> Figure:
    if bits in FAMILY_PJ:
        return Figure(FAMILY_PJ[bits] * 1e-12, "J/conversion", ACCELERGY_ISAAC)
    end = 4 if bits < 4 else 10
    return Figure(FAMILY_PJ[end] * 1e-12 * 2.0 ** (bits - end), "J/conversion",
                  f"{ACCELERGY_ISAAC}, extended by 2^b (Walden scaling) beyond {end} bits")


def walden_energy(bits: int, fom_j_per_step: float) -> Figure:
    return Figure(fom_j_per_step * 2.0**bits, "J/conversion", f"{MURMANN}: {fom_j_per_step * 1e15:g} fJ/step x 2^bits")


def band(bits: int) -> tuple[float, float]:
    return FOM_BEST_J * 2.0**bits, FOM_MEDIAN_J * 2.0**bits


def isaac_adc_area() -> Figure:
    return Figure(0.0096 / 8, "mm2/ADC", f"{ISAAC}: 0.0096 mm2 / 8 ADCs (8 bit, 1.28 GS/s)")
