"""Energy presets: per-action energies and per-unit areas, each with its unit and source, read from TOML files.

A preset file is what a user edits to model their own macro: ``reram energy presets --show isaac-32nm`` prints a
built-in one to start from, ``energy.preset_file`` (or ``reram energy RUN --preset-file F``) reads one. Every
figure is a table ``{ value = ..., source = "..." }`` under ``[figures]``, its unit named by its key's suffix; the
ADC model lives under ``[adc]`` (:mod:`reram.chip.adc_model`). Every key is required and checked here, in one
place: a missing, negative or non-numeric value, or an unknown key, is a :class:`~reram.errors.ConfigError` naming the
file, the key, its unit and the fix.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from reram.errors import ConfigError

from .adc_model import ADC_MODELS, AdcModel
from .figures import Figure, toml_str

# key: (unit, what it is). The order is the order of a written file.
FIGURES: dict[str, tuple[str, str]] = {
    "node_nm": ("nm", "technology node of the figures"),
    "read_v": ("V", "read voltage the per-read figures assume (the cell energy uses the run's dac.v_read)"),
    "clock_hz": ("Hz", "digital clock the per-cycle and per-operation figures were derived at"),
    "crossbar_cycle_s": ("s", "crossbar read cycle the per-read figures were derived at"),
    "t_read_s": ("s", "read pulse width: cell energy V^2 G t per read or per unit pulse"),
    "dac_energy_j": ("J per row pulse of a 1-bit driver", "row driver / DAC; a b-bit multi-level DAC costs b times "
                     "this (an assumption: linear in resolution)"),
    "dac_area_mm2": ("mm2 per 1-bit DAC", "row driver / DAC area; a b-bit DAC is b times this (linear assumption)"),
    "array_read_energy_j": ("J per 128x128 array read", "crossbar read as one figure (used by --validate isaac; "
                            "a run's cell energy is V^2 G t from its programmed conductances)"),
    "array_area_mm2": ("mm2 per 128x128 array", "crossbar array area, scaled by rows x cols"),
    "sample_hold_energy_j": ("J per sample", "sample-and-hold, one per conversion"),
    "sample_hold_bit_energy_j": ("J per sample", "sample of a column per input bit read (integrating inputs: every "
                                 "bit of a phase; NeuRRAM samples once per input bit), as well as or instead of the "
                                 "sample per conversion"),
    "wordline_cap_fixed_f": ("F per wordline", "wordline capacitance outside its cells (its driver and wire); a "
                             "wordline switches once per input bit read (integrating inputs: once per bit of a phase)"),
    "wordline_cap_per_cell_f": ("F per cell", "wordline capacitance of each cell on it (access-transistor gate and "
                                "coupling), times the array's columns"),
    "wordline_v_low": ("V", "wordline low level; a switching draws C (v_high - v_low) v_high from the supply"),
    "wordline_v_high": ("V", "wordline high level (the supply the switching charge comes from)"),
    "sample_hold_area_mm2": ("mm2 per unit", "sample-and-hold area, one per column pair"),
    "integrator_energy_j": ("J per unit step per column", "charge integrator of integrating inputs"),
    "integrator_area_mm2": ("mm2 per column", "charge integrator area (integrating inputs), one per column pair"),
    "shift_add_energy_j": ("J per ADC code", "shift-and-add of one ADC code (one per conversion, as a run counts)"),
    "shift_add_area_mm2": ("mm2 per unit", "shift-and-add area, one per ADC lane"),
    "input_buffer_energy_j": ("J per byte read", "input register feeding the DACs"),
    "input_buffer_area_mm2": ("mm2 per byte", "input register area"),
    "output_buffer_energy_j": ("J per write", "output register (one result word)"),
    "output_buffer_area_mm2": ("mm2 per byte", "output register area (the logit banks)"),
    "feature_buffer_energy_j": ("J per byte accessed", "feature-map buffer (eDRAM/SRAM) between layers"),
    "feature_buffer_area_mm2": ("mm2 per byte", "feature-map buffer area (the double-buffered maps)"),
    "feature_buffer_energy_low_j": ("J per byte accessed", "feature-map buffer: the low end of the published figures "
                                    "(the band shown with the result)"),
    "feature_buffer_energy_high_j": ("J per byte accessed", "feature-map buffer: the high end of the published figures "
                                     "(the band shown with the result)"),
    "feature_buffer_leakage_w_per_byte": ("W per byte", "feature-map buffer static power, per byte held"),
    "bus_energy_j": ("J per byte moved", "buffer-to-macro bus (used by --validate isaac)"),
    "bus_area_mm2": ("mm2 per tile", "buffer-to-macro bus area (used by --validate isaac)"),
    "control_energy_j": ("J per controller cycle", "controller, activation and pooling logic of one layer"),
    "control_area_mm2": ("mm2 per controller", "controller, activation and pooling logic area"),
    "leakage_w_per_mm2": ("W per mm2", "static power not already in the per-action figures, times the area"),
    "router_w": ("W per tile", "on-chip router (used by --validate isaac)"),
    "router_area_mm2": ("mm2 per tile", "on-chip router area (used by --validate isaac)"),
    "chip_io_w": ("W per chip", "off-chip links (used by --validate isaac)"),
    "chip_io_area_mm2": ("mm2 per chip", "off-chip links area (used by --validate isaac)"),
    "write_pulse_energy_j": ("J per SET/RESET pulse", "programming pulse (one-time cost per chip)"),
    "write_pulse_s": ("s per pulse", "programming pulse width with its verify read (one-time cost per chip)"),
}
TOP_KEYS = ("name", "description", "figures", "adc")
# figures a preset file may leave out (files written before they existed): their value when missing
OPTIONAL: dict[str, tuple[str, float | None]] = {
    "feature_buffer_energy_low_j": ("feature_buffer_energy_j", None),
    "feature_buffer_energy_high_j": ("feature_buffer_energy_j", None),
    "feature_buffer_leakage_w_per_byte": ("", 0.0),
    "sample_hold_bit_energy_j": ("", 0.0),
    "wordline_cap_fixed_f": ("", 0.0),
    "wordline_cap_per_cell_f": ("", 0.0),
    "wordline_v_low": ("", 0.0),
    "wordline_v_high": ("", 0.0),
}


@dataclass(frozen=True)
class EnergyPreset:
    """A validated preset: every figure of :data:`FIGURES` and the ADC model."""

    name: str
    description: str
    figures: dict[str, Figure]
    adc: AdcModel
    origin: str = field(default="", compare=False)  # "built-in" or the file it was read from

    def __getitem__(self, key: str) -> Figure:
        return self.figures[key]

    def value(self, key: str) -> float:
        return self.figures[key].value

    @property
    def node(self) -> str:
        return f"{self.value('node_nm'):g} nm"

    def adc_energy(self, bits: int) -> Figure:
        return self.adc.energy(bits)

    def dac_energy(self, bits_per_pulse: int) -> float:
        """Energy of one row pulse of a driver of ``bits_per_pulse`` bits (1 for pulse inputs)."""
        return self.value("dac_energy_j") * bits_per_pulse

    def wordline_energy(self, cells: int) -> float:
        """Energy of one wordline switching (up and down) on a wordline of ``cells`` cells: C (v_high - v_low)
        v_high, drawn from the supply at v_high."""
        c = self.value("wordline_cap_fixed_f") + cells * self.value("wordline_cap_per_cell_f")
        v_hi, v_lo = self.value("wordline_v_high"), self.value("wordline_v_low")
        return c * max(v_hi - v_lo, 0.0) * v_hi

    def dac_area(self, bits: int) -> float:
        return self.value("dac_area_mm2") * bits

    def to_toml(self) -> str:
        """The preset as a TOML file that :func:`parse_preset` reads back to an equal preset."""
        out = ["# reram energy preset: every figure has its value (in the unit its key names) and its source.",
               "# Edit the values and sources to model your own macro; read it with",
               "#   reram run --set energy.preset_file=FILE   or   reram energy RUN --preset-file FILE",
               f"name = {toml_str(self.name)}", f"description = {toml_str(self.description)}", "", "[figures]"]
        for key, (unit, what) in FIGURES.items():
            f = self.figures[key]
            out.append(f"# {what} [{unit}]")
            out.append(f"{key} = {{ value = {_num(f.value)}, source = {toml_str(f.source)} }}")
        out += ["", *self.adc.toml_lines()]
        return "\n".join(out) + "\n"


def _num(v: float) -> str:
    return repr(float(v))


def parse_preset(text: str, origin: str) -> EnergyPreset:
    """Parse and check a preset file's text (``origin`` names it in errors)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{origin}: not valid TOML ({e}); start from 'reram energy presets --show "
                          "isaac-32nm'") from None
    unknown = sorted(set(doc) - set(TOP_KEYS))
    if unknown:
        raise ConfigError(f"{origin}: unknown key {unknown[0]!r}; a preset has {', '.join(TOP_KEYS)}")
    for key in ("name", "description"):
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise ConfigError(f"{origin}: {key!r} is missing or not a string; add {key} = \"...\"")
    figs = doc.get("figures")
    if not isinstance(figs, dict):
        raise ConfigError(f"{origin}: the [figures] table is missing; copy it from 'reram energy presets --show "
                          "isaac-32nm'")
    extra = sorted(set(figs) - set(FIGURES))
    if extra:
        raise ConfigError(f"{origin}: figures.{extra[0]} is not a preset figure; the figures are "
                          f"{', '.join(FIGURES)}")
    figures = {}
    for key, (unit, _) in FIGURES.items():
        where = f"{origin}: figures.{key} [{unit}]"
        if key not in figs and key in OPTIONAL:
            like, default = OPTIONAL[key]
            v = default if default is not None else figures[like].value
            figures[key] = Figure(v, unit, f"not in this preset file: {'no band' if like else 'not counted'} "
                                  f"(as {like or 'zero'})")
            continue
        if key not in figs:
            raise ConfigError(f"{where} is missing; add {key} = {{ value = ..., source = \"...\" }}")
        entry = figs[key]
        if not isinstance(entry, dict) or set(entry) - {"value", "source"}:
            raise ConfigError(f"{where} must be a table {{ value = ..., source = \"...\" }}")
        v = check_number(entry.get("value"), where)
        src = entry.get("source")
        if not isinstance(src, str) or not src.strip():
            raise ConfigError(f"{where} has no source; add source = \"...\" (a citation or a derivation)")
        if key in ("node_nm", "clock_hz", "crossbar_cycle_s", "t_read_s", "read_v") and v == 0:
            raise ConfigError(f"{where} = 0; it must be positive")
        figures[key] = Figure(v, unit, src)
    adc_doc = doc.get("adc")
    if not isinstance(adc_doc, dict):
        raise ConfigError(f"{origin}: the [adc] table is missing; copy it from 'reram energy presets --show "
                          "isaac-32nm'")
    adc = AdcModel.from_toml(adc_doc, f"{origin}: adc")
    return EnergyPreset(doc["name"], doc["description"], figures, adc, origin)


