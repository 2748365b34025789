"""ISAAC (Shafiee et al., ISCA 2016), two ways, against its published tile and chip totals.

* **Table 1 roll-up** (:func:`rollup`): the paper's own per-component powers and areas summed over its
  organisation (168 tiles x 12 IMAs x 8 arrays of 128x128 2-bit cells).
* **Per-action accounting** (:func:`per_action`): reram's method -- event counts x per-action energies of a preset,
  plus static power; units x per-unit areas. The counts are ISAAC's activity at peak, from its organisation alone:
  per IMA and 100 ns crossbar cycle, 8 x 128 DAC pulses, 8 array reads, 8 ADCs at 1.28 GS/s (128 conversions each)
  with a sample each, one shift-and-add per ADC code (the action a run counts: ISAAC's 4 units at 1.2 GHz serve the
  8 x 1.28 G codes/s), 128 bytes of the input register read (1 bit x 1024 rows) and 128 output-register writes
  (8 x 128 columns / 8 weight slices); per tile, the eDRAM's 256-bit port accessed every 1.2 GHz cycle (the rate its
  per-byte figure is derived at) plus its leakage, 12 IMAs each reading 128 16-bit inputs and writing 128 16-bit
  outputs over the bus per 16 cycles, and the digital logic running at 1.2 GHz for 12 IMAs; the router (a quarter per
  tile) and the off-chip links are static power.

:func:`validate` compares each component's power with its Table 1 power as well as the totals, so a figure whose
unit differs from the action counted (e.g. a shift-and-add per 1.2 GHz cycle charged per ADC code) fails it.

Published: tile 330 mW and 0.372 mm2, chip 65.8 W and 85.4 mm2. The peak efficiency follows from the organisation:
16-bit weights in 8 slices, 16-bit inputs bit-serial at one bit per 100 ns, 2 ops per MAC.
"""

from __future__ import annotations

from reram.chip.energy_preset import EnergyPreset
from reram.chip.figures import ISAAC

# (power W, area mm2) per IMA for all units of a kind, and per tile (Table 1)
IMA = {
    "adc": (16e-3, 0.0096), "dac": (4e-3, 0.00017), "sample_hold": (10e-6, 0.00004),
    "array": (2.4e-3, 0.0002), "shift_add": (0.2e-3, 0.00024), "input_register": (1.24e-3, 0.0021),
    "output_register": (0.23e-3, 0.00077),
}
TILE = {
    "edram": (20.7e-3, 0.083), "bus": (7e-3, 0.090), "router": (42e-3 / 4, 0.151 / 4), "sigmoid": (0.52e-3, 0.0006),
    "shift_add": (0.05e-3, 0.00006), "max_pool": (0.4e-3, 0.00024), "output_register": (1.68e-3, 0.0032),
}
CHIP = {"hyper_transport": (10.4, 22.88)}
IMAS_PER_TILE, TILES = 12, 168
ARRAYS, ROWS, COLS, ADCS, SHIFT_ADDS = 8, 128, 128, 8, 4  # per IMA
ADC_RATE, CYCLE, DIGITAL_CLOCK = 1.28e9, 100e-9, 1.2e9
IN_BITS, WEIGHT_SLICES = 16, 8
EDRAM_BYTES, IN_REG_BYTES, OUT_REG_BYTES = 64 * 1024, 2048, 256
EDRAM_PORT_BYTES = 32  # a 256-bit access (the width of Accelergy's and PUMA's ISAAC eDRAM)
PUBLISHED = {"tile_power_w": 0.330, "tile_area_mm2": 0.372, "chip_power_w": 65.8, "chip_area_mm2": 85.4}


def _chip(tile_p: float, tile_a: float, chip_p: float, chip_a: float) -> dict[str, float]:
    return {"tile_power_w": tile_p, "tile_area_mm2": tile_a, "chip_power_w": TILES * tile_p + chip_p,
            "chip_area_mm2": TILES * tile_a + chip_a}


