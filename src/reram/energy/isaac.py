"""ISAAC rolled up from its published per-component figures (Shafiee et al., ISCA 2016, Table 1).

Used to validate the accounting: the tile and chip power and area must come out at the published totals
(tile about 330 mW and 0.372 mm2, chip 65.8 W and 85.4 mm2), and the peak efficiency follows from the published
organisation (168 tiles x 12 IMAs x 8 arrays of 128x128 2-bit cells; 16-bit weights in 8 slices; 16-bit inputs
bit-serial at one bit per 100 ns cycle) with 2 ops per MAC.
"""

from __future__ import annotations

# (power W, area mm2) per IMA for all units of a kind, and per tile
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


def rollup() -> dict[str, float]:
    ima_p = sum(p for p, _ in IMA.values())
    ima_a = sum(a for _, a in IMA.values())
    tile_p = IMAS_PER_TILE * ima_p + sum(p for p, _ in TILE.values())
    tile_a = IMAS_PER_TILE * ima_a + sum(a for _, a in TILE.values())
    chip_p = TILES * tile_p + sum(p for p, _ in CHIP.values())
    chip_a = TILES * tile_a + sum(a for _, a in CHIP.values())
    # peak: each IMA's 8 arrays hold 128 rows x (128 / 8 slices) 16-bit weights; a 16-bit input takes 16 cycles
    macs_per_ima = 8 * 128 * (128 // 8)
    mvm_time = 16 * 100e-9
    macs_per_s = macs_per_ima / mvm_time * IMAS_PER_TILE * TILES
    ops_per_s = 2 * macs_per_s
    return {"ima_power_w": ima_p, "ima_area_mm2": ima_a, "tile_power_w": tile_p, "tile_area_mm2": tile_a,
            "chip_power_w": chip_p, "chip_area_mm2": chip_a, "peak_macs_per_s": macs_per_s,
            "peak_tops": ops_per_s / 1e12, "peak_tops_per_w": ops_per_s / 1e12 / chip_p,
            "peak_tops_per_mm2": ops_per_s / 1e12 / chip_a}
