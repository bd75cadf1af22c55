"""Calibration of the IsoFLOP exponent intervals (approach 2) on a known Chinchilla law.

Truth: L = 1.69 + 406.4 N^-0.34 + 410.7 D^-0.28, so a = 0.28 / 0.62 and
b = 1 - a under C = 6 N D. Design: 8 budgets 1e18-1e21, 11 sizes per budget over
a factor 30 in N around a centre that wanders 0.7x-1.4x off the optimum (as a
real sweep's does), 0.3% log-normal noise, 100 seeded repetitions.
"""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.analysis.isoflop import isoflop

from ._calibrate import REPS, failures, report, row

pytestmark = pytest.mark.slow

TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
BUDGETS = np.geomspace(1e18, 1e21, 8)
OFFSETS = np.array([0.7, 1.4, 1.0, 0.8, 1.25, 0.9, 1.1, 0.75])
A_TRUE = TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])
NOISE = 0.003
DRAWS = 300


def chinchilla_loss(N, D):
    t = TRUTH
    return t["E"] + t["A"] * N ** -t["alpha"] + t["B"] * D ** -t["beta"]


def optimal_N(C):
    """Closed form under C = 6 N D (Hoffmann et al. eq. 4)."""
    a, b = TRUTH["alpha"], TRUTH["beta"]
    G = (a * TRUTH["A"] / (b * TRUTH["B"])) ** (1 / (a + b))
    return G * (C / 6) ** (b / (a + b))


def _design() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sizes = [
        np.geomspace(o * optimal_N(c) / np.sqrt(30), o * optimal_N(c) * np.sqrt(30), 11)
        for c, o in zip(BUDGETS, OFFSETS)
    ]
    N = np.concatenate(sizes)
    C = np.repeat(BUDGETS, 11)
    return N, C / (6 * N), C


PORIAN_XFAIL = pytest.mark.xfail(
    strict=False,
    reason="Porian et al.'s seed-noise intervals are conservative on this design: "
    "100% coverage of a at 1.29x the oracle width (0.146 vs 0.114), measured "
    "with the true noise sd; reported, not the default",
)


@pytest.mark.parametrize(
    "options",
    [{}, pytest.param({"profile": "porian", "window": None}, marks=PORIAN_XFAIL)],
    ids=["default", "porian"],
)
def test_isoflop_exponent_intervals(options):
    N, D, C = _design()
    mean = chinchilla_loss(N, D)
    if options.get("profile") == "porian":
        options = {**options, "noise": NOISE * float(np.median(mean))}
    fits = []
    for seed in range(REPS):
        rng = np.random.default_rng(seed)
        loss = mean * np.exp(NOISE * rng.standard_normal(mean.size))
        fits.append(isoflop(N, D, C, loss, draws=DRAWS, seed=seed, **options))
    rows = []
    for name, truth in (("a", A_TRUE), ("b", 1 - A_TRUE)):
        fit = [getattr(f, name) for f in fits]
        estimate = [p.exponent for p in fit]
        low, high = np.array([p.ci95 for p in fit]).T
        label = options.get("profile", "parabola, window 10")
        rows.append(row(f"isoflop {name} ({label})", truth, estimate, low, high))
    report(f"IsoFLOP exponents ({label})", rows)
    assert not failures(rows), failures(rows)
