"""IR drop on crossbar wires.

Geometry of one R x C array: row i is driven from its left end (column 0 side), column j is sensed at its
bottom end (row R-1 side) by a virtual-ground sense amplifier. Every wire segment between neighbouring
cells, and the segment to the driver or sense amplifier, has resistance ``r_w``.

* :func:`solve_exact` is the reference: a sparse nodal solve (2 R C unknowns) of the resistive network.
* :func:`approx_factors` is the fast model used for whole networks: a static first-order correction. With
  every row driven at the same level, the current through each wire segment is summed
  (cumulative sums), the resulting row and column voltage drops are computed once per programmed array, and
  each cell's conductance is scaled by ``1 - (dV_row + dV_col) / V``. It ignores the data dependence of the
  drop and second-order current redistribution. Its measured error against the exact solve is printed by
  ``benchmarks/irdrop_error.py`` and bounded in ``tests/analog/test_irdrop.py``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from reram.ir.layout import ArrayLayout


def solve_exact(g: np.ndarray, v_in: np.ndarray, r_w: float) -> np.ndarray:
    """Column currents (n, C) of an array with conductances ``g`` (R, C) in S, row voltages ``v_in`` (n, R)."""
    g = np.asarray(g, dtype=np.float64)
    v_in = np.atleast_2d(np.asarray(v_in, dtype=np.float64))
    R, C = g.shape
    if r_w == 0:
        return v_in @ g
    gw = 1.0 / r_w
    n = R * C

    def rn(i: int, j: int) -> int:  # row-wire node at cell (i, j)
        return i * C + j

    def cn(i: int, j: int) -> int:  # column-wire node at cell (i, j)
        return n + i * C + j

    rows, cols, vals = [], [], []

    def stamp(a: int, b: int, y: float) -> None:
        rows.extend([a, b, a, b])
        cols.extend([a, b, b, a])
        vals.extend([y, y, -y, -y])

    diag_extra = np.zeros(2 * n)
    for i in range(R):
        diag_extra[rn(i, 0)] += gw  # segment to the driver
        for j in range(C - 1):
            stamp(rn(i, j), rn(i, j + 1), gw)
    for j in range(C):
        diag_extra[cn(R - 1, j)] += gw  # segment to the sense amplifier (virtual ground)
        for i in range(R - 1):
            stamp(cn(i, j), cn(i + 1, j), gw)
    for i in range(R):
        for j in range(C):
            stamp(rn(i, j), cn(i, j), g[i, j])
    A = sp.coo_matrix((vals, (rows, cols)), shape=(2 * n, 2 * n)).tocsc() + sp.diags(diag_extra).tocsc()
    lu = spla.splu(A.tocsc())
    rhs = np.zeros((2 * n, v_in.shape[0]))
    for i in range(R):
        rhs[rn(i, 0)] = v_in[:, i] * gw
    sol = lu.solve(rhs)
    return (sol[[cn(R - 1, j) for j in range(C)]] * gw).T


def approx_factors(g: np.ndarray, r_w: float) -> np.ndarray:
    """Per-cell attenuation factors (..., R, C) for conductances ``g`` (..., R, C) in S (any leading axes: a stack
    of arrays); see the module docstring.

    With every row at the same drive level the relative drop does not depend on that level, so the
    factors are computed for a unit drive.
    """
    g = np.asarray(g, dtype=np.float64)
    if r_w == 0:
        return np.ones_like(g)
    i_cell = g  # current per volt of drive
    # row wire: segment k (k = 0 is the driver segment) carries the current of columns k..C-1
    seg_row = np.cumsum(i_cell[..., ::-1], axis=-1)[..., ::-1]
    dv_row = r_w * np.cumsum(seg_row, axis=-1)
    # column wire: segment below row k carries the current of rows 0..k; the drop at row i sums segments i..R-1
    seg_col = np.cumsum(i_cell, axis=-2)
    dv_col = r_w * np.cumsum(seg_col[..., ::-1, :], axis=-2)[..., ::-1, :]
    return np.clip(1.0 - (dv_row + dv_col), 0.0, 1.0)


def array_layout(gp: np.ndarray, gn: np.ndarray, cols: int) -> list[tuple[slice, np.ndarray]]:
    """Split logical pair columns (R, P) into physical arrays of ``cols`` columns in the layout of
    :mod:`reram.ir.layout` (G+ and G- interleaved). Returns (pair slice, physical conductances (R, 2 * pairs)) per
    column tile."""
    layout = ArrayLayout(rows=gp.shape[0], pairs=cols // 2, slices=1, in_features=gp.shape[0],
                         out_features=gp.shape[1])
    arrays = layout.to_arrays(np.asarray(gp)[None], np.asarray(gn)[None])[0]  # (col tiles, R, 2 pairs)
    out = []
    for u, n in enumerate(layout.tile_pairs()):
        start = u * layout.pairs
        out.append((slice(start, start + n), arrays[u][:, : 2 * n]))
    return out