def rollup() -> dict[str, float]:
    """Table 1 summed: tile and chip power and area, and the peak figures."""
    ima_p = sum(p for p, _ in IMA.values())
    ima_a = sum(a for _, a in IMA.values())
    out = _chip(IMAS_PER_TILE * ima_p + sum(p for p, _ in TILE.values()),
                IMAS_PER_TILE * ima_a + sum(a for _, a in TILE.values()),
                sum(p for p, _ in CHIP.values()), sum(a for _, a in CHIP.values()))
    # peak: each IMA's 8 arrays hold 128 rows x (128 / 8 slices) 16-bit weights; a 16-bit input takes 16 cycles
    macs_per_ima = ARRAYS * ROWS * (COLS // WEIGHT_SLICES)
    macs_per_s = macs_per_ima / (IN_BITS * CYCLE) * IMAS_PER_TILE * TILES
    ops = 2 * macs_per_s
    return out | {"ima_power_w": ima_p, "ima_area_mm2": ima_a, "peak_macs_per_s": macs_per_s,
                  "peak_tops": ops / 1e12, "peak_tops_per_w": ops / 1e12 / out["chip_power_w"],
                  "peak_tops_per_mm2": ops / 1e12 / out["chip_area_mm2"]}


def tile_events_per_s() -> dict[str, float]:
    """ISAAC's activity at peak, per tile and second (see the module docstring)."""
    per_cycle = IMAS_PER_TILE / CYCLE
    bus_bytes = IMAS_PER_TILE * 2 * (ROWS * IN_BITS // 8) / (IN_BITS * CYCLE)  # 128 inputs in + 128 outputs out
    return {
        "dac_pulses": ARRAYS * ROWS * per_cycle,
        "array_reads": ARRAYS * per_cycle,
        "adc_conversions": IMAS_PER_TILE * ADCS * ADC_RATE,
        "samples": ARRAYS * COLS * per_cycle,
        "shift_adds": IMAS_PER_TILE * ADCS * ADC_RATE,  # one per ADC code, as a run counts
        "input_register_bytes": ARRAYS * ROWS / 8 * per_cycle,
        "output_register_writes": ARRAYS * COLS / WEIGHT_SLICES * per_cycle,
        "edram_bytes": EDRAM_PORT_BYTES * DIGITAL_CLOCK,
        "bus_bytes": bus_bytes,
        "controller_cycles": IMAS_PER_TILE * DIGITAL_CLOCK,
    }


def per_action(p: EnergyPreset) -> dict:
    """The ISAAC tile and chip by reram's accounting with preset ``p``: power by component, area by unit."""
    ev = tile_events_per_s()
    v = p.value
    power = {
        "adc": ev["adc_conversions"] * p.adc_energy(8).value,
        "dac": ev["dac_pulses"] * p.dac_energy(1),
        "sample_hold": ev["samples"] * v("sample_hold_energy_j"),
        "array": ev["array_reads"] * v("array_read_energy_j"),
        "shift_add": ev["shift_adds"] * v("shift_add_energy_j"),
        "input_register": ev["input_register_bytes"] * v("input_buffer_energy_j"),
        "output_register": ev["output_register_writes"] * v("output_buffer_energy_j"),
        "edram": ev["edram_bytes"] * v("feature_buffer_energy_j")
        + EDRAM_BYTES * v("feature_buffer_leakage_w_per_byte"),
        "bus": ev["bus_bytes"] * v("bus_energy_j"),
        "digital_logic": ev["controller_cycles"] * v("control_energy_j"),
        "router": v("router_w"),
    }
    units = IMAS_PER_TILE
    area = {
        "adc": units * ADCS * p.adc.area(8),
        "dac": units * ARRAYS * ROWS * p.dac_area(1),
        "sample_hold": units * ARRAYS * COLS * v("sample_hold_area_mm2"),
        "array": units * ARRAYS * v("array_area_mm2"),
        "shift_add": units * SHIFT_ADDS * v("shift_add_area_mm2"),
        "input_register": units * IN_REG_BYTES * v("input_buffer_area_mm2"),
        "output_register": units * OUT_REG_BYTES * v("output_buffer_area_mm2"),
        "edram": EDRAM_BYTES * v("feature_buffer_area_mm2"),
        "bus": v("bus_area_mm2"),
        "digital_logic": units * v("control_area_mm2"),
        "router": v("router_area_mm2"),
    }
    tile_a = sum(area.values())
    leak = v("leakage_w_per_mm2") * tile_a
    power["leakage"] = leak
    tile_p = sum(power.values())
    out = _chip(tile_p, tile_a, v("chip_io_w"), v("chip_io_area_mm2"))
    return out | {"tile_power_by_component_w": power, "tile_area_by_unit_mm2": area, "events_per_s": ev}


def _errors(d: dict) -> dict[str, float]:
    return {k: 100 * (d[k] / PUBLISHED[k] - 1) for k in PUBLISHED}


def table1_tile_power() -> dict[str, float]:
    """Table 1's tile power per component, under the names of :func:`per_action`'s components."""
    out = {k: IMAS_PER_TILE * IMA[k][0] for k in IMA}
    out |= {"edram": TILE["edram"][0], "bus": TILE["bus"][0], "router": TILE["router"][0],
            "digital_logic": sum(TILE[k][0] for k in ("sigmoid", "shift_add", "max_pool", "output_register"))}
    return out


TOLERANCE_PCT = 1.0  # the validation passes when every total and every component is within this of Table 1


def validate(p: EnergyPreset) -> dict:
    """Both accountings side by side with their errors against the published totals (percent), and reram's
    per-action power of each component against its Table 1 power; ``passed`` when all are within 1 %."""
    table = {k: v for k, v in rollup().items() if k in PUBLISHED}
    mine = per_action(p)
    out = {"published": PUBLISHED, "source": ISAAC, "preset": p.name}
    for name, d in (("table1_rollup", table), ("per_action", mine)):
        err = _errors(d)
        out[name] = {k: d[k] for k in PUBLISHED} | {"error_pct": err,
                                                    "max_abs_error_pct": max(abs(e) for e in err.values())}
    out["per_action"] |= {k: mine[k] for k in ("tile_power_by_component_w", "tile_area_by_unit_mm2")}
    pub = table1_tile_power()
    comp = {k: {"table1_w": w, "per_action_w": mine["tile_power_by_component_w"][k],
                "error_pct": 100 * (mine["tile_power_by_component_w"][k] / w - 1)} for k, w in pub.items()}
    worst = max(comp, key=lambda k: abs(comp[k]["error_pct"]))
    out["per_action"] |= {"components": comp, "max_abs_component_error_pct": abs(comp[worst]["error_pct"]),
                          "worst_component": worst}
    out["passed"] = (out["per_action"]["max_abs_error_pct"] < TOLERANCE_PCT
                     and out["per_action"]["max_abs_component_error_pct"] < TOLERANCE_PCT)
    out["tolerance_pct"] = TOLERANCE_PCT
    return out
