"""Calibration of the loss-law intervals: parameters, predictions in range, N*, D*, L*.

Known truth: each registered law's example (laws/examples.py) with 1% log-normal
noise, 100 seeded repetitions, 100-replicate run bootstrap, extrapolation=None
(in-range intervals; the widening beyond the range is tested separately).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import scalinglab as sl
from scalinglab.analysis.optimal import optimal_allocation

from ._calibrate import (
    failures,
    new_observation,
    repetitions,
    report,
    row,
    truth_for,
)

pytestmark = pytest.mark.slow

LAWS = ("chinchilla", "kaplan", "overtraining", "data_constrained", "power")
# Budgets inside every N-D example's compute range (6 N D from ~1e16 to ~3e22).
BUDGETS = np.array([1e19, 1e20, 1e21])


@pytest.mark.parametrize("name", LAWS)
def test_parameter_intervals(name):
    reps = repetitions(name)
    rows = []
    for param, value in truth_for(name).params.items():
        estimate = [r.result.params[param] for r in reps]
        cis = np.array([r.result.conf_int()[param] for r in reps])
        rows.append(row(f"{name} {param}", value, estimate, cis[:, 0], cis[:, 1]))
    report(f"parameter intervals: {name}", rows)
    assert not failures(rows), failures(rows)


def _in_range_points(name: str) -> dict[str, np.ndarray]:
    """Three design points at the quartiles of the design's order (all inside the range)."""
    inputs = truth_for(name).inputs
    n = len(next(iter(inputs.values())))
    pick = np.array([n // 4, n // 2, 3 * n // 4])
    return {k: v[pick] for k, v in inputs.items()}


def _prediction_rows(name: str, kind: str) -> list:
    """Rows of ``kind`` ("mean" or "prediction") intervals at the in-range points."""
    law, truth = sl.get_law(name), truth_for(name)
    points = _in_range_points(name)
    mean = law.predict(truth.params, **points)
    estimate, target, low, high = [], [], [], []
    for seed, r in enumerate(repetitions(name)):
        estimate.append(r.result.predict(**points))
        new = new_observation(law, truth.params, points, seed)
        target.append(mean if kind == "mean" else new)
        lo, hi = r.result.predict_interval(kind=kind, **points)
        low.append(lo)
        high.append(hi)
    estimate, target, low, high = (np.array(v) for v in (estimate, target, low, high))
    what = "mean" if kind == "mean" else "new run"
    rows = []
    for j in range(len(mean)):
        where = ", ".join(f"{k}={v[j]:.3g}" for k, v in points.items())
        rows.append(
            row(
                f"{name} {what} at {where}",
                target[:, j],
                estimate[:, j],
                low[:, j],
                high[:, j],
            )
        )
    return rows


@pytest.mark.parametrize("name", LAWS)
def test_mean_intervals_in_range(name):
    rows = _prediction_rows(name, "mean")
    report(f"mean-loss intervals in range: {name}", rows)
    assert not failures(rows), failures(rows)


@pytest.mark.parametrize("name", LAWS)
def test_new_run_intervals_in_range(name):
    """Run scatter from Huber's proposal 2 with n - p degrees of freedom: 88-95% at
    0.93-1.08x the oracle width (the MAD of near-L1 residuals gave 84-88% at 0.83-0.91x
    at the largest point)."""
    rows = _prediction_rows(name, "prediction")
    report(f"new-run prediction intervals in range: {name}", rows)
    assert not failures(rows), failures(rows)


def brute_force_optimum(law, params, compute: float) -> tuple[float, float, float]:
    """N*, D*, L* on a fine log-N grid under C = 6 N D (independent of analysis.optimal)."""
    logN = np.linspace(np.log(1e5), np.log(compute / 6 / 1e5), 200_001)
    N = np.exp(logN)
    D = compute / (6 * N)
    loss = law.predict(params, N=N, D=D)
    best = int(np.argmin(loss))
    return float(N[best]), float(D[best]), float(loss[best])


@pytest.mark.parametrize("name", ("chinchilla", "overtraining", "kaplan"))
def test_compute_optimal_intervals(name):
    law, truth = sl.get_law(name), truth_for(name)
    exact = np.array([brute_force_optimum(law, truth.params, c) for c in BUDGETS])
    # The package's own optimum at the true parameters agrees with the brute force.
    own = SimpleNamespace(law=law, params=dict(truth.params), draws=None)
    own = optimal_allocation(own, BUDGETS)
    assert own.N == pytest.approx(exact[:, 0], rel=2e-3)
    reps = repetitions(name)
    allocations = [r.result.optimal(BUDGETS) for r in reps]
    rows = []
    for k, key in enumerate(("N", "D", "loss")):
        estimate = np.array([getattr(a, key) for a in allocations])
        low = np.array([a.ci95[key][0] for a in allocations])
        high = np.array([a.ci95[key][1] for a in allocations])
        for j, c in enumerate(BUDGETS):
            log = key != "loss"  # N* and D* spread over decades: compare in log
            f = np.log if log else (lambda v: v)
            rows.append(
                row(
                    f"{name} {key}* at C={c:.0e}" + (" (log)" if log else ""),
                    f(exact[j, k]),
                    f(estimate[:, j]),
                    f(low[:, j]),
                    f(high[:, j]),
                )
            )
    report(f"compute-optimal intervals: {name}", rows)
    assert not failures(rows), failures(rows)
