"""Energy/area presets. Every figure carries its source (a citation or a derivation from cited numbers)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from reram.errors import ConfigError

from .components.adc import FOM_BEST_J, family_energy, isaac_adc_area, walden_energy
from .components.base import ISAAC, NEUROSIM, Figure
from .components.buffer import isaac_input_buffer, isaac_output_buffer
from .components.control import isaac_control
from .components.driver import isaac_dac_1bit
from .components.sample_hold import isaac_sample_hold
from .components.shift_add import isaac_shift_add


@dataclass(frozen=True)
class EnergyPreset:
    name: str
    node: str
    dac_1bit: Figure
    dac_area: Figure
    adc_model: str  # "family" or "walden"
    adc_fom: float  # J per conversion step (walden model)
    adc_area: Figure
    sample_hold: Figure
    sample_hold_area: Figure
    shift_add: Figure
    shift_add_area: Figure
    in_buffer: Figure
    in_buffer_area: Figure
    out_buffer: Figure
    out_buffer_area: Figure
    control_power_w: Figure
    control_area: Figure
    array_area: Figure  # per 128x128-equivalent array
    t_read: Figure
    scale_note: str = ""

    def adc_energy(self, bits: int) -> Figure:
        return family_energy(bits) if self.adc_model == "family" else walden_energy(bits, self.adc_fom)

    def control_energy(self, clock_hz: float) -> float:
        return self.control_power_w.value / clock_hz


def _isaac() -> EnergyPreset:
    dac, dac_a = isaac_dac_1bit()
    sh, sh_a = isaac_sample_hold()
    sa, sa_a = isaac_shift_add()
    ib, ib_a = isaac_input_buffer()
    ob, ob_a = isaac_output_buffer()
    ctrl_e, ctrl_a = isaac_control(1.0)
    return EnergyPreset(
        name="isaac-32nm", node="32 nm", dac_1bit=dac, dac_area=dac_a, adc_model="family", adc_fom=0.0,
        adc_area=isaac_adc_area(), sample_hold=sh, sample_hold_area=sh_a, shift_add=sa, shift_add_area=sa_a,
        in_buffer=ib, in_buffer_area=ib_a, out_buffer=ob, out_buffer_area=ob_a,
        control_power_w=Figure(ctrl_e.value, "W", ctrl_e.source.replace(" / clock", "")), control_area=ctrl_a,
        array_area=Figure(0.0002 / 8, "mm2/array", f"{ISAAC}: 0.0002 mm2 / 8 arrays of 128x128"),
        t_read=Figure(10e-9, "s", NEUROSIM + " (read pulse); ISAAC's 100 ns cycle covers the whole read"),
    )


def _scaled(p: EnergyPreset, name: str, node: str, e: float, a: float, note: str) -> EnergyPreset:
    def sc(f: Figure, k: float) -> Figure:
        return Figure(f.value * k, f.unit, f"{f.source}; x{k:.3g} ({note})")

    return replace(
        p, name=name, node=node, dac_1bit=sc(p.dac_1bit, e), dac_area=sc(p.dac_area, a),
        sample_hold=sc(p.sample_hold, e), sample_hold_area=sc(p.sample_hold_area, a), shift_add=sc(p.shift_add, e),
        shift_add_area=sc(p.shift_add_area, a), in_buffer=sc(p.in_buffer, e), in_buffer_area=sc(p.in_buffer_area, a),
        out_buffer=sc(p.out_buffer, e), out_buffer_area=sc(p.out_buffer_area, a),
        control_power_w=sc(p.control_power_w, e), control_area=sc(p.control_area, a),
        array_area=sc(p.array_area, a), adc_area=sc(p.adc_area, a), scale_note=note,
    )


def _neurosim_like() -> EnergyPreset:
    base = _isaac()
    note = "scaled from 32 nm to 22 nm: energy x 22/32, area x (22/32)^2, an assumption of constant-field scaling"
    p = _scaled(base, "neurosim-22nm", "22 nm", 22 / 32, (22 / 32) ** 2, note)
    return replace(p, adc_model="walden", adc_fom=FOM_BEST_J,
                   t_read=Figure(10e-9, "s", NEUROSIM))


PRESETS = {"isaac-32nm": _isaac, "neurosim-22nm": _neurosim_like}


def get_preset(name: str) -> EnergyPreset:
    if name not in PRESETS:
        raise ConfigError(f"energy.preset: unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]()
