"""``ideal``: no variation, read noise, stuck-at faults, drift or IR drop; 256 levels per cell."""

from __future__ import annotations

from reram.chip.device import DeviceParams

PRESET = DeviceParams(
    name="ideal",
    g_min=5e-6,
    g_max=50e-6,
    cell_bits=8,
    slices=1,
    program_sigma=0.0,
    sigma_model="constant",
    read_noise=0.0,
    read_noise_mode="output",
    stuck_low=0.0,
    stuck_high=0.0,
    drift_nu=0.0,
    drift_nu_std=0.0,
    drift_t0=1.0,
    drift_time=0.0,
    drift_compensation=False,
    wire_resistance=0.0,
    ir_drop="off",
    citations={"all": "ideal devices: no variation, noise, faults, drift or IR drop; 256 levels per cell"},
)
