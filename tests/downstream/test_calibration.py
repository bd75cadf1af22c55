"""Joint intervals calibrated on synthetic ladders with known truth (slow).

100 seeded ladders (20 runs, 4 checkpoints each; 1% task-loss scatter, 0.01 metric
scatter): the 95% interval of the mean metric, inside the ladder and 2x beyond it
in N and D, must cover the truth 88-99% of the time, with a median width at most
twice the width (3.92 sd) the point estimates' own spread calls for. So must the
interval of the link's slope k, which carries step 1's draws through the chain.
"""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.downstream import fit_task

from .synthetic import LINK, ladder, sigmoid, task_loss

REPETITIONS = 100
POINTS = ((4e8, 8e9), (2e9, 4e10))


def _repetitions():
    cover, width, point = (np.zeros((REPETITIONS, len(POINTS) + 1)) for _ in range(3))
    for i in range(REPETITIONS):
        task = fit_task(
            ladder(loss_noise=0.01, metric_noise=0.01, seed=100 + i),
            task_loss="task_loss",
            metric="metric",
            run="run",
            chance=0.25,
            bootstrap=100,
            seed=i,
            extrapolation=None,
        )
        for j, (n, d) in enumerate(POINTS):
            low, high = task.predict_interval(N=n, D=d, kind="mean")["metric"]
            truth = sigmoid(task_loss(n, d))
            cover[i, j] = low <= truth <= high
            width[i, j] = high - low
            point[i, j] = task.predict(N=n, D=d)["metric"]
        low, high = np.percentile(task.draws2[:, 1], [2.5, 97.5])
        cover[i, -1] = low <= LINK["k"] <= high
        width[i, -1] = high - low
        point[i, -1] = task.link_params["k"]
    return cover.mean(axis=0), np.median(width, axis=0), 3.92 * point.std(axis=0)


@pytest.mark.slow
def test_joint_intervals_are_calibrated():
    coverage, width, ideal = _repetitions()
    print("coverage", coverage, "median width / 3.92 sd", width / ideal)
    assert np.all((coverage >= 0.88) & (coverage <= 0.99)), coverage
    assert np.all(width <= 2 * ideal), width / ideal
