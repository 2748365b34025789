"""``reram-neurram``: a realistic 1T1R ReRAM device fit to NeuRRAM (Wan et al., Nature 608, 2022)."""

from __future__ import annotations

from reram.chip.device import DeviceParams

NEURRAM = (
    "Wan et al., 'A compute-in-memory chip based on resistive random-access memory', Nature 608 (2022): "
    "programming error about 1.6-2.5 µS over a 5-39 µS window (state dependent)"
)

PRESET = DeviceParams(
    name="reram-neurram",
    g_min=5e-6,
    g_max=50e-6,
    cell_bits=4,
    slices=1,
    program_sigma=2.0e-6 / 45e-6,
    sigma_model="state_dependent",
    read_noise=0.01,
    read_noise_mode="output",
    stuck_low=0.0,
    stuck_high=0.0,
    drift_nu=0.0,
    drift_nu_std=0.0,
    drift_t0=1.0,
    drift_time=0.0,
    drift_compensation=False,
    wire_resistance=1.0,
    ir_drop="approx",
    citations={
        "g_min/g_max": "5-50 µS: the project's default window, close to NeuRRAM's 5-39 µS [NeuRRAM]",
        "cell_bits": "16 levels (4 bits) per cell; NeuRRAM ran 4-bit weights on chip [NeuRRAM]",
        "sigma": "state-dependent σ(G) rising linearly from 1.6 µS at 5 µS to 2.5 µS at 39 µS, clipped "
        "outside; constant-model equivalent 2 µS / 45 µS [NeuRRAM]",
        "read_noise": "1 % of G per read: an assumption (typical 1T1R RRAM read noise), not a NeuRRAM figure",
        "stuck": "0: NeuRRAM reports no stuck-cell rate for its programmed arrays; set stuck_low/high to study it",
        "drift": "0: RRAM conductance relaxation is not modelled by default; set drift_nu to study it",
        "wire_resistance": "1 ohm per cell segment: an assumption for 22-32 nm copper interconnect",
        "[NeuRRAM]": NEURRAM,
    },
)
