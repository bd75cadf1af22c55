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


@pytest.mark.xfail(
    strict=False,
    reason="honest but wide with the right law (100% at 1.21x and 1.41x the oracle "
    "width, 1 and 2 decades): the rolling-origin tau counts the folds' own parameter "
    "spread (already in the bootstrap draws) and truncates the scatter point by point "
    "(about 0.48 sigma^2 kept per point) as shape error. Taking both out passes here "
    "(98%/99% at 1.08x/1.18x; the fold-sum truncation alone 99%/99% at 1.18x/1.32x) "
    "but lowers coverage where a law is biased beyond the data (loss_to_loss "
    "fineweb-edu, overtraining: 48% -> 39% and 43%), breaking the README's realdata "
    "claim; see docs/calibration.md",
)
def test_prediction_intervals_beyond_the_range():
    law, truth = sl.get_law("chinchilla"), example("chinchilla")
    inputs = _design()
    points = _targets(inputs)
    estimate, new, low, high = [], [], [], []
    for seed in range(REPS):
        data = simulate(law, truth.params, inputs, noise=NOISE, seed=seed)
        fit = sl.fit(law, data, bootstrap=BOOTSTRAP, seed=seed)
        estimate.append(fit.predict(**points))
        new.append(new_observation(law, truth.params, points, seed))
        lo, hi = fit.predict_interval(**points)
        low.append(lo)
        high.append(hi)
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
