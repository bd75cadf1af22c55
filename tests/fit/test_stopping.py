"""Stopping rules that fit the objective's scale: bootstrap widths against a tightly converged reference.

The summed log-Huber objective is about 1e-3 at the optimum. An optimizer whose
tolerance is relative to a unit-scale objective stops after a few steps from
the warm start, so every replicate stays near the full-data optimum and the
bootstrap intervals come out far too narrow.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from scalinglab.fit.bootstrap import bootstrap, run_weights
from scalinglab.fit.engine import Problem, jacobian, objective_values, predictions
from scalinglab.fit.objectives import get_objective
from scalinglab.laws import get_law

from .conftest import chinchilla_data

REPLICATES = 20
SEED = 11


def _problem() -> Problem:
    data = chinchilla_data(noise=0.01, seed=5)
    law = get_law("chinchilla")
    inputs = {"N": data["N"], "D": data["D"]}
    return Problem(law, inputs, data["loss"], get_objective("huber"), np.ones(data["loss"].size))


def _scipy_fit(problem: Problem, theta0: np.ndarray, weights: np.ndarray, **options) -> np.ndarray:
    """L-BFGS-B with the analytic gradient of the weighted objective (the reference recipe)."""

    def value_and_gradient(theta):
        r = (predictions(problem, theta[None]) - problem.observed)[0]
        g = np.einsum("n,np->p", weights * problem.objective.psi(r), jacobian(problem, theta[None])[0])
        return float(objective_values(problem, theta[None], weights)[0]), g

    low, high = problem.law.fit_bounds()
    bounds = list(zip(low, high))
    return minimize(value_and_gradient, theta0, jac=True, method="L-BFGS-B", bounds=bounds, options=options).x


def _replicates(problem: Problem):
    full = _scipy_fit(problem, problem.law.pack(dict(E=1.7, A=400, B=400, alpha=0.3, beta=0.3)),
                      problem.weights, ftol=0.0, gtol=1e-13, maxiter=20000)
    run_index = np.arange(problem.target.size)
    weights = run_weights(run_index, REPLICATES, np.random.default_rng(SEED))
    return full, run_index, weights


def test_bootstrap_widths_match_a_tightly_converged_reference():
    problem = _problem()
    full, run_index, weights = _replicates(problem)
    ours = bootstrap(problem, full, run_index, replicates=REPLICATES, seed=SEED)
    assert ours.converged.all()
    tight = np.array([
        _scipy_fit(problem, full, w, ftol=0.0, gtol=1e-13, maxiter=20000) for w in weights
    ])
    alpha, beta = 3, 4
    for column in (alpha, beta):
        assert np.std(ours.theta[:, column]) == pytest.approx(np.std(tight[:, column]), rel=0.02)
    assert np.max(np.abs(ours.theta[:, alpha] - tight[:, alpha])) < 1e-4


def test_a_unit_scale_tolerance_gives_intervals_far_too_narrow():
    """The failure the engine's stopping rule avoids: a mean-reduced objective with default
    tolerances stops near the warm start, so the spread collapses."""
    problem = _problem()
    full, run_index, weights = _replicates(problem)
    tight = bootstrap(problem, full, run_index, replicates=REPLICATES, seed=SEED).theta
    n = problem.target.size
    early = np.array([_scipy_fit(problem, full, w / n) for w in weights])
    ratio = np.std(early[:, 3]) / np.std(tight[:, 3])
    assert ratio < 0.2, ratio
