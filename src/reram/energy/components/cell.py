"""Cell read energy E = V^2 G t, from the actual programmed conductances and input codes (not a constant).

For every array read, row i driven at V_i = v_read * x_i / x_max (multi-level) dissipates
V_i^2 * sum_j (G+_ij + G-_ij) * t_read over the row's cells (both devices of every pair). Pulse inputs (bit-serial:
one pulse per set bit; integrating: 2^b unit pulses for bit b of a phase) dissipate v_read^2 * G * t_read per pulse.
At 0.2 V and 10 ns this is 2 fJ (5 µS) to 20 fJ (50 µS) per cell, as in the reference's device figures.
"""

from __future__ import annotations

import numpy as np

from reram.ir.core import CompiledModel


def cell_read_energy(cm: CompiledModel, chip, layer_inputs: list[np.ndarray], t_read: float) -> list[float]:
    """Per layer, total cell energy (J) over the batch of ``layer_inputs`` (flat input codes per layer; a conv
    layer reads its arrays once per output position, on that position's patch)."""
    from reram.ir.ops import patches_np

    a = cm.arch
    out = []
    for li, x in enumerate(layer_inputs):
        x = patches_np(cm.layers[li], np.asarray(x))
        cl = chip.layers[li]
        g_row = (cl.g_pos.astype(np.float64) + cl.g_neg.astype(np.float64)).sum(axis=(0, 2)) * a.g_lsb  # (in,)
        x = x.astype(np.float64)
        if a.dac_mode != "multilevel":  # unit pulses at full read voltage: one per set bit, or 2^b for bit b
            from reram.ir.rules import input_slices

            v2 = sum(np.abs(s).astype(np.float64) for s in input_slices(x.astype(np.int64), a)) * a.v_read**2
        else:
            v2 = (x / a.x_max * a.v_read) ** 2
        out.append(float((v2 @ g_row).sum() * t_read))
    return out
