import numpy as np
import pytest

from reram.analog.irdrop import approx_factors, array_layout, solve_exact


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