def check_number(v: object, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(f"{where} is {v!r}, not a number; give a non-negative number")
    if not math.isfinite(v) or v < 0:
        raise ConfigError(f"{where} is {v!r}; give a finite, non-negative number")
    return float(v)


BUILTIN = ("isaac-32nm", "isaac-22nm-scaled", "neurram-130nm")
RENAMED = {"neurosim-22nm": "isaac-22nm-scaled"}


def builtin_text(name: str) -> str:
    if name in RENAMED:
        raise ConfigError(f"energy preset {name!r} was renamed {RENAMED[name]!r} (it is ISAAC scaled to 22 nm, not "
                          "a NeuroSim model); use that name")
    if name not in BUILTIN:
        raise ConfigError(f"energy.preset: unknown preset {name!r}; choose one of {', '.join(BUILTIN)}, or give "
                          "your own file with energy.preset_file")
    return resources.files("reram.chip").joinpath("builtin", f"{name}.toml").read_text(encoding="utf-8")


def get_preset(name: str) -> EnergyPreset:
    """A built-in preset by name."""
    p = parse_preset(builtin_text(name), f"built-in preset {name}")
    return EnergyPreset(p.name, p.description, p.figures, p.adc, "built-in")


def load_preset_file(path: str | Path) -> EnergyPreset:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"energy preset file {p} does not exist; write one with 'reram energy presets --show "
                          f"isaac-32nm > {p.name}'") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read energy preset file {p}: {e}") from None
    return parse_preset(text, str(p))


def resolve_preset(ecfg) -> EnergyPreset:
    """The preset an ``[energy]`` configuration selects: ``preset_file`` if set, else the built-in ``preset``."""
    if ecfg.preset_file:
        return load_preset_file(ecfg.preset_file)
    return get_preset(ecfg.preset)


def presets_table() -> list[dict]:
    """The built-ins: name, description, node, ADC model, the works their figures cite, and how many figures are
    marked as assumptions."""
    from .figures import CITATIONS

    rows = []
    for name in BUILTIN:
        p = get_preset(name)
        srcs = [f.source for f in p.figures.values()] + [p.adc.source, p.adc.band_source, p.adc.area_source]
        rows.append({"name": name, "description": p.description, "node": p.node, "adc_model": p.adc.model,
                     "cites": {k: v for k, v in CITATIONS.items() if any(v in s for s in srcs)},
                     "assumptions": sum("assumption" in s for s in srcs)})
    return rows


__all__ = ["ADC_MODELS", "BUILTIN", "FIGURES", "EnergyPreset", "get_preset", "load_preset_file", "parse_preset",
           "presets_table", "resolve_preset"]
