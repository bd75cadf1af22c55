"""The loss in learning rate and batch size (laws/lr_bsz.py): recovery and Step Law's optimum."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import scalinglab as sl
from scalinglab.laws.lr_bsz import STEPLAW, lr_bsz_law, steplaw_loss_law

TRUTH = {
    "E": 1.7,
    "A": 300.0,
    "alpha": 0.32,
    "B": 900.0,
    "beta": 0.3,
    "c": 0.03,
    "d": 0.02,
    "a0": -6.4,
    "a1": -0.5,
    "a2": 0.2,
    "b0": 13.2,
    "b1": 0.5,
}


def _grid() -> dict[str, np.ndarray]:
    N, D, lr, bs = np.meshgrid(
        [1e8, 2e8, 4e8, 8e8],
        [5e9, 2e10, 8e10],
        np.exp(np.linspace(-9.0, -4.5, 6)),
        np.exp(np.linspace(11.5, 14.5, 5)),
    )
    return {"N": N.ravel(), "D": D.ravel(), "lr": lr.ravel(), "bs": bs.ravel()}


def test_lr_bsz_recovers_known_parameters_exactly():
    grid = _grid()
    law = lr_bsz_law()
    runs = grid | {"loss": law.predict(TRUTH, **grid)}
    result = sl.fit(law, runs, bootstrap=0)
    assert result.params == pytest.approx(TRUTH, rel=1e-4)


def test_steplaw_loss_is_lowest_at_step_laws_published_optimum():
    law = steplaw_loss_law()
    params = TRUTH | STEPLAW
    N, D = 7e9, 1.4e12
    best = minimize_scalar(
        lambda log_lr: float(law.predict(params, N=N, D=D, lr=np.exp(log_lr), bs=5e6)),
        bounds=(-12.0, 0.0),
        method="bounded",
        options={"xatol": 1e-10},
    )
    # formulas.md 7.4: eta* = 1.79 N^-0.713 D^0.307, about 9.3e-4 at (7e9, 1.4e12).
    assert np.exp(best.x) == pytest.approx(1.79 * N**-0.713 * D**0.307, rel=1e-6)
    assert np.exp(best.x) == pytest.approx(9.3e-4, rel=0.02)
    assert set(STEPLAW) == {p.name for p in law.params if p.fixed}
