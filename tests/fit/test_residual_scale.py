"""The run scatter of a fit: Huber's proposal 2 with n - p degrees of freedom (issue 8)."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglab as sl
from scalinglab.fit.diagnostics import outliers, residual_scale
from scalinglab.laws.examples import example, simulate


def _mad(r: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(r - np.median(r))))


def test_without_clipping_it_is_the_least_squares_scale():
    """k -> infinity: sqrt(RSS / (n - p)) of an ordinary least-squares fit (closed form)."""
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(30), rng.normal(size=(30, 2))])
    y = X @ np.array([1.0, 2.0, -1.0]) + rng.normal(0.0, 0.1, 30)
    r = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    assert residual_scale(r, 3, k=1e6) == pytest.approx(np.sqrt(r @ r / 27), rel=1e-9)


def test_consistent_for_normal_errors_and_robust_to_bad_runs():
    r = np.random.default_rng(1).normal(0.0, 0.01, 20_000)
    assert residual_scale(r, 5) == pytest.approx(0.01, rel=0.02)
    r = r[:200].copy()
    r[:3] = 0.5  # three broken runs, 50 sd off
    # Each broken run counts at most k = 1.5 scales; the RMS is 6 times the noise.
    assert residual_scale(r, 5) < 1.4 * 0.01
    assert np.sqrt(np.mean(r**2)) > 6 * 0.01
    assert residual_scale(np.zeros(10), 3) == 0.0
    assert residual_scale(np.ones(3), 3) == 0.0  # n <= p: nothing to measure


@pytest.mark.slow  # 30 fits: a few seconds alone, half a minute on a loaded machine
def test_nearly_unbiased_where_the_mad_of_a_huber_fit_is_not():
    """30 fits of `power` (40 points, 3 parameters, 1% noise) with Huber delta 1e-3,
    nearly an L1 fit: its MAD averaged 0.88 sigma over 100 such fits, this 0.97."""
    law, truth = sl.get_law("power"), example("power")
    new, mad = [], []
    for seed in range(30):
        data = simulate(law, truth.params, truth.inputs, noise=0.01, seed=seed)
        result = sl.fit(law, data, bootstrap=0, seed=seed)
        r = np.log(data["loss"] / result.predict(C=data["C"]))
        new.append(result.residual_scale / 0.01)
        mad.append(_mad(r) / 0.01)
    assert 0.93 <= np.mean(new) <= 1.07
    assert np.mean(mad) < np.mean(new) - 0.05


def test_the_outlier_test_uses_the_same_scale():
    r = np.random.default_rng(2).normal(0.0, 0.01, 50)
    r[7] = 0.2
    found = outliers(r, n_params=4)
    assert found[0].details["rows"] == [8]
    scale = residual_scale(r, 4)
    assert found[0].details["z"][0] == pytest.approx((0.2 - np.median(r)) / scale)
