"""One start grid: the built-in Chinchilla law and the same law typed as a formula screen the same
4,500 starts of the replication's grid (Besiroglu et al. 2024)."""

from __future__ import annotations

import numpy as np

import scalinglab as sl


def test_chinchilla_and_its_formula_screen_the_same_starts():
    built_in, typed = (
        sl.get_law("chinchilla"),
        sl.get_law("E + A*N**-alpha + B*D**-beta"),
    )
    # The formula orders its parameters as they appear (E, A, alpha, B, beta).
    columns = [typed.param_names.index(name) for name in built_in.param_names]
    rows = sorted(map(tuple, typed.start_grid()[:, columns]))
    assert built_in.start_grid().shape == (4500, 5)
    assert rows == sorted(map(tuple, built_in.start_grid()))


def test_the_grid_is_the_replications():
    grid = sl.get_law("chinchilla").start_grid()
    log_e, log_a, log_b, alpha, beta = (np.unique(column) for column in grid.T)
    np.testing.assert_allclose(log_e, np.arange(-1.0, 1.01, 0.5), atol=1e-12)
    np.testing.assert_allclose(log_a, np.arange(0.0, 26.0, 5.0), atol=1e-12)
    np.testing.assert_allclose(log_b, np.arange(0.0, 26.0, 5.0), atol=1e-12)
    np.testing.assert_allclose(alpha, np.arange(0.0, 2.01, 0.5), atol=1e-12)
    np.testing.assert_allclose(beta, alpha)
