"""Energy, area and latency of a compiled model on a programmed chip: event counts x per-action energies.

Accounting boundaries (printed beside every TOPS/W figure):
* ``array``  : cell reads (V^2 G t), row drivers / DACs (per pulse of each physical row) and wordline switching
  (per input bit read, where the preset gives a wordline capacitance);
* ``macro``  : array + ADCs + samples (per conversion, and per input bit where the preset charges it) + integrators
  (integrating inputs) + shift-and-add;
* ``system`` : macro + input/output registers, feature-map buffers, controllers (activation and pooling logic), and
  static power (leakage x latency): the feature-map buffers' leakage per byte held and the preset's leakage per mm2
  where the preset gives them; where it gives neither, the system boundary is labelled "dynamic only".
Ops convention: 2 ops per MAC, MACs = the network's logical multiply-accumulates (sum of in x out).

Input modes (``dac.mode``): a multi-level DAC drives each row once with its code (one b-bit driver pulse, one
conversion per column); bit-serial inputs drive one 1-bit pulse per input bit and convert each (ISAAC); integrating
inputs drive bit b for 2^b unit pulses whose charge the column integrator sums, then convert once per phase.
"""

from __future__ import annotations

import numpy as np

from reram.chip.energy_preset import EnergyPreset
from reram.config.schema import RtlConfig
from reram.golden import golden_forward
from reram.ir.core import CompiledModel

from .baselines import BASELINES
from .components.cell import cell_read_energy

COMPONENTS = ("cell", "driver", "wordline", "adc", "sample_hold", "integrator", "shift_add", "input_buffer",
              "output_buffer", "feature_buffer", "residual_add", "control", "static")
BOUNDARIES = {
    "array": ("cell", "driver", "wordline"),
    "macro": ("cell", "driver", "wordline", "adc", "sample_hold", "integrator", "shift_add"),
    "system": COMPONENTS,
}
OPS_PER_MAC = 2


