"""A component: energy per action (J) and area per unit (mm2), each with its source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """A number with its unit and source (a citation, or a derivation from cited numbers)."""

    value: float
    unit: str
    source: str

    def to_dict(self) -> dict[str, object]:
        return {"value": self.value, "unit": self.unit, "source": self.source}


def toml_str(s: str) -> str:
    """A TOML basic string."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


ISAAC = ("Shafiee et al., 'ISAAC: A Convolutional Neural Network Accelerator with In-Situ Analog Arithmetic in "
         "Crossbars', ISCA 2016, Table 1 (32 nm)")
MURMANN = "Murmann, 'ADC Performance Survey 1997-2025'"
ACCELERGY_ISAAC = "Accelergy's ISAAC ADC model (32 nm), scaled after Saberi et al. 2011"
NEUROSIM = "NeuroSim V1.4 defaults (22 nm): 10 ns read pulse, 128x128 subarray, 8 columns per ADC"
ACCELERGY_LIBRARY = ("Accelergy's component library for ISAAC (hwcomponents-library, isaac.py: IsaacEDRAM, "
                     "IsaacShiftAdd, 32 nm)")
PUMA = ("Ankit et al., 'PUMA: A Programmable Ultra-efficient Memristor-based Accelerator for Machine Learning "
        "Inference', ASPLOS 2019; its simulator's constants (puma-simulator include/constants.py, 32 nm: "
        "edram_pow_dyn_dict, edram_pow_leak_dict)")
NEURRAM = ("Wan et al., 'A compute-in-memory chip based on resistive random-access memory', Nature 608, 504-512 "
           "(2022)")
CIMLOOP = "CiMLoop's NeuRRAM macro model (mit-emze/cimloop, workspace/models/arch/1_macro/wan_nature_2022"
ACCELERGY_NEURRAM = ("Accelergy's component library (hwcomponents-library, neurram.py, 130 nm, 1.8 V; its figures "
                     "for Wan et al. 2022)")
CITATIONS = {"ISAAC": ISAAC, "Murmann": MURMANN, "Accelergy": ACCELERGY_ISAAC, "NeuroSim": NEUROSIM,
             "Accelergy library": ACCELERGY_LIBRARY, "PUMA": PUMA, "NeuRRAM": NEURRAM, "CiMLoop": CIMLOOP,
             "Accelergy NeuRRAM": ACCELERGY_NEURRAM}
