"""IR drop on crossbar wires.

Geometry of one R x C array: row i is driven from its left end (column 0 side), column j is sensed at its
bottom end (row R-1 side) by a virtual-ground sense amplifier. Every wire segment between neighbouring
cells, and the segment to the driver or sense amplifier, has resistance ``r_w``.

* :func:`solve_exact` is the reference: a sparse nodal solve (2 R C unknowns) of the resistive network. The tests
  check it against ``badcrossbar`` (an independent nodal solver of passive crossbars, same geometry: word lines
  driven at their first cell through one segment, bit lines sensed at their last cell through one segment).
* ``array.ir_drop = "solve"`` is exact and data-dependent at the cost of an ideal MVM: the network is linear (ohmic
  cells, ideal drivers and virtual-ground sense amplifiers), so by superposition the column currents of any input
  are ``v @ T`` with ``T[i, j]`` the current into sense amplifier ``j`` per volt on row ``i`` alone. ``T`` is solved
  once per programmed array and stands for the array's conductances in every MVM: which rows are driven, and how
  hard, changes the drop exactly as in the circuit. ``T[i, j]`` includes sneak paths (it is not zero where
  ``g[i, j]`` is). :func:`transfer_matrices` solves it for a stack of arrays by block Gauss-Seidel line relaxation
  (each sweep solves every row wire, then every column wire, exactly: tridiagonal systems with precomputed
  factors, batched in torch over the arrays and the R unit drives; it starts from the ideal array, row wires at the
  driver voltage and column wires at virtual ground, and stops when no sense current changes by more than
  ``tol`` of the largest between two sweeps; where it does not within ``max_sweeps`` it falls back to
  :func:`transfer_matrix`, a sparse LU factorization, exact but 2-6x slower). Read noise drawn per read
  multiplies the programmed cells, not ``T``: the engine applies it to ``T`` as it does to the conductances (a
  first-order approximation of noise under IR drop).
* :func:`approx_factors` (``array.ir_drop = "approx"``) is the static first-order correction. With
  every row driven at the same level, the current through each wire segment is summed
  (cumulative sums), the resulting row and column voltage drops are computed once per programmed array, and
  each cell's conductance is scaled by ``1 - (dV_row + dV_col) / V``. It ignores the data dependence of the
  drop and second-order current redistribution. Its measured error against the exact solve is printed by
  ``benchmarks/irdrop_error.py`` and bounded in ``tests/analog/test_irdrop.py``.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from reram.ir.layout import ArrayLayout

log = logging.getLogger("reram")


def solve_exact(g: np.ndarray, v_in: np.ndarray, r_w: float) -> np.ndarray:
    """Column currents (n, C) of an array with conductances ``g`` (R, C) in S, row voltages ``v_in`` (n, R): a sparse
    nodal solve per input (the reference)."""
    g = np.asarray(g, dtype=np.float64)
    v_in = np.atleast_2d(np.asarray(v_in, dtype=np.float64))
    if r_w == 0:
        return v_in @ g
    A, rn, cn = _nodal_matrix(g, r_w)
    gw = 1.0 / r_w
    rhs = np.zeros((A.shape[0], v_in.shape[0]))
    rhs[rn[:, 0]] = v_in.T * gw
    sol = spla.splu(A).solve(rhs)
    return (sol[cn[-1, :]] * gw).T


def _nodal_matrix(g: np.ndarray, r_w: float) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray]:
    """The nodal conductance matrix (2 R C square; row-wire nodes first, then column-wire nodes) of an array with
    conductances ``g`` (R, C) in S, and the node indices (R, C) of the row and column wires."""
    R, C = g.shape
    n = R * C
    gw = 1.0 / r_w
    rn = np.arange(n).reshape(R, C)
    cn = n + rn
    a = np.concatenate([rn[:, :-1].ravel(), cn[:-1, :].ravel(), rn.ravel()])  # wire segments, then the cells
    b = np.concatenate([rn[:, 1:].ravel(), cn[1:, :].ravel(), cn.ravel()])
    y = np.concatenate([np.full(R * (C - 1), gw), np.full((R - 1) * C, gw), g.ravel()])
    diag = np.bincount(a, y, 2 * n) + np.bincount(b, y, 2 * n)
    diag[rn[:, 0]] += gw  # the segment to the driver
    diag[cn[-1, :]] += gw  # the segment to the sense amplifier (virtual ground)
    i = np.concatenate([a, b, np.arange(2 * n)])
    j = np.concatenate([b, a, np.arange(2 * n)])
    A = sp.csc_matrix((np.concatenate([-y, -y, diag]), (i, j)), shape=(2 * n, 2 * n))
    return A, rn, cn


def transfer_matrix(g: np.ndarray, r_w: float) -> np.ndarray:
    """The exact transfer matrix ``T`` (R, C) in S of an array with conductances ``g`` (R, C) in S and wire
    resistance ``r_w`` per segment: column currents ``v @ T`` for row voltages ``v`` (see the module docstring).
    One sparse LU factorization and R solves (a 256 x 256 array: about 6-9 s on one AVX2 core: the engine uses
    :func:`transfer_matrices`, 2-6x faster; this is its fallback and its check)."""
    g = np.asarray(g, dtype=np.float64)
    if r_w == 0:
        return g.copy()
    R = g.shape[0]
    A, rn, cn = _nodal_matrix(g, r_w)
    gw = 1.0 / r_w
    lu = spla.splu(A, permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})
    rhs = np.zeros((A.shape[0], R))
    rhs[rn[:, 0], np.arange(R)] = gw  # 1 V on row i alone, through its driver segment
    return (lu.solve(rhs)[cn[-1, :], :] * gw).T


def _thomas_factors(diag: torch.Tensor, gw: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward-elimination factors of tridiagonal systems with diagonals ``diag`` (..., n) and off-diagonals
    ``-gw``: (1 / pivot, upper factor), each (..., n)."""
    inv_den = torch.empty_like(diag)
    cp = torch.empty_like(diag)
    den = diag[..., 0]
    inv_den[..., 0] = 1.0 / den
    cp[..., 0] = -gw / den
    for j in range(1, diag.shape[-1]):
        den = diag[..., j] + gw * cp[..., j - 1]
        inv_den[..., j] = 1.0 / den
        cp[..., j] = -gw / den
    return inv_den, cp