def energy_report(cm: CompiledModel, chip, x_codes: np.ndarray, preset: EnergyPreset, rcfg: RtlConfig,
                  rtl_cycles: tuple[int, int] | None = None) -> dict:
    """``rtl_cycles``: the co-simulation's measured (latency, initiation interval) in cycles, when it ran and
    matched the analytic schedule; otherwise the machine description's analytic figures are used."""
    from reram.ir.machine import ASSUMPTIONS, machine

    a = cm.arch
    n = len(x_codes)
    g = golden_forward(cm, chip, x_codes, collect_events=True)
    inputs = [np.asarray(x_codes) if ly.src < 0 else g.layer_outputs[ly.src] for ly in cm.layers]
    cells = cell_read_energy(cm, chip, inputs, preset.value("t_read_s"))
    m = machine(cm, rcfg)
    cyc_layers = [ly.cycles for ly in m.layers]  # each layer's controller is busy this long per inference
    lat_cycles, ii_cycles = rtl_cycles if rtl_cycles is not None else (m.latency_cycles, m.ii_cycles)
    latency = lat_cycles / rcfg.clock_hz
    e_adc = preset.adc_energy(a.adc_bits).value
    area = area_breakdown(m, preset, a)
    static = static_power(m, preset, area)
    static_w = static["w"]
    per_layer = []
    for li, (layer, ev) in enumerate(zip(cm.layers, g.layer_events, strict=True)):
        e = macro_energy(ev, preset, a, n, cells[li])
        e |= {
            "input_buffer": ev["input_buffer_reads"] * -(-a.dac_bits // 8) * preset.value("input_buffer_energy_j") / n,
            "output_buffer": ev["output_buffer_writes"] * preset.value("output_buffer_energy_j") / n,
            "feature_buffer": ev["feature_buffer_bytes"] * preset.value("feature_buffer_energy_j") / n,
            # a residual add: one adder operation per output value (charged as one shift-and-add, the same adder
            # width), and its operand's bytes written to and read from the skip buffer (a feature-map buffer)
            "residual_add": (ev.get("residual_adds", 0) * preset.value("shift_add_energy_j")
                             + ev.get("skip_buffer_bytes", 0) * preset.value("feature_buffer_energy_j")) / n,
            "control": cyc_layers[li] * preset.value("control_energy_j"),
            # static power over one inference through an idle pipeline, shared out by the layers' cycles
            "static": static_w * latency * cyc_layers[li] / sum(cyc_layers),
        }
        per_layer.append({"layer": layer.name, "energy_j": e, "events_per_inference":
                          {k: v / n for k, v in ev.items()}, "macs": layer.macs,
                          "positions": layer.positions})
    by_component = {c: sum(pl["energy_j"][c] for pl in per_layer) for c in COMPONENTS}
    macs = sum(pl["macs"] for pl in per_layer)
    lo_adc, hi_adc = preset.adc.band(a.adc_bits)
    boundaries = []
    for name, comps in BOUNDARIES.items():
        e = sum(by_component[c] for c in comps)
        has_adc = "adc" in comps
        e_lo = e - has_adc * by_component["adc"] * (1 - preset.adc.band_low)
        e_hi = e - has_adc * by_component["adc"] * (1 - preset.adc.band_high)
        boundaries.append({
            "boundary": name, "components": list(comps), "energy_per_inference_j": e,
            "tops_per_w": OPS_PER_MAC * macs / e / 1e12,
            "tops_per_w_range": [OPS_PER_MAC * macs / e_hi / 1e12, OPS_PER_MAC * macs / e_lo / 1e12],
            "ops_convention": f"{OPS_PER_MAC} ops per MAC", "energy_per_mac_j": e / macs,
            "static": ("included" if static_w > 0 else "dynamic only") if "static" in comps else "not in boundary",
        })
    system = boundaries[-1]["energy_per_inference_j"]
    fb = by_component["feature_buffer"]
    fb_band = {}
    for end, key in (("low", "feature_buffer_energy_low_j"), ("nominal", "feature_buffer_energy_j"),
                     ("high", "feature_buffer_energy_high_j")):
        e_fb = fb * preset.value(key) / preset.value("feature_buffer_energy_j") if fb else 0.0
        e_sys = system - fb + e_fb
        fb_band[end] = {"j_per_byte": preset.value(key), "source": preset[key].source,
                        "energy_j": e_fb, "share_of_system": e_fb / e_sys,
                        "system_tops_per_w": OPS_PER_MAC * macs / e_sys / 1e12}
    return {
        "preset": preset.name, "preset_origin": preset.origin, "node": preset.node,
        "preset_description": preset.description, "input_mode": input_mode(a),
        "samples": n, "macs_per_inference": macs, "ops_convention": f"{OPS_PER_MAC} ops per MAC",
        "energy_per_inference_j": system, "energy_per_mac_j": system / macs,
        "by_component_j": by_component, "by_layer": per_layer, "boundaries": boundaries,
        "adc_energy_per_conversion_j": {"low": lo_adc, "nominal": e_adc, "high": hi_adc,
                                        "model": preset.adc.model, "band_source": preset.adc.band_source},
        "latency_cycles": lat_cycles, "ii_cycles": ii_cycles, "layer_cycles": cyc_layers,
        "cycles_source": "RTL co-simulation" if rtl_cycles is not None else "analytic cycle model (machine "
        "description)",
        "clock_hz": rcfg.clock_hz, "latency_s": latency, "assumptions": ASSUMPTIONS,
        "throughput_per_s": rcfg.clock_hz / ii_cycles, "edp_js": system * latency, "static_power_w": static_w,
        "static_power": static, "feature_buffer_band": fb_band,
        "area_mm2": area,
        "machine": {"arrays": m.total_arrays, "adcs": m.total_adcs, "act_lanes_per_layer": m.act_lanes,
                    "buffer_bits": m.buffer_bits, "controllers": m.n_layers, "array_read_cycles": m.array_lat},
        "figures": {k: f.to_dict() for k, f in preset.figures.items()}
        | {"adc": preset.adc_energy(a.adc_bits).to_dict(),
           "adc_area": {"value": preset.adc.area(a.adc_bits), "unit": "mm2/ADC", "source": preset.adc.area_source}},
        "adc_model": preset.adc.to_dict(),
        "programming": programming_cost(cm, chip, preset, m.total_arrays, system),
        "events_per_inference": {k: v / n for k, v in g.events.items()},
        "baselines": [b.to_dict() for b in BASELINES],
    }


def macro_energy(ev: dict[str, float], preset: EnergyPreset, a, n: int, cell_j: float) -> dict[str, float]:
    """The analog macro's energy per inference from the event counts ``ev`` of ``n`` inferences (the golden model's
    :func:`reram.golden.model.count_events`) and the cells' energy ``cell_j`` over them: row drivers per pulse,
    wordline switching per input bit (C (v_high - v_low) v_high over the array's columns), ADC conversions,
    samples per conversion and per input bit, integrator steps, shift-and-adds. The run and the published-macro
    checks (:mod:`reram.energy.neurram`) both charge through here."""
    e_dac = preset.dac_energy(a.dac_bits if a.dac_mode == "multilevel" else 1)
    return {
        "cell": cell_j / n,
        "driver": ev["dac_pulses"] * e_dac / n,
        "wordline": ev.get("wordline_pulses", 0) * preset.wordline_energy(a.cols) / n,
        # each input slice's conversions at its ADC resolution (every slice converts as often)
        "adc": ev["adc_conversions"] / a.input_slices * sum(preset.adc_energy(b).value for b in a.slice_adc_bits) / n,
        "sample_hold": (ev["adc_conversions"] * preset.value("sample_hold_energy_j")
                        + ev.get("bit_samples", 0) * preset.value("sample_hold_bit_energy_j")) / n,
        "integrator": ev["integrator_steps"] * preset.value("integrator_energy_j") / n,
        "shift_add": ev["shift_adds"] * preset.value("shift_add_energy_j") / n,
    }


def programming_cost(cm: CompiledModel, chip, preset: EnergyPreset, arrays: int, e_inference: float) -> dict:
    """The one-time cost of programming the chip (program-and-verify, :func:`reram.chip.program.program_verified`):
    every write costs ``pulses_per_write`` pulses at the preset's pulse energy and time; every verify read reads a
    cell at the read voltage for the read pulse. Arrays program in parallel, their cells one at a time."""
    st = getattr(chip, "program_stats", None) or {}
    if not st:
        return {"recorded": False, "note": "the chip file has no programming record (written by an older reram)"}
    dev = cm.meta.get("device", {})
    ppw = float(dev.get("pulses_per_write", 8.0))
    pulses = st["writes"] * ppw
    a = cm.arch
    g_mean = float(np.mean([(cl.g_pos.mean() + cl.g_neg.mean()) / 2 for cl in chip.layers])) * a.g_lsb
    t_read = preset.value("t_read_s")
    e_verify = st.get("verify_reads", 0.0) * a.v_read**2 * g_mean * t_read
    energy = pulses * preset.value("write_pulse_energy_j") + e_verify
    time_s = (pulses * preset.value("write_pulse_s") + st.get("verify_reads", 0.0) * t_read) / max(arrays, 1)
    return {"recorded": True, "cells": st["cells"], "writes": st["writes"],
            "writes_per_cell": st["writes"] / st["cells"],
            "verify_cycles": int(dev.get("verify_cycles", 0)), "verify_reads": st.get("verify_reads", 0.0),
            "pulses_per_write": ppw, "pulses": pulses, "energy_j": energy, "time_s": time_s,
            "inferences_of_equal_energy": energy / e_inference if e_inference else None,
            "assumptions": "pulse energy and time from the preset (write_pulse_energy_j, write_pulse_s); "
                           "arrays program in parallel, cells one at a time"}


def _logit_bits(m) -> int:
    """The double-buffered logit banks' bits (64-bit words): the part of ``m.buffer_bits`` that is not feature maps."""
    return 2 * m.layers[-1].out_features * 64


def static_power(m, preset: EnergyPreset, area: dict[str, float]) -> dict:
    """Static power of the machine ``m``: the feature-map buffers' leakage per byte held (their double-buffered
    maps) and the preset's leakage per mm2 of everything, each where the preset gives it (its source is listed);
    ``dynamic_only`` when it gives neither."""
    held = (m.buffer_bits - _logit_bits(m)) / 8
    parts = {"feature_buffer": held * preset.value("feature_buffer_leakage_w_per_byte"),
             "area": area["total"] * preset.value("leakage_w_per_mm2")}
    sources = {"feature_buffer": preset["feature_buffer_leakage_w_per_byte"].source,
               "area": preset["leakage_w_per_mm2"].source}
    w = sum(parts.values())
    return {"w": w, "parts_w": parts, "sources": sources, "dynamic_only": w == 0,
            "label": "dynamic only (the preset gives no static power figure)" if w == 0 else
            "dynamic + static (" + ", ".join(k for k, v in parts.items() if v) + " leakage)"}


def input_mode(a) -> dict:
    """The input mode in words and numbers: slices per input, bits per slice, unit pulses per slice."""
    return {"mode": a.dac_mode, "dac_bits": a.dac_bits, "phases": a.input_slices, "bits_per_phase": a.slice_bits,
            "unit_steps_per_phase": a.integration_steps,
            "conversions_per_output": a.input_slices * a.slices,
            # most significant phase first, as configured (dac.phase_bits, adc.phase_bits)
            "phase_bits": list(reversed(a.slice_widths)), "adc_phase_bits": list(reversed(a.slice_adc_bits)),
            "unit_steps_by_phase": list(reversed(a.slice_steps))}


def area_breakdown(m, preset: EnergyPreset, arch=None) -> dict[str, float]:
    """Area of the machine description ``m`` (:class:`reram.ir.machine.Machine`): every array of every layer
    with its DACs (b bits for a multi-level DAC, 1-bit pulse drivers otherwise), ADC lanes at the ADC resolution,
    sample-and-holds, integrators (integrating inputs), shift-adders, the double-buffered feature maps and logits,
    and one controller per layer."""
    arrays = m.total_arrays
    logit_bits = _logit_bits(m)
    dac_bits = m.xw if m.slice_bits == m.xw else 1
    integrating = arch is not None and arch.dac_mode == "integrating"
    out = {
        "arrays": arrays * preset.value("array_area_mm2") * (m.rows * 2 * m.pairs) / (128 * 128),
        "dacs": arrays * m.rows * (arch.rows_per_input if arch is not None else 1) * preset.dac_area(dac_bits),
        "adcs": m.total_adcs * preset.adc.area(m.adc_bits),
        "sample_hold": arrays * m.pairs * preset.value("sample_hold_area_mm2"),
        "integrators": arrays * m.pairs * preset.value("integrator_area_mm2") * integrating,
        "shift_add": m.total_adcs * preset.value("shift_add_area_mm2"),
        "buffers": (m.buffer_bits - logit_bits) / 8 * preset.value("feature_buffer_area_mm2")
        + logit_bits / 8 * preset.value("output_buffer_area_mm2"),
        "control": m.n_layers * preset.value("control_area_mm2"),
    }
    out["total"] = sum(out.values())
    return out
