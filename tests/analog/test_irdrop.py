import numpy as np
import pytest

from reram.analog.irdrop import (
    approx_factors,
    array_layout,
    effective_conductances,
    solve_exact,
    transfer_matrices,
    transfer_matrix,
)
from reram_testing import missing


@pytest.mark.parametrize("size, r_w", [(16, 1.0), (32, 2.0)])
def test_exact_solve_limits_and_approx_error(size, r_w):
    rng = np.random.default_rng(0)
    g = rng.uniform(5e-6, 50e-6, (size, size))
    v = rng.uniform(0, 0.2, (10, size))
    ideal = v @ g
    np.testing.assert_allclose(solve_exact(g, v, 0.0), ideal)
    np.testing.assert_allclose(solve_exact(g, v, 1e-9), ideal, rtol=1e-6)
    exact = solve_exact(g, v, r_w)
    assert (exact < ideal).all()  # IR drop only ever lowers the currents here
    err_ideal = np.abs(ideal - exact).max() / np.abs(exact).max()
    err_approx = np.abs(v @ (g * approx_factors(g, r_w)) - exact).max() / np.abs(exact).max()
    # the measured error of the fast model is well below that of ignoring IR drop
    assert err_approx < 0.1 * err_ideal


def test_far_cells_attenuate_more():
    f = approx_factors(np.full((32, 32), 50e-6), 1.0)
    assert f[0, -1] < f[-1, 0]  # far from the driver and from the sense amplifier
    assert (f <= 1).all() and (f > 0).all()


def test_layout_interleaves_pairs():
    gp = np.arange(12.0).reshape(2, 6)
    gn = -gp
    tiles = array_layout(gp, gn, cols=8)
    assert [t[0] for t in tiles] == [slice(0, 4), slice(4, 6)]
    np.testing.assert_array_equal(tiles[0][1][:, 0::2], gp[:, :4])
    np.testing.assert_array_equal(tiles[1][1][:, 1::2], gn[:, 4:])


def test_differential_rows_put_a_weights_cells_on_adjacent_rows():
    """array.differential = "rows": G+ of input i in physical row 2i, G- in row 2i + 1 of the same column, every
    column an output; the arrays read back to the same cells."""
    from reram.ir.layout import ArrayLayout

    rng = np.random.default_rng(0)
    gp, gn = rng.random((2, 5, 7)), -rng.random((2, 5, 7))  # 2 weight slices, 5 inputs, 7 outputs
    lay = ArrayLayout(rows=4, pairs=6, slices=2, in_features=5, out_features=7, differential="rows")
    arrays = lay.to_arrays(gp, gn)
    assert arrays.shape == (2, 3, 8, 6)  # 2 row tiles x 3 column tiles of 8 physical rows x 6 columns
    # input 1, output 2, slice 1: logical column 5 -> column tile 0, column 5; physical rows 2 and 3
    assert arrays[0, 0, 2, 5] == gp[1, 1, 2] and arrays[0, 0, 3, 5] == gn[1, 1, 2]
    # the last row tile holds 1 input, next to the sense amplifiers: physical rows 6 and 7
    assert arrays[1, 0, 6, 0] == gp[0, 4, 0] and arrays[1, 0, 7, 0] == gn[0, 4, 0]
    back = lay.from_arrays(arrays)
    np.testing.assert_array_equal(back[0], gp)
    np.testing.assert_array_equal(back[1], gn)


BADCROSSBAR = ("badcrossbar is not installed: pip install --no-deps badcrossbar==1.1.0 pathvalidate sigfig (its "
               "plotting dependency pycairo is not needed)")


