"""Analytic Jacobians against central differences, in both residual spaces, for every law that has one."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import scalinglab as sl
from scalinglab.fit.engine import Problem, jacobian
from scalinglab.fit.objectives import get_objective
from scalinglab.laws.examples import example, simulate

ANALYTIC = [law for law in sl.all_laws() if law.log_jacobian is not None]


def _central_differences(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """d residual / d theta by central differences on the predictions (the engine's fallback)."""
    without = replace(problem, law=replace(problem.law, log_jacobian=None))
    return jacobian(without, theta)


@pytest.mark.parametrize("objective", ["msle", "mse"])
@pytest.mark.parametrize("law", ANALYTIC, ids=str)
def test_analytic_jacobian_matches_central_differences(law, objective):
    truth = example(law)
    data = simulate(law, truth.params, truth.inputs, noise=0.01, seed=0)
    if objective == "msle" and np.any(data["loss"] <= 0):
        pytest.skip("log-space residuals are undefined for a law of negative losses")
    inputs = {name: data[name] for name in law.inputs}
    problem = Problem(
        law, inputs, data["loss"], get_objective(objective), np.ones(data["loss"].size)
    )
    # The truth and a point well away from it (exponents and scales shifted).
    theta = law.pack(dict(truth.params))
    points = np.stack([theta, theta * np.where(np.arange(theta.size) % 2, 0.9, 1.1)])
    analytic = jacobian(problem, points)
    numeric = _central_differences(problem, points)
    np.testing.assert_allclose(
        analytic, numeric, rtol=1e-5, atol=1e-7 * np.abs(numeric).max()
    )