def transfer_matrices(g: np.ndarray, r_w: float, tol: float = 1e-6, max_sweeps: int = 400,
                      device: str = "cpu") -> np.ndarray:
    """Exact transfer matrices (B, R, C) in S of a stack of arrays ``g`` (B, R, C) in S by block Gauss-Seidel line
    relaxation (see the module docstring), on ``device``; arrays that do not converge within ``max_sweeps`` sweeps
    are solved directly (:func:`transfer_matrix`)."""
    g_np = np.ascontiguousarray(g, dtype=np.float64)
    if r_w == 0:
        return g_np.copy()
    B, R, C = g_np.shape
    per = max(1, min(B, (1 << 25) // (R * C * R)))  # arrays per batch: two (C, b, R, R) float64 tensors, <= 512 MB
    out = np.empty_like(g_np)
    for b0 in range(0, B, per):
        sl = slice(b0, min(B, b0 + per))
        res = _gauss_seidel(torch.as_tensor(g_np[sl], device=device), r_w, tol, max_sweeps)
        if res is None:
            log.warning("IR drop: the line relaxation did not converge within %d sweeps (%d x %d arrays, %g ohm "
                        "per segment); solving those arrays directly", max_sweeps, R, C, r_w)
            out[sl] = np.stack([transfer_matrix(a, r_w) for a in g_np[sl]])
        else:
            out[sl] = res
    return out


def _gauss_seidel(g: torch.Tensor, r_w: float, tol: float, max_sweeps: int) -> np.ndarray | None:
    """Transfer matrices (b, R, C) of arrays ``g`` (b, R, C), or None if they do not converge."""
    g = g.to(torch.float64)
    b, R, C = g.shape
    gw = 1.0 / r_w
    # row wire i: node j has segments to j-1 (the driver at j = 0) and j+1 (none after the last column)
    d_row = g + 2 * gw
    d_row[..., -1] -= gw
    # column wire j: node i has segments to i-1 (none above the first row) and i+1 (the sense amplifier after R-1)
    d_col = g + 2 * gw
    d_col[:, 0, :] -= gw
    inv_r, cp_r = (t.permute(2, 0, 1).contiguous() for t in _thomas_factors(d_row, gw))  # (C, b, R): by column
    inv_c, cp_c = (t.permute(2, 0, 1).contiguous() for t in _thomas_factors(d_col.transpose(1, 2), gw))  # (R, b, C)
    g_by_col = g.permute(2, 0, 1).contiguous()  # (C, b, R)
    g_by_row = g.permute(1, 0, 2).contiguous()  # (R, b, C)
    # the unit drives: one per row that has a cell (a row without any carries no current: its row of T is 0)
    rows = torch.nonzero((g != 0).any(dim=2).any(dim=0)).flatten()
    K = len(rows)
    if K == 0:  # no cell at all: no current
        return np.zeros((b, R, C))
    # unknowns for the K unit drives k: row-wire voltages U[j, a, i, k], column-wire voltages W[i, a, j, k]
    U = torch.zeros(C, b, R, K, dtype=torch.float64, device=g.device)
    W = torch.zeros(R, b, C, K, dtype=torch.float64, device=g.device)
    drive = torch.zeros(b, R, K, dtype=torch.float64, device=g.device)
    drive[:, rows, torch.arange(K, device=g.device)] = gw  # row rows[k] at 1 V through its driver segment
    last = None
    for _ in range(max_sweeps):
        for j in range(C):  # every row wire: forward elimination over its nodes ...
            r = g_by_col[j][..., None] * W[:, :, j].permute(1, 0, 2)
            r = r + drive if j == 0 else r.add_(U[j - 1], alpha=gw)
            U[j] = r.mul_(inv_r[j][..., None])
        for j in range(C - 2, -1, -1):  # ... and back substitution
            U[j].addcmul_(cp_r[j][..., None], U[j + 1], value=-1.0)
        for i in range(R):  # every column wire
            r = g_by_row[i][..., None] * U[:, :, i].permute(1, 0, 2)
            if i:
                r.add_(W[i - 1], alpha=gw)
            W[i] = r.mul_(inv_c[i][..., None])
        for i in range(R - 2, -1, -1):
            W[i].addcmul_(cp_c[i][..., None], W[i + 1], value=-1.0)
        sense = W[-1] * gw  # (b, C, K): the current into each sense amplifier, per unit drive
        if last is not None and float((sense - last).abs().max()) <= tol * float(sense.abs().max()):
            out = torch.zeros(b, R, C, dtype=torch.float64)
            out[:, rows.cpu()] = sense.transpose(1, 2).cpu()
            return out.numpy()
        last = sense.clone()
    return None


def effective_conductances(g: np.ndarray, r_w: float, mode: str) -> np.ndarray:
    """What stands for conductances ``g`` (..., R, C) in S (a stack of arrays) in an MVM under IR drop: the exact
    transfer matrices (``"solve"``), the conductances times their first-order factors (``"approx"``), or ``g``
    itself (``"off"``, or no wire resistance)."""
    g = np.asarray(g, dtype=np.float64)
    if mode == "off" or r_w == 0:
        return g
    if mode == "approx":
        return g * approx_factors(g, r_w)
    if mode != "solve":
        raise ValueError(f"unknown IR-drop mode {mode!r}")
    return transfer_matrices(g.reshape(-1, *g.shape[-2:]), r_w).reshape(g.shape)


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


def chip_summary(layers: list, arch, chip_layers: list, r_w: float, mode: str, seed: int = 0) -> dict:
    """What IR drop does on a programmed chip: the per-column attenuation of the first layer's first array with
    every row driven at one level (``solve``: the exact transfer matrix, ``approx``: the static model), and, for the
    first array of every layer, the maximum error of each model against the nodal solve over 8 random drives of its
    used rows (relative to the largest exact column current)."""
    rng = np.random.default_rng(seed)
    out: dict = {"mode": mode, "wire_ohm_per_segment": r_w, "array": f"{arch.rows}x{arch.cols}", "layers": []}
    for li, (layer, cl) in enumerate(zip(layers, chip_layers, strict=True)):
        g = layer.layout(arch).to_arrays(cl.g_pos.astype(np.float64), cl.g_neg.astype(np.float64))[0, 0] * arch.g_lsb
        used = np.nonzero(g.any(axis=1))[0]
        v = np.zeros((8, g.shape[0]))
        v[:, used] = rng.uniform(0, 1, (8, len(used)))
        exact = solve_exact(g, v, r_w)
        scale = np.abs(exact).max()
        T = transfer_matrices(g[None], r_w)[0]
        approx = g * approx_factors(g, r_w)
        out["layers"].append({"layer": layer.name, "error_off": float(np.abs(v @ g - exact).max() / scale),
                              "error_approx": float(np.abs(v @ approx - exact).max() / scale),
                              "error_solve": float(np.abs(v @ T - exact).max() / scale)})
        if li == 0:
            cols = g.sum(axis=0) > 0
            total = g.sum(axis=0)[cols]
            out["column_attenuation"] = {"solve": (T.sum(axis=0)[cols] / total).tolist(),
                                         "approx": (approx.sum(axis=0)[cols] / total).tolist()}
    return out