def _badcrossbar():
    """badcrossbar.compute (an independent nodal solver of passive crossbars), or a skip (a failure under CI)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns that its plotting module (pycairo) is missing
        try:
            import badcrossbar
        except ImportError:
            badcrossbar = None
    if badcrossbar is None or not hasattr(badcrossbar, "compute"):
        missing(BADCROSSBAR)
    return badcrossbar.compute


@pytest.mark.parametrize("rows, cols, r_w", [(8, 6, 2.0), (16, 16, 1.0), (12, 20, 5.0), (24, 8, 0.5)])
def test_exact_solve_and_transfer_matrix_agree_with_badcrossbar(rows, cols, r_w):
    """The reference against an independent solver of the same geometry: word lines driven at their first cell
    through one segment, bit lines sensed (virtual ground) at their last cell through one segment."""
    compute = _badcrossbar()
    rng = np.random.default_rng(rows * cols)
    g = rng.uniform(5e-6, 50e-6, (rows, cols))
    v = rng.uniform(0, 0.2, (3, rows))
    ref = compute(v.T, 1.0 / g, r_i=r_w, node_voltages=False, all_currents=False).currents.output  # (inputs, cols)
    scale = np.abs(ref).max()
    assert np.abs(v @ g - ref).max() / scale > 1e-3  # the wires matter here
    assert np.abs(solve_exact(g, v, r_w) - ref).max() / scale < 1e-9
    assert np.abs(v @ transfer_matrix(g, r_w) - ref).max() / scale < 1e-9


@pytest.mark.parametrize("rows, cols, r_w", [(32, 32, 1.0), (64, 40, 2.5), (40, 64, 5.0)])
def test_transfer_matrix_is_the_nodal_solve_of_every_input(rows, cols, r_w):
    """By superposition ``v @ T`` is the exact solve for any drive: all rows, only the far rows, one row."""
    rng = np.random.default_rng(1)
    g = rng.uniform(5e-6, 50e-6, (rows, cols))
    T = transfer_matrix(g, r_w)
    full = rng.uniform(0, 0.2, (4, rows))
    far = full * (np.arange(rows) < rows // 4)  # only the rows far from the sense amplifiers
    one = np.zeros((1, rows))
    one[0, rows // 2] = 0.2
    for v in (full, far, one):
        exact = solve_exact(g, v, r_w)
        scale = np.abs(exact).max()
        assert np.abs(v @ T - exact).max() / scale < 1e-10


def test_transfer_matrix_carries_sneak_paths_and_limits():
    rng = np.random.default_rng(2)
    g = rng.uniform(5e-6, 50e-6, (16, 12))
    g[3, 5] = 0.0  # an empty cell: no current of its own, yet row 3 reaches column 5 through the other cells
    T = transfer_matrix(g, 2.0)
    assert T[3, 5] != 0 and abs(T[3, 5]) < 1e-3 * g.max()
    np.testing.assert_array_equal(transfer_matrix(g, 0.0), g)
    np.testing.assert_allclose(transfer_matrix(g, 1e-9), g, rtol=1e-6, atol=1e-12)
    assert not transfer_matrices(np.zeros((1, 4, 3)), 2.0).any()  # no cell, no current
    stack = np.stack([g, g[::-1]])
    for mode in ("off", "approx", "solve"):
        eff = effective_conductances(stack, 2.0, mode)
        assert eff.shape == stack.shape
        np.testing.assert_allclose(eff[1], effective_conductances(g[::-1], 2.0, mode))


@pytest.mark.parametrize("rows, cols, r_w", [(48, 32, 1.0), (32, 48, 5.0)])
def test_line_relaxation_equals_the_direct_solve(rows, cols, r_w, caplog):
    """The engine's solver (block Gauss-Seidel over the row and column wires, batched over arrays) against the sparse
    LU; without convergence in its sweep budget it solves directly rather than return an unconverged current."""
    rng = np.random.default_rng(3)
    g = rng.uniform(5e-6, 50e-6, (3, rows, cols))
    g[1, :, -1] = 0.0  # an unused column
    g[:, 0, :] = 0.0  # a row without cells in every array: never driven, its row of T is 0
    ref = np.stack([transfer_matrix(a, r_w) for a in g])
    got = transfer_matrices(g, r_w)
    assert np.abs(got - ref).max() / np.abs(ref).max() < 1e-5 and not got[:, 0].any()  # tol 1e-6 per sweep
    with caplog.at_level("WARNING", logger="reram"):
        direct = transfer_matrices(g, r_w, max_sweeps=2)
    assert "did not converge within 2 sweeps" in caplog.text
    np.testing.assert_allclose(direct, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
