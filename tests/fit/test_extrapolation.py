"""Prediction intervals carry the law's measured extrapolation error beyond the fitted range."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglab as sl
from scalinglab.fit.extrapolation import decades_beyond, input_ranges

from .conftest import TRUTH, chinchilla_data


def test_decades_beyond_counts_each_input_and_the_compute_they_imply():
    ranges = input_ranges({"N": np.array([1e7, 1e9]), "D": np.array([1e9, 1e11])})
    assert decades_beyond(ranges, {"N": 1e8, "D": 1e10}) == 0.0
    assert decades_beyond(ranges, {"N": 1e10, "D": 1e10}) == pytest.approx(1.0)
    assert decades_beyond(ranges, {"N": 1e6, "D": 1e10}) == pytest.approx(1.0)
    # Big models saw few tokens: (1e9, 1e11) is inside both ranges, at 100x the fitted compute.
    diagonal = input_ranges({"N": np.array([1e7, 1e9]), "D": np.array([1e11, 1e9])})
    assert decades_beyond(diagonal, {"N": 1e9, "D": 1e11}) == pytest.approx(2.0)


def test_intervals_widen_only_beyond_the_fitted_range():
    data = chinchilla_data(noise=0.01, seed=7)
    widened = sl.fit("chinchilla", data, bootstrap=200, seed=0)
    plain = sl.fit("chinchilla", data, bootstrap=200, seed=0, extrapolation=None)
    spread = widened.extrapolation_error
    assert spread is not None and spread.tau > 0 and spread.by == "C"
    inside = {"N": 1e8, "D": 1e10}
    assert widened.predict_interval(**inside) == plain.predict_interval(**inside)
    far = {"N": 3e11, "D": 6e12}
    low, high = widened.predict_interval(**far)
    plain_low, plain_high = plain.predict_interval(**far)
    assert low < plain_low and high > plain_high


def test_a_misspecified_law_measures_a_larger_extrapolation_error():
    """Kaplan's law has no irreducible loss; on Chinchilla data it bends wrongly beyond the data."""
    data = chinchilla_data(noise=0.003, seed=8)
    right = sl.fit("chinchilla", data, bootstrap=20, seed=0).extrapolation_error
    wrong = sl.fit("kaplan", data, bootstrap=20, seed=0).extrapolation_error
    assert wrong.tau > 1.5 * right.tau  # measured: 0.034 vs 0.018


def test_too_few_scale_levels_is_said_not_hidden():
    data = chinchilla_data(noise=0.01, seed=9, sizes=2, ratios=3)
    result = sl.fit("chinchilla", data, bootstrap=20, seed=0)
    if result.extrapolation_error is None:
        assert "extrapolation_not_estimated" in {d.code for d in result.diagnostics}
    else:
        assert result.extrapolation_error.n >= 2


def test_saved_fit_keeps_its_extrapolation_error(tmp_path):
    result = sl.fit("chinchilla", chinchilla_data(noise=0.01, seed=10), bootstrap=50, seed=0)
    reloaded = sl.load_fit(result.save(tmp_path / "fit.json"))
    assert reloaded.extrapolation_error.tau == result.extrapolation_error.tau
    far = {"N": np.array([1e10, 1e11]), "D": np.array([1e12, 5e12])}
    assert np.array_equal(np.array(reloaded.predict_interval(**far)), np.array(result.predict_interval(**far)))
    assert TRUTH["alpha"] == pytest.approx(result.params["alpha"], abs=0.05)


def test_optimal_loss_interval_carries_the_extrapolation_error():
    data = chinchilla_data(noise=0.01, seed=11)
    widened = sl.fit("chinchilla", data, bootstrap=200, seed=0).optimal(1e24)
    plain = sl.fit("chinchilla", data, bootstrap=200, seed=0, extrapolation=None).optimal(1e24)
    assert widened.loss == plain.loss
    assert widened.ci95["loss"][0] < plain.ci95["loss"][0] and widened.ci95["loss"][1] > plain.ci95["loss"][1]
    assert widened.ci95["N"] == plain.ci95["N"]
