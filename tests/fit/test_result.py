"""FitResult as a user meets it: a short repr, plain floats, and intervals that contain
their own estimate (or a diagnostic that says they do not)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

import scalinglab as sl
from scalinglab.laws import get_law
from scalinglab.laws.examples import example, simulate


@pytest.fixture(scope="module")
def result():
    truth = example("chinchilla")
    data = simulate(
        get_law("chinchilla"), truth.params, truth.inputs, noise=0.01, seed=0
    )
    return sl.fit("chinchilla", data, bootstrap=200, extrapolation=None)


def test_repr_is_one_short_line_without_the_draws(result):
    text = repr(result)
    assert len(text) < 400 and "\n" not in text and "array" not in text
    assert "chinchilla" in text and f"{len(result.draws)} bootstrap draws" in text
    assert f"alpha={result.params['alpha']:.6g}" in text


def test_non_converged_replicates_are_left_out_of_the_draws(result):
    failed = [d for d in result.diagnostics if d.code == "bootstrap_not_converged"]
    left_out = failed[0].details["failed"] if failed else 0
    assert len(result.draws) == 200 - left_out
    assert np.all(np.isfinite(result.draws))


def test_optimal_of_one_budget_is_plain_floats(result):
    allocation = result.optimal(1e22)
    assert type(allocation.compute) is float
    for name in ("N", "D", "loss", "tokens_per_param"):
        assert type(getattr(allocation, name)) is float
        low, high = allocation.ci95[name]
        assert type(low) is float and low <= getattr(allocation, name) <= high
    several = result.optimal(np.array([1e20, 1e22]))
    assert several.N.shape == (2,)


def test_draws_without_a_finite_optimum_are_left_out_and_said(result):
    # A = 0 in some draws (the quick demo's degenerate fit): the closed-form N* is 0
    # and D* infinite there. No numpy warning (warnings are errors here), a
    # diagnostic, and intervals over the other draws exactly.
    draws = result.draws.copy()
    draws[::4, result.law.param_names.index("A")] = 0.0
    degenerate = dataclasses.replace(result, draws=draws)
    budgets = np.array([1e20, 1e22])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        allocation = degenerate.optimal(budgets)
    (found,) = [d for d in allocation.diagnostics if d.code == "degenerate_optimum"]
    count = len(draws[::4])
    assert found.details == {"draws": count, "of": len(draws)}
    assert f"{count}/{len(draws)} bootstrap draws" in found.message
    kept = dataclasses.replace(result, draws=np.delete(draws, np.s_[::4], axis=0))
    expected = kept.optimal(budgets)
    for name in ("N", "D", "loss", "tokens_per_param"):
        for got, want in zip(allocation.ci95[name], expected.ci95[name]):
            assert np.all(np.isfinite(got))
            assert got == pytest.approx(want, rel=1e-12)


def test_an_interval_that_misses_its_estimate_is_diagnosed(result):
    assert not [d for d in result.diagnostics if d.code == "interval_excludes_estimate"]
    shifted = result.draws.copy()
    shifted[:, result.law.param_names.index("alpha")] += 0.5  # a biased bootstrap
    broken = dataclasses.replace(result, draws=shifted)
    (found,) = [d for d in broken.diagnostics if d.code == "interval_excludes_estimate"]
    assert list(found.details["missed"]) == ["alpha"]
    low, _ = broken.conf_int()["alpha"]
    assert low > broken.params["alpha"]
    # the check runs once: rebuilding from a saved dict does not repeat the finding
    again = dataclasses.replace(broken)
    assert sum(d.code == "interval_excludes_estimate" for d in again.diagnostics) == 1
