"""Convergence means a stationary point: a wrong Jacobian or a stall is reported, never hidden."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import scalinglab as sl
from scalinglab.errors import FitDidNotConverge
from scalinglab.fit import fit
from scalinglab.fit.bootstrap import run_weights
from scalinglab.fit.engine import GTOL, Problem, decrement, refine
from scalinglab.fit.objectives import get_objective
from scalinglab.laws.examples import example, simulate


def _noisy(law_name: str, seed: int = 0) -> dict:
    law = sl.get_law(law_name)
    truth = example(law)
    return simulate(law, truth.params, truth.inputs, noise=0.01, seed=seed)


def _row_scaled_jacobian(law):
    """The law with every Jacobian row scaled by a different factor (0.5 to 1.5): wrong, the way
    the old linear-space Jacobian was (exp(prediction) per point), so its stationary points move."""
    exact = law.log_jacobian

    def wrong(*inputs, **params):
        factor = np.linspace(0.5, 1.5, np.size(inputs[0]))
        return {name: d * factor for name, d in exact(*inputs, **params).items()}

    return replace(law, log_jacobian=wrong)


@pytest.mark.parametrize("objective", ["huber", "mse"])
def test_a_wrong_jacobian_is_reported_as_not_converged(objective):
    data = _noisy("chinchilla")
    wrong = _row_scaled_jacobian(sl.get_law("chinchilla"))
    result = fit(wrong, data, objective=objective, bootstrap=0)
    exact = fit("chinchilla", data, objective=objective, bootstrap=0)
    assert exact.converged and exact.gradient <= GTOL
    assert not result.converged and result.gradient > 1e3 * GTOL
    assert result.objective > exact.objective
    assert "not_converged" in {d.code for d in result.diagnostics}
    with pytest.raises(FitDidNotConverge):
        fit(wrong, data, objective=objective, bootstrap=0, strict=True)


def _chinchilla_huber():
    """The noisy chinchilla example, its law and the unweighted Huber problem on it."""
    data = _noisy("chinchilla")
    law = sl.get_law("chinchilla")
    problem = Problem(
        law,
        {"N": data["N"], "D": data["D"]},
        data["loss"],
        get_objective("huber"),
        np.ones(data["loss"].size),
    )
    return data, law, problem


def test_stopping_tolerances_cannot_declare_convergence():
    """Tolerances loose enough to stop after the first accepted step: the members stop, but
    away from a stationary point, so none is converged; with the defaults all are."""
    _, law, problem = _chinchilla_huber()
    theta0 = law.start_grid()[::900]
    early = refine(problem, theta0, xtol=1.0, ftol=1.0)
    assert np.all(early.iterations < 10)
    assert not early.converged.any()
    assert np.all(early.gradient > 1e3 * GTOL)
    full = refine(problem, theta0)
    assert full.converged.all()
    assert np.all(full.gradient <= GTOL)


def test_decrement_is_the_relative_decrease_of_a_gauss_newton_step():
    """For a linear least-squares model the Gauss-Newton step is exact: the decrement equals
    (f(theta) - f_min) / f(theta), with f_min from numpy's lstsq."""
    x = np.linspace(1.0, 3.0, 20)
    y = 2.0 + 0.5 * x + 0.1 * np.sin(7 * x)

    def line(x, *, a, b):
        return a + b * x

    law = sl.laws.make_law(line, {"a": {"init": 1.0}, "b": {"init": 1.0}})
    problem = Problem(law, {"x": x}, y, get_objective("mse"), np.ones(x.size))
    theta = np.array([[1.0, 1.0], [2.1, 0.45]])
    _, residual, *_ = np.linalg.lstsq(np.column_stack([np.ones_like(x), x]), y)
    f = 0.5 * np.sum((theta[:, :1] + theta[:, 1:] * x - y) ** 2, axis=1)
    expected = (f - 0.5 * residual[0]) / f
    found = decrement(problem, theta, np.ones((2, x.size)))
    np.testing.assert_allclose(found, expected, rtol=1e-6)


def test_huber_optimum_with_as_many_quadratic_points_as_parameters_converges():
    """A bootstrap replicate of the chinchilla example whose optimum has 5 points inside the
    Huber delta for 5 parameters: the linear IRLS majoriser crawled to the 500-iteration
    limit (not converged); the exact curvature converges in under 200 iterations."""
    data, law, problem = _chinchilla_huber()
    optimum = law.pack(fit(law, data, bootstrap=0).params)
    weights = run_weights(np.arange(data["loss"].size), 200, np.random.default_rng(0))
    replicate = refine(problem, optimum[None], weights=weights[[140]])
    assert replicate.converged[0] and replicate.iterations[0] < 200
    assert replicate.gradient[0] <= GTOL
