"""Energy, area and latency of a compiled model on a programmed chip: event counts x per-action energies.

Accounting boundaries (printed beside every TOPS/W figure):
* ``array``  : cell reads (V^2 G t) and row drivers / DACs;
* ``macro``  : array + ADCs + sample-and-hold + shift-and-add;
* ``system`` : macro + input/output buffers + controller, activation unit and leakage (per cycle).
Ops convention: 2 ops per MAC, MACs = the network's logical multiply-accumulates (sum of in x out).
"""

from __future__ import annotations

import numpy as np

from reram.compile.ir import CompiledModel
from reram.config.schema import RtlConfig
from reram.golden import golden_forward

from .baselines import BASELINES
from .components.adc import band
from .components.cell import cell_read_energy
from .components.driver import dac_energy
from .presets import EnergyPreset

COMPONENTS = ("cell", "driver", "adc", "sample_hold", "shift_add", "input_buffer", "output_buffer", "control")
BOUNDARIES = {
    "array": ("cell", "driver"),
    "macro": ("cell", "driver", "adc", "sample_hold", "shift_add"),
    "system": COMPONENTS,
}
OPS_PER_MAC = 2


def energy_report(cm: CompiledModel, chip, x_codes: np.ndarray, preset: EnergyPreset, rcfg: RtlConfig,
                  rtl_cycles: tuple[int, int] | None = None) -> dict:
    """``rtl_cycles``: the co-simulation's measured (latency, initiation interval) in cycles, when it ran and
    matched the analytic schedule; otherwise the machine description's analytic figures are used."""
    from reram.compile.machine import machine
    from reram.rtl.params import ASSUMPTIONS

    a = cm.arch
    n = len(x_codes)
    g = golden_forward(cm, chip, x_codes, collect_events=True)
    inputs = [np.asarray(x_codes), *g.layer_outputs[:-1]]
    cells = cell_read_energy(cm, chip, inputs, preset.t_read.value)
    m = machine(cm, rcfg)
    cyc_layers = [ly.cycles for ly in m.layers]  # each layer's controller is busy this long per inference
    lat_cycles, ii_cycles = rtl_cycles if rtl_cycles is not None else (m.latency_cycles, m.ii_cycles)
    bits_per_pulse = 1 if a.dac_mode == "bit_serial" else a.dac_bits
    e_dac = dac_energy(preset.dac_1bit.value, bits_per_pulse)
    e_adc = preset.adc_energy(a.adc_bits).value
    e_ctrl = preset.control_energy(rcfg.clock_hz)
    lo_adc, hi_adc = band(a.adc_bits)
    per_layer = []
    for li, (layer, ev) in enumerate(zip(cm.layers, g.layer_events, strict=True)):
        e = {
            "cell": cells[li] / n,
            "driver": ev["dac_row_activations"] * e_dac / n,
            "adc": ev["adc_conversions"] * e_adc / n,
            "sample_hold": ev["adc_conversions"] * preset.sample_hold.value / n,
            "shift_add": ev["shift_adds"] * preset.shift_add.value / n,
            "input_buffer": ev["input_buffer_reads"] * preset.in_buffer.value / n,
            "output_buffer": ev["output_buffer_writes"] * preset.out_buffer.value / n,
            "control": cyc_layers[li] * e_ctrl,
        }
        per_layer.append({"layer": layer.name, "energy_j": e, "events_per_inference":
                          {k: v / n for k, v in ev.items()}, "macs": layer.macs,
                          "positions": layer.positions})
    by_component = {c: sum(pl["energy_j"][c] for pl in per_layer) for c in COMPONENTS}
    macs = sum(pl["macs"] for pl in per_layer)
    conversions = sum(ev["adc_conversions"] for ev in g.layer_events) / n
    latency = lat_cycles / rcfg.clock_hz
    boundaries = []
    for name, comps in BOUNDARIES.items():
        e = sum(by_component[c] for c in comps)
        e_lo = e - by_component.get("adc", 0) * (name != "array") + conversions * lo_adc * (name != "array")
        e_hi = e - by_component.get("adc", 0) * (name != "array") + conversions * hi_adc * (name != "array")
        boundaries.append({
            "boundary": name, "components": list(comps), "energy_per_inference_j": e,
            "tops_per_w": OPS_PER_MAC * macs / e / 1e12,
            "tops_per_w_range": [OPS_PER_MAC * macs / e_hi / 1e12, OPS_PER_MAC * macs / e_lo / 1e12],
            "ops_convention": f"{OPS_PER_MAC} ops per MAC", "energy_per_mac_j": e / macs,
        })
    system = boundaries[-1]["energy_per_inference_j"]
    return {
        "preset": preset.name, "node": preset.node, "scale_note": preset.scale_note,
        "samples": n, "macs_per_inference": macs, "ops_convention": f"{OPS_PER_MAC} ops per MAC",
        "energy_per_inference_j": system, "energy_per_mac_j": system / macs,
        "by_component_j": by_component, "by_layer": per_layer, "boundaries": boundaries,
        "adc_energy_per_conversion_j": {"low": lo_adc, "nominal": e_adc, "high": hi_adc},
        "latency_cycles": lat_cycles, "ii_cycles": ii_cycles, "layer_cycles": cyc_layers,
        "cycles_source": "RTL co-simulation" if rtl_cycles is not None else "analytic cycle model (machine "
        "description)", "clock_hz": rcfg.clock_hz, "latency_s": latency, "assumptions": ASSUMPTIONS,
        "throughput_per_s": rcfg.clock_hz / ii_cycles, "edp_js": system * latency,
        "area_mm2": area_breakdown(m, preset),
        "machine": {"arrays": m.total_arrays, "adcs": m.total_adcs, "act_lanes_per_layer": m.act_lanes,
                    "buffer_bits": m.buffer_bits, "controllers": m.n_layers},
        "figures": {k: getattr(preset, k).to_dict() for k in (
            "dac_1bit", "sample_hold", "shift_add", "in_buffer", "out_buffer", "control_power_w", "t_read")}
        | {"adc": preset.adc_energy(a.adc_bits).to_dict()},
        "events_per_inference": {k: v / n for k, v in g.events.items()},
        "baselines": [b.to_dict() for b in BASELINES],
    }


