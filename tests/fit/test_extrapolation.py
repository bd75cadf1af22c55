"""Prediction intervals carry the law's measured extrapolation error beyond the fitted range."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglab as sl
from scalinglab.fit.engine import objective_values
from scalinglab.fit.extrapolation import (
    ExtrapolationError,
    decades_beyond,
    fold_masks,
    input_ranges,
    per_fold,
    refit_folds,
    weighted_median,
)

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
    assert wrong.tau > 3 * right.tau  # measured: 0.047 vs 0.0049 (0.034 vs 0.018 when
    # the scatter was taken out point by point)


def test_too_few_scale_levels_is_said_not_hidden():
    data = chinchilla_data(noise=0.01, seed=9, sizes=2, ratios=3)
    result = sl.fit("chinchilla", data, bootstrap=20, seed=0)
    if result.extrapolation_error is None:
        assert "extrapolation_not_estimated" in {d.code for d in result.diagnostics}
    else:
        assert result.extrapolation_error.n >= 2


def test_saved_fit_keeps_its_extrapolation_error(tmp_path):
    result = sl.fit(
        "chinchilla", chinchilla_data(noise=0.01, seed=10), bootstrap=50, seed=0
    )
    reloaded = sl.load_fit(result.save(tmp_path / "fit.json"))
    assert reloaded.extrapolation_error.tau == result.extrapolation_error.tau
    far = {"N": np.array([1e10, 1e11]), "D": np.array([1e12, 5e12])}
    assert np.array_equal(
        np.array(reloaded.predict_interval(**far)),
        np.array(result.predict_interval(**far)),
    )
    assert TRUTH["alpha"] == pytest.approx(result.params["alpha"], abs=0.05)


def test_optimal_loss_interval_carries_the_extrapolation_error():
    data = chinchilla_data(noise=0.01, seed=11)
    widened = sl.fit("chinchilla", data, bootstrap=200, seed=0).optimal(1e24)
    plain = sl.fit(
        "chinchilla", data, bootstrap=200, seed=0, extrapolation=None
    ).optimal(1e24)
    assert widened.loss == plain.loss
    assert (
        widened.ci95["loss"][0] < plain.ci95["loss"][0]
        and widened.ci95["loss"][1] > plain.ci95["loss"][1]
    )
    assert widened.ci95["N"] == plain.ci95["N"]


def _problem(law_name: str, data: dict):
    from scalinglab.fit.engine import Problem
    from scalinglab.fit.objectives import get_objective

    law = sl.get_law(law_name)
    inputs = {name: data[name] for name in law.inputs}
    return Problem(
        law, inputs, data["loss"], get_objective("huber"), np.ones(data["loss"].size)
    )


@pytest.mark.parametrize("law_name", ["chinchilla", "kaplan"])
def test_warm_started_folds_reach_the_optimum_of_a_full_multi_start_fit(law_name):
    """Each fold's batched warm-started refit against an independent full fit (4,500
    starts screened, 16 refined) on the fold's rows alone."""
    data = chinchilla_data(noise=0.01, seed=12)
    full = sl.fit(law_name, data, bootstrap=0)
    problem = _problem(law_name, data)
    law = problem.law
    theta_hat = law.pack(full.params)
    masks = fold_masks(6 * data["N"] * data["D"], min_free=len(law.free_params))
    thetas = refit_folds(problem, theta_hat, law.start_grid(), masks)
    assert len(masks) >= 4
    for mask, theta in zip(masks, thetas):
        rows = {k: v[mask] for k, v in data.items()}
        independent = sl.fit(law_name, rows, bootstrap=0).objective
        warm = float(objective_values(problem, theta[None], weights=mask * 1.0)[0])
        assert warm <= independent * (1 + 1e-6)


def test_per_fold_error_is_the_rms_per_decade_with_its_drift():
    """Closed form: fold 0 drifts by exactly +2% per decade, fold 1 scatters +-3% per decade."""
    d = np.array([0.5, 1.0, 2.0, 0.5, 1.0])
    e = np.array([0.01, 0.02, 0.04, 0.015, -0.03])
    ids, tau, bias = per_fold(d, e, np.array([0, 0, 0, 1, 1]), scatter=0.0)
    assert list(ids) == [0, 1]
    assert tau[0] == pytest.approx(0.02) and bias[0] == pytest.approx(0.02)
    assert tau[1] == pytest.approx(np.sqrt((0.015**2 + 0.03**2) / 1.25))
    assert bias[1] == pytest.approx((0.0075 - 0.03) / 1.25)
    # Scatter, in the interval already, is taken out of the fold's sum of squares (not
    # point by point: max(e^2 - s^2, 0) would keep the points above s in full).
    one = np.zeros(5, int)
    assert per_fold(d, e, one, scatter=0.02)[1][0] == pytest.approx(
        np.sqrt((np.sum(e**2) - 5 * 0.02**2) / np.sum(d**2))
    )
    # Errors no larger than the scatter give no shape error.
    assert per_fold(d, e, one, scatter=0.05)[1][0] == 0.0


def test_a_small_fold_that_went_astray_does_not_set_the_width():
    # Three folds fitted on 20%, 50% and 80% of the rows; the smallest one's law is far off.
    assert (
        weighted_median(np.array([0.5, 0.02, 0.03]), np.array([0.2, 0.5, 0.8])) == 0.03
    )
    assert (
        weighted_median(np.array([0.5, 0.02, 0.03]), np.array([0.9, 0.1, 0.2])) == 0.5
    )


def _drifting(*bias: float) -> ExtrapolationError:
    shares = np.linspace(0.2, 0.9, len(bias))
    return ExtrapolationError(0.01, 10, "C", {}, drift=tuple(zip(shares, bias)))


def test_a_drift_that_moves_with_the_folds_data_is_said():
    # Each larger fold over-predicts more: the fit on all the data will too.
    rising = _drifting(-0.012, -0.004, 0.002, 0.008).shape_note
    assert "over-predict" in rising and "-1.20% per decade on 20%" in rising
    assert "under-predict" in _drifting(0.01, -0.01, -0.02, -0.05).shape_note
    assert _drifting(-0.012, -0.004, -0.006, 0.008).shape_note is None
    assert _drifting(-0.012, -0.004, 0.008).shape_note is None  # 3 folds: chance
    saved = ExtrapolationError.from_dict(_drifting(0.01, 0.02, 0.03, 0.04).to_dict())
    assert saved.drift == _drifting(0.01, 0.02, 0.03, 0.04).drift


def test_intervals_reach_further_on_the_side_the_law_drifts_to():
    # Over-predicting more with more data (+0.8% per decade at the largest fold):
    # draws below the estimate (z < 0) get hypot(tau, 0.008) per decade, above tau.
    rising = ExtrapolationError(
        0.01,
        10,
        "C",
        {"N": (1e7, 1e9)},
        drift=tuple(zip([0.2, 0.4, 0.6, 0.8], [-0.012, -0.004, 0.002, 0.008])),
    )
    z = np.array([-1.0, 1.0])
    sd = rising.extra_sd(z, N=1e10)
    assert sd == pytest.approx([np.hypot(0.01, 0.008), 0.01])
    assert rising.extra_sd(N=1e10) == pytest.approx(0.01)  # no z: symmetric
    falling = _drifting(0.01, -0.01, -0.02, -0.05)
    assert (
        falling.drift_rate == -0.05
        and _drifting(0.01, 0.02, 0.01, 0.03).drift_rate == 0
    )
