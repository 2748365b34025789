"""NeuRRAM (Wan et al., Nature 2022), a published integrating macro, against its measured efficiency.

One 256 x 256 core of 130 nm 1T1R cells performs a 128-input x 256-output MVM: differential rows (a weight's two
cells on two adjacent rows driven with opposite polarities, every column an output with its own neuron). Its
n-bit signed inputs are a sign and n - 1 magnitude bits; magnitude bit b pulses every wordline once and drives
2^b unit pulses, each sampled and integrated by every neuron; inputs of more than 4 bits run in two phases (an MSB
and an LSB segment) whose outputs are shift-added. Each output is converted by a binary search, one charge step
and comparison per output bit; outputs carry 2 bits more than inputs.

:func:`validate` counts one MVM's actions with the run's own counting (:func:`reram.golden.model.count_events`,
on a one-layer model of that core) and charges them through the run's :func:`reram.energy.model.macro_energy`, so
the check and a run cannot count differently. Inputs: signed, sign-magnitude (:func:`reram.ir.rules.input_slices`),
uniformly random (a negative input drives its magnitude's pulses at the opposite polarity and costs the same).
Phases: 5 to 7 magnitude bits run as an MSB and an LSB phase (3 + 2, 3 + 3, 4 + 3: ``phase_bits``).
Cells: the cell energy ``V_read^2 G t_read`` per unit pulse on both cells of every weight, at CiMLoop's mean cell
conductance.

Published efficiency: Extended Data Fig. 12e of the paper, as read off by CiMLoop's reproduction of it (the
paper prints no table); the boundary is the core (drivers, wordlines, cells, neurons), 2 ops per MAC.
"""

from __future__ import annotations

import numpy as np

from reram.chip.energy_preset import EnergyPreset
from reram.chip.figures import NEURRAM
from reram.golden.model import count_events
from reram.ir.core import ArchParams, CompiledModel, LayerIR
from reram.ir.rules import input_slices

from .model import OPS_PER_MAC, macro_energy

SOURCE = (f"{NEURRAM}, Extended Data Fig. 12e (throughput-power efficiency, 2 ops per MAC), at the values CiMLoop "
          "reads off it (mit-emze/cimloop, workspace/models/arch/1_macro/wan_nature_2022/_tests.py: test_tops)")
CELL_SOURCE = ("CiMLoop's NeuRRAM cell model (mit-emze/cimloop, wan_nature_2022): R_on 250 kOhm, R_off 1 MOhm; "
               "weights spread evenly between them: mean G = (4 uS + 1 uS) / 2")
CELL_G_MEAN_S = 2.5e-6
ROWS, COLS = 256, 256
INPUTS, OUTPUTS = ROWS // 2, COLS  # differential rows
# (input bits, output bits) -> published TOPS/W; phases: NeuRRAM splits inputs of more than 4 bits in two
PUBLISHED: dict[tuple[int, int], float] = {(1, 3): 43.08, (2, 4): 40.33, (3, 5): 23.09, (4, 6): 15.95,
                                           (5, 7): 11.18, (6, 8): 8.69, (7, 9): 7.75, (8, 10): 6.44}
NOTES = {(5, 7): "CiMLoop gives 11.33 and 11.03 for its two variants of this point; their mean",
         (6, 8): "CiMLoop gives 9.12 and 8.26 for its two variants of this point; their mean",
         (1, 3): "a 1-bit input is modelled as one magnitude bit, as a 2-bit signed (ternary) input"}
OPERATING_POINT = (4, 6)  # Fig. 3h: 4-bit inputs, 6-bit outputs
TOLERANCE_PCT = 30.0


def core_arch(in_bits: int, out_bits: int) -> ArchParams:
    """The architecture parameters of one NeuRRAM core at a precision: magnitude bits as integrating inputs."""
    mag = max(in_bits - 1, 1)
    # more than 3 magnitude bits: an MSB and an LSB phase, the MSB phase the larger (4 + 3 for 7 bits)
    phase_bits = (mag,) if mag <= 3 else (-(-mag // 2), mag // 2)
    return ArchParams(rows=ROWS, cols=COLS, dac_bits=mag, dac_mode="integrating", dac_phases=len(phase_bits),
                      phase_bits=phase_bits, adc_bits=out_bits, v_read=0.5, differential="rows")


def mvm_energy(p: EnergyPreset, in_bits: int, out_bits: int, samples: int = 64, seed: int = 0) -> dict:
    """One core MVM at ``in_bits`` / ``out_bits``: its counted actions, energy by component (J per MVM) and
    TOPS/W."""
    a = core_arch(in_bits, out_bits)
    layer = LayerIR(name="core", in_features=INPUTS, out_features=OUTPUTS, relu=False,
                    weight=np.zeros((OUTPUTS, INPUTS), np.float32), bias=np.zeros(OUTPUTS, np.float32))
    cm = CompiledModel(arch=a, layers=[layer])
    # signed inputs, sign-magnitude: magnitudes 0 .. 2^m - 1, either sign
    x = np.random.default_rng(seed).integers(-a.x_max, a.x_max + 1, size=(samples, INPUTS), dtype=np.int64)
    ev: dict[str, int] = {}
    slices = input_slices(x, a)
    count_events(cm, 0, slices, ev)
    pulses = float(sum(np.abs(s).sum() for s in slices))  # unit pulses (either polarity), summed
    cell_j = pulses * 2 * OUTPUTS * a.v_read**2 * CELL_G_MEAN_S * p.value("t_read_s")  # both cells of a weight
    e = macro_energy(ev, p, a, samples, cell_j)
    total = sum(e.values())
    macs = INPUTS * OUTPUTS
    return {"in_bits": in_bits, "out_bits": out_bits, "magnitude_bits": a.dac_bits, "phases": a.dac_phases,
            "events_per_mvm": {k: v / samples for k, v in ev.items()}, "energy_by_component_j": e,
            "energy_per_mvm_j": total, "fj_per_op": 1e15 * total / (OPS_PER_MAC * macs),
            "tops_per_w": OPS_PER_MAC * macs / total / 1e12}


def validate(p: EnergyPreset) -> dict:
    """Every published point beside the preset's figure, with the error; ``passed`` when the operating point
    (4-bit inputs, 6-bit outputs) is within 30 %."""
    rows = []
    for (ib, ob), pub in PUBLISHED.items():
        r = mvm_energy(p, ib, ob)
        r |= {"published_tops_per_w": pub, "error_pct": 100 * (r["tops_per_w"] / pub - 1)}
        if (ib, ob) in NOTES:
            r["note"] = NOTES[(ib, ob)]
        rows.append(r)
    op = next(r for r in rows if (r["in_bits"], r["out_bits"]) == OPERATING_POINT)
    return {"preset": p.name, "source": SOURCE, "cell_conductance": {"value_s": CELL_G_MEAN_S, "source": CELL_SOURCE},
            "core": f"{ROWS}x{COLS} cells, differential rows: {INPUTS} inputs x {OUTPUTS} outputs per MVM",
            "points": rows, "operating_point": list(OPERATING_POINT), "operating_point_error_pct": op["error_pct"],
            "max_abs_error_pct": max(abs(r["error_pct"]) for r in rows), "tolerance_pct": TOLERANCE_PCT,
            "passed": abs(op["error_pct"]) <= TOLERANCE_PCT,
            "inputs": "signed, sign-magnitude: uniformly random magnitudes of either sign; a negative input drives "
                  "its magnitude's pulses at the opposite polarity, counted alike"}