def area_breakdown(m, preset: EnergyPreset) -> dict[str, float]:
    """Area of the machine description ``m`` (:class:`reram.compile.machine.Machine`): every array of every layer
    with its DACs, ADC lanes, sample-and-holds and shift-adders, the double-buffered feature maps and logits, and
    one controller per layer."""
    arrays = m.total_arrays
    logit_bits = 2 * m.layers[-1].out_features * 64
    out = {
        "arrays": arrays * preset.array_area.value * (m.rows * 2 * m.pairs) / (128 * 128),
        "dacs": arrays * m.rows * preset.dac_area.value,
        "adcs": m.total_adcs * preset.adc_area.value,
        "sample_hold": arrays * m.pairs * preset.sample_hold_area.value,
        "shift_add": m.total_adcs * preset.shift_add_area.value,
        "buffers": (m.buffer_bits - logit_bits) / 8 * preset.in_buffer_area.value
        + logit_bits / 8 * preset.out_buffer_area.value,
        "control": m.n_layers * preset.control_area.value,
    }
    out["total"] = sum(out.values())
    return out


def energy_sensitivity(model, cfg, calib: np.ndarray, x_pixels: np.ndarray, preset: EnergyPreset) -> dict:
    """System TOPS/W (and energy per inference) against ADC bits, cell bits and array size."""
    from reram.analog.program import program_chip
    from reram.compile.flows import FLOW_SPECS, compile_flow, noise_free
    from reram.config import load_config
    from reram.config.presets import resolve_device
    from reram.golden import pixel_codes

    sweeps = {"adc_bits": ("adc.bits", [4, 6, 8, 10]), "cell_bits": ("device.cell_bits", [2, 4, 6]),
              "array_size": ("array.rows", [64, 128, 256])}
    base = cfg.model_dump(mode="json")
    out: dict[str, list[dict]] = {}
    for name, (key, values) in sweeps.items():
        rows = []
        for v in values:
            sets = [f"{key}={v}"] + ([f"array.cols={v}"] if name == "array_size" else [])
            pcfg = load_config(None, sets, base=base)
            dev = noise_free(resolve_device(pcfg))
            cm = compile_flow(model, pcfg, dev, FLOW_SPECS["ideal"], calib, progress=False)
            chip = program_chip(cm, dev, seed=0)
            rep = energy_report(cm, chip, pixel_codes(cm, x_pixels), preset, pcfg.rtl)
            rows.append({"value": v, "tops_per_w": {b["boundary"]: b["tops_per_w"] for b in rep["boundaries"]},
                         "energy_per_inference_j": rep["energy_per_inference_j"],
                         "area_mm2": rep["area_mm2"]["total"], "latency_s": rep["latency_s"]})
        out[name] = rows
    return out
