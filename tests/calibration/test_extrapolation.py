"""Calibration of prediction intervals 1 and 2 decades of compute beyond the fitted range.

Known truth: the chinchilla example law with 1% noise, fitted (defaults: 100
replicates, extrapolation="rolling") on 6 sizes 2e7-4e8 x 8 ratios 2-400 tokens per
parameter (C up to 3.8e20); predicted at 20 tokens per parameter at 10x and 100x that
compute, against a new run there (the true loss with its own 1% noise).
"""

from __future__ import annotations

import numpy as np
import pytest

import scalinglab as sl
from scalinglab.laws.examples import example, simulate

from ._calibrate import BOOTSTRAP, NOISE, REPS, failures, new_observation, report, row

pytestmark = pytest.mark.slow

SIZES = np.geomspace(2e7, 4e8, 6)
RATIOS = np.geomspace(2.0, 400.0, 8)


def _design() -> dict[str, np.ndarray]:
    N, ratio = np.meshgrid(SIZES, RATIOS, indexing="ij")
    return {"N": N.ravel(), "D": (ratio * N).ravel()}


def _targets(inputs) -> dict[str, np.ndarray]:
    """N and D at 20 tokens per parameter and 10x, 100x the largest fitted compute."""
    C = np.max(6 * inputs["N"] * inputs["D"]) * np.array([10.0, 100.0])
    N = np.sqrt(C / (6 * 20.0))
    return {"N": N, "D": 20.0 * N}


def test_prediction_intervals_beyond_the_range():
    law, truth = sl.get_law("chinchilla"), example("chinchilla")
    inputs = _design()
    points = _targets(inputs)
    estimate, new, low, high, drift_said = [], [], [], [], 0
    for seed in range(REPS):
        data = simulate(law, truth.params, inputs, noise=NOISE, seed=seed)
        fit = sl.fit(law, data, bootstrap=BOOTSTRAP, seed=seed)
        estimate.append(fit.predict(**points))
        new.append(new_observation(law, truth.params, points, seed))
        lo, hi = fit.predict_interval(**points)
        low.append(lo)
        high.append(hi)
        drift_said += fit.extrapolation_error.shape_note is not None
    estimate, new, low, high = (np.array(v) for v in (estimate, new, low, high))
    rows = [
        row(
            f"chinchilla new run at {factor} decade(s) beyond",
            new[:, j],
            estimate[:, j],
            low[:, j],
            high[:, j],
        )
        for j, factor in enumerate((1, 2))
    ]
    report("prediction intervals beyond the range (default widening)", rows)
    assert not failures(rows), failures(rows)
    # With the right law a steady drift of the folds' errors is chance: said in 4 of
    # 100 fits; the bound is 3 binomial sd above that.
    print(f"shape drift said in {drift_said} of {REPS} fits")
    assert drift_said <= 10
