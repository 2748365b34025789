"""The device field list: every device and array parameter written once, as the typed fields of
:class:`DeviceParams`, each with its unit, bounds, configuration key, default and what a noise-free device has.

Everything else derives from this list:

* the configuration schema's ``[device]`` keys and the device keys of ``[array]`` and ``[program]``
  (:mod:`reram.config.schema` builds them with :func:`config_fields`);
* the presets (one module per technology in :mod:`reram.chip.presets`), which are ``DeviceParams`` instances;
* :func:`noise_free` (the ``ideal`` value of each field);
* the device part of the IR's architecture parameters (:func:`arch_values`: the fields marked ``arch``).

Citations are per preset (``DeviceParams.citations``).
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any

KEEP = object()  # noise_free keeps the value


@dataclass(frozen=True)
class FieldSpec:
    """What the configuration and the rest of the code need to know about one device field."""

    unit: str
    description: str
    section: str = "device"  # configuration section holding the key
    key: str = ""  # configuration key ("" : the field's name)
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    choices: tuple[str, ...] = ()
    config_default: Any = None  # None: the preset's value (the key is unset by default)
    ideal: Any = KEEP  # the noise-free device's value
    arch: bool = False  # part of the IR's architecture parameters


def _f(default: Any = MISSING, **spec: Any) -> Any:
    return field(default=default, metadata={"spec": FieldSpec(**spec)})


@dataclass(frozen=True)
class DeviceParams:
    """Fully resolved device and array parameters (SI units): the device field list."""

    name: str
    g_min: float = _f(unit="S", gt=0, arch=True,
                      description="Lowest programmable conductance in S (preset: 5e-6).")
    g_max: float = _f(unit="S", gt=0, arch=True,
                      description="Highest programmable conductance in S (preset: 50e-6).")
    cell_bits: int = _f(unit="bits", ge=1, le=8, arch=True,
                        description="Bits per cell: 2**bits programmable levels.")
    slices: int = _f(unit="cells", ge=1, le=4, arch=True,
                     description="Cells per weight magnitude (bit slicing).")
    program_sigma: float = _f(unit="fraction of the window", ge=0, le=1, ideal=0.0,
                              description="Programming error sigma as a fraction of the window (constant model).")
    sigma_model: str = _f(unit="", choices=("constant", "state_dependent"), ideal="constant",
                          description="'constant' (program_sigma) or 'state_dependent' (NeuRRAM-fitted sigma(G)).")
    read_noise: float = _f(unit="fraction of G", ge=0, le=1, ideal=0.0,
                           description="Read noise sigma, relative to G, per read.")
    read_noise_mode: str = _f(unit="", choices=("output", "cell"),
                              description="'output' (exact output-referred Gaussian, fast) or 'cell' (per-cell "
                              "draws, slow).")
    stuck_low: float = _f(unit="fraction of cells", ge=0, le=1, ideal=0.0,
                          description="Fraction of cells stuck at G_min (high R).")
    stuck_high: float = _f(unit="fraction of cells", ge=0, le=1, ideal=0.0,
                           description="Fraction of cells stuck at G_max (low R).")
    drift_nu: float = _f(unit="", ge=0, le=1, ideal=0.0,
                         description="Mean drift exponent nu in G(t)=G0 (t/t0)^-nu.")
    drift_nu_std: float = _f(unit="", ge=0, le=1, ideal=0.0, description="Device-to-device spread of nu.")
    drift_t0: float = _f(unit="s", gt=0, description="Drift reference time t0 in s.")
    drift_time: float = _f(unit="s", ge=0, description="Time since programming at inference, in s.")
    drift_compensation: bool = _f(unit="", description="One calibrated global gain per tile after drift.")
    wire_resistance: float = _f(unit="ohm per cell segment", section="array", ge=0, ideal=0.0,
                                description="Wire resistance per cell segment in ohm.")
    ir_drop: str = _f(unit="", section="array", choices=("off", "approx", "solve"), ideal="off",
                      description="IR drop in the engine: 'off', 'approx' (static first-order model) or 'solve' "
                      "(each programmed array's exact transfer matrix: data-dependent, equal to the nodal solve "
                      "of every MVM by superposition; about 0.1 s per 128 x 128 array and 1-2 s per 256 x 256 "
                      "array when a chip is programmed). Errors against the exact nodal solve, "
                      "reram.analog.irdrop.solve_exact: benchmarks/irdrop_error.py.")
    grid_sub_bits: int = _f(8, unit="bits", ge=4, le=12, config_default=8, arch=True,
                            description="Integer conductance grid: 2**bits steps per programmable level.")
    verify_cycles: int = _f(0, unit="cycles", section="program", ge=0, le=20, config_default=6,
                            description="Program-and-verify cycles after the first write: each reads every cell "
                            "(with read noise) and programs again those outside the tolerance, drawing a new "
                            "programming error. 0: one write, no verify.")
    verify_tolerance: float = _f(1e-6, unit="S", section="program", key="tolerance", gt=0, le=20e-6,
                                 config_default=1.0e-6,
                                 description="Acceptance range +- around the target conductance, in S (1 µS: an "
                                 "assumption, under NeuRRAM's 1.6-2.5 µS spread).")
    pulses_per_write: float = _f(8.0, unit="pulses", section="program", gt=0, le=1000, config_default=8.0,
                                 description="Mean SET/RESET pulses of one incremental-pulse write (an assumption; "
                                 "NeuRRAM Extended Data Fig. 3f shows their distribution).")
    citations: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def levels(self) -> int:
        return 2**self.cell_bits

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def device_fields() -> list[tuple[str, type | str, FieldSpec]]:
    """(name, annotation, spec) of every device field, in order."""
    return [(f.name, f.type, f.metadata["spec"]) for f in fields(DeviceParams) if "spec" in f.metadata]


def noise_free(dev: DeviceParams) -> DeviceParams:
    """The same device without variation, read noise, stuck-at faults, drift or IR drop."""
    ideal = {n: s.ideal for n, _, s in device_fields() if s.ideal is not KEEP}
    return replace(dev, name=f"{dev.name}-noise-free", **ideal)


def arch_values(dev: DeviceParams) -> dict[str, Any]:
    """The device's part of the IR's architecture parameters (:class:`reram.ir.ArchParams`)."""
    return {n: getattr(dev, n) for n, _, s in device_fields() if s.arch}


def state_dependent_sigma(g: object, p: DeviceParams):  # g: tensor of conductances in S
    """NeuRRAM-fitted sigma(G) in S: 1.6 µS at 5 µS rising linearly to 2.5 µS at 39 µS, clipped."""
    import torch

    g = torch.as_tensor(g)
    return (1.6e-6 + (g - 5e-6) * (0.9e-6 / 34e-6)).clamp(1.6e-6, 2.5e-6)
