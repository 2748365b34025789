"""Named device presets, each parameter with its source, and their resolution against the configuration.

A preset fills every device/array key that the configuration leaves unset (``None``). ``custom`` has no
values of its own: every key must then be set explicitly. This is configuration data (no torch): the
configuration's validation (:mod:`reram.config.effective`) and the analog engine both read it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from reram.errors import ConfigError

from .schema import ReramConfig


@dataclass(frozen=True)
class DeviceParams:
    """Fully resolved device and array parameters (SI units)."""

    name: str
    g_min: float
    g_max: float
    cell_bits: int
    slices: int
    program_sigma: float
    sigma_model: str
    read_noise: float
    read_noise_mode: str
    stuck_low: float
    stuck_high: float
    drift_nu: float
    drift_nu_std: float
    drift_t0: float
    drift_time: float
    drift_compensation: bool
    wire_resistance: float
    ir_drop: str
    grid_sub_bits: int = 8
    verify_cycles: int = 0  # program-and-verify cycles after the first write ([program])
    verify_tolerance: float = 1e-6  # S
    pulses_per_write: float = 8.0
    citations: dict[str, str] = field(default_factory=dict)

    @property
    def levels(self) -> int:
        return 2**self.cell_bits

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


NEURRAM = (
    "Wan et al., 'A compute-in-memory chip based on resistive random-access memory', Nature 608 (2022): "
    "programming error about 1.6-2.5 µS over a 5-39 µS window (state dependent)"
)

PRESETS: dict[str, dict[str, object]] = {
    "reram-neurram": {
        "g_min": 5e-6,
        "g_max": 50e-6,
        "cell_bits": 4,
        "slices": 1,
        "program_sigma": 2.0e-6 / 45e-6,
        "sigma_model": "state_dependent",
        "read_noise": 0.01,
        "read_noise_mode": "output",
        "stuck_low": 0.0,
        "stuck_high": 0.0,
        "drift_nu": 0.0,
        "drift_nu_std": 0.0,
        "drift_t0": 1.0,
        "drift_time": 0.0,
        "drift_compensation": False,
        "wire_resistance": 1.0,
        "ir_drop": "approx",
        "citations": {
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
    },
    "ideal": {
        "g_min": 5e-6,
        "g_max": 50e-6,
        "cell_bits": 8,
        "slices": 1,
        "program_sigma": 0.0,
        "sigma_model": "constant",
        "read_noise": 0.0,
        "read_noise_mode": "output",
        "stuck_low": 0.0,
        "stuck_high": 0.0,
        "drift_nu": 0.0,
        "drift_nu_std": 0.0,
        "drift_t0": 1.0,
        "drift_time": 0.0,
        "drift_compensation": False,
        "wire_resistance": 0.0,
        "ir_drop": "off",
        "citations": {"all": "ideal devices: no variation, noise, faults, drift or IR drop; 256 levels per cell"},
    },
    "custom": {"citations": {"all": "every parameter set explicitly in the configuration"}},
}


def resolve_device(cfg: ReramConfig) -> DeviceParams:
    """Merge the preset with the keys the configuration sets explicitly."""
    preset = dict(PRESETS[cfg.device.preset])
    citations = dict(preset.pop("citations"))  # type: ignore[arg-type]
    values: dict[str, object] = {}
    explicit = {**cfg.device.model_dump(), **{k: getattr(cfg.array, k) for k in ("wire_resistance", "ir_drop")},
                "verify_cycles": cfg.program.verify_cycles, "verify_tolerance": cfg.program.tolerance,
                "pulses_per_write": cfg.program.pulses_per_write}
    for f in fields(DeviceParams):
        if f.name in ("name", "citations"):
            continue
        v = explicit.get(f.name)
        if v is None:
            v = preset.get(f.name)
        elif f.name in preset and v != preset[f.name]:
            citations[f.name] = "set in the configuration"
        if v is None:
            raise ConfigError(f"device.{f.name} must be set when device.preset = '{cfg.device.preset}'")
        values[f.name] = v
    p = DeviceParams(name=cfg.device.preset, citations=citations, **values)  # type: ignore[arg-type]
    if p.g_max <= p.g_min:
        raise ConfigError(f"device.g_max ({p.g_max}) must exceed device.g_min ({p.g_min})")
    if p.stuck_low + p.stuck_high > 1:
        raise ConfigError("device.stuck_low + device.stuck_high must not exceed 1")
    if p.cell_bits * p.slices > 16:
        raise ConfigError("device.cell_bits * device.slices must not exceed 16 weight bits")
    return p
