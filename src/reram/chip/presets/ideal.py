"""``ideal``: no variation, read noise, stuck-at faults, drift or IR drop; 256 levels per cell (the NeuRRAM window)."""

from __future__ import annotations

from dataclasses import replace

from reram.chip.device import noise_free

from . import neurram

PRESET = replace(noise_free(neurram.PRESET), name="ideal", cell_bits=8,
                 citations={"all": "ideal devices: no variation, noise, faults, drift or IR drop; 256 levels per "
                            "cell"})
