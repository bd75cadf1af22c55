"""The fitting engine: recovery, fixed and bounded parameters, determinism, bootstrap by run."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglab as sl
from scalinglab.errors import ScalinglabError
from scalinglab.fit.bootstrap import run_weights
from scalinglab.laws import make_law

from .conftest import TRUTH, chinchilla_data


def test_recovers_exact_parameters(exact_runs):
    result = sl.fit("chinchilla", exact_runs, bootstrap=0)
    assert result.converged
    assert result.params == pytest.approx(TRUTH, rel=1e-6)
    assert result.objective < 1e-20


def test_recovers_noisy_parameters_within_interval(noisy_runs):
    result = sl.fit("chinchilla", noisy_runs, bootstrap=300, seed=0)
    ci = result.conf_int()
    for name in ("E", "alpha", "beta"):
        assert ci[name][0] <= TRUTH[name] <= ci[name][1], (name, ci[name])
    assert result.params["alpha"] == pytest.approx(TRUTH["alpha"], abs=0.05)


def test_fixed_parameter_is_held_and_others_refit(noisy_runs):
    result = sl.fit("chinchilla", noisy_runs, bootstrap=50, fixed={"E": 1.69})
    assert result.params["E"] == 1.69
    assert np.all(result.draws_by_name()["E"] == 1.69)
    assert result.params["beta"] == pytest.approx(TRUTH["beta"], abs=0.03)


def test_bound_is_respected_and_reported(exact_runs):
    result = sl.fit("chinchilla", exact_runs, bootstrap=0, bounds={"alpha": (0.0, 0.3)})
    assert result.params["alpha"] <= 0.3
    codes = [d.code for d in result.diagnostics]
    assert "at_bound" in codes


def test_fit_is_bit_identical_for_a_seed(noisy_runs):
    first = sl.fit("chinchilla", noisy_runs, bootstrap=100, seed=3)
    second = sl.fit("chinchilla", noisy_runs, bootstrap=100, seed=3)
    assert first.params == second.params
    assert np.array_equal(first.draws, second.draws)
    other = sl.fit("chinchilla", noisy_runs, bootstrap=100, seed=4)
    assert not np.array_equal(first.draws, other.draws)


def test_input_is_not_mutated(noisy_runs):
    before = {k: v.copy() for k, v in noisy_runs.items()}
    sl.fit("chinchilla", noisy_runs, bootstrap=10)
    for key in before:
        assert np.array_equal(before[key], noisy_runs[key])


def test_bootstrap_moves_checkpoints_of_a_run_together():
    run_index = np.array([0, 0, 0, 1, 1, 2])
    weights = run_weights(run_index, 500, np.random.default_rng(0))
    assert np.all(weights[:, 0] == weights[:, 1]) and np.all(weights[:, 1] == weights[:, 2])
    assert np.all(weights[:, 3] == weights[:, 4])
    # each replicate draws as many runs as there are (3)
    assert np.all(weights[:, [0, 3, 5]].sum(axis=1) == 3)


def test_objectives_differ_and_asymmetric_fits_the_lower_edge(noisy_runs):
    huber = sl.fit("chinchilla", noisy_runs, bootstrap=0)
    mse = sl.fit("chinchilla", noisy_runs, bootstrap=0, objective="mse")
    lower = sl.fit("chinchilla", noisy_runs, bootstrap=0, objective="asymmetric", delta=10.0)
    assert mse.objective_spec.space == "linear"
    assert huber.params != mse.params
    residual = np.log(lower.predict(N=noisy_runs["N"], D=noisy_runs["D"])) - np.log(noisy_runs["loss"])
    assert np.mean(residual > 0) < 0.35  # over-predictions are penalised, so most points sit above


def test_nist_danwood_certified_values():
    """NIST StRD DanWood (y = b1 x^b2, least squares): certified b1, b2 and residual sum of squares."""
    x = np.array([1.309, 1.471, 1.490, 1.565, 1.611, 1.680])
    y = np.array([2.138, 3.421, 3.597, 4.340, 4.882, 5.660])

    def danwood(x, *, b1, b2):
        return b1 * x**b2

    law = make_law(danwood, {"b1": dict(init=1.0, grid=(0.5, 1.0, 2.0)), "b2": dict(init=5.0, grid=(1.0, 3.0, 5.0))})
    result = sl.fit(law, {"x": x, "loss": y}, objective="mse", bootstrap=0)
    assert result.params["b1"] == pytest.approx(7.6886226176e-01, rel=1e-6)
    assert result.params["b2"] == pytest.approx(3.8604055871e00, rel=1e-6)
    assert 2 * result.objective == pytest.approx(4.3173084083e-03, rel=1e-6)


def test_unknown_parameter_name_is_a_clear_error(exact_runs):
    with pytest.raises(ScalinglabError, match="has no parameter 'gamma'"):
        sl.fit("chinchilla", exact_runs, fixed={"gamma": 1.0})


def test_missing_column_names_the_column():
    with pytest.raises(ScalinglabError, match="D"):
        sl.fit("chinchilla", {"N": np.array([1e8, 1e9, 1e10]), "loss": np.array([3.0, 2.5, 2.2])})


def test_diagnostics_flag_collinear_design_and_few_runs():
    data = chinchilla_data(sizes=5, ratios=1)
    result = sl.fit("chinchilla", data, bootstrap=0)
    codes = {d.code for d in result.diagnostics}
    assert {"collinear_ratio", "few_runs"} <= codes


def test_outlier_is_reported_with_its_row(noisy_runs):
    data = {k: v.copy() for k, v in noisy_runs.items()}
    data["loss"][7] *= 1.3
    result = sl.fit("chinchilla", data, bootstrap=0)
    outliers = [d for d in result.diagnostics if d.code == "outliers"]
    assert outliers and 8 in outliers[0].details["rows"]


def test_extrapolation_says_how_far(noisy_runs):
    result = sl.fit("chinchilla", noisy_runs, bootstrap=0)
    found = result.extrapolation(N=3e10, D=1e12)
    factors = {d.details["input"]: d.details["factor"] for d in found}
    assert factors["N"] == pytest.approx(10.0)
