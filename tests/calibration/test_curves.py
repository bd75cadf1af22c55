"""Calibration of curve-law prediction bands (analysis.curves), Tissue et al.'s law.

Truth: L0 = 2.74, A = 0.45, alpha = 0.6, C = 0.35 (tests/curves' example).
Fitted on a cosine and a constant curve of 3,000 steps (loss logged every 60 steps
after a 150-step warmup, 0.2% i.i.d. log-normal noise), 100 repetitions; the band
(parameter uncertainty, block bootstrap) is checked on the noise-free final loss of
the fitted cosine curve and of a held-out WSD schedule.
"""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.analysis.curves import Curve, fit_curves
from scalinglab.laws.curves import build_design, curve_law
from scalinglab.schedules import constant, cosine, wsd

from ._calibrate import REPS, failures, report, row

pytestmark = pytest.mark.slow

TRUTH = {"L0": 2.74, "A": 0.45, "alpha": 0.6, "C": 0.35}
STEPS, EVERY, NOISE, BOOTSTRAP = 3000, 60, 2e-3, 100
TRAIN = (
    cosine(STEPS, 3e-4, final=3e-5, warmup=150),
    constant(STEPS, 3e-4, warmup=150),
)
TARGETS = {
    "cosine (fitted)": TRAIN[0],
    "WSD (held out)": wsd(STEPS, 3e-4, decay=0.25, shape="exp", final=3e-5, warmup=150),
}


def _law_curve(schedule, steps: np.ndarray) -> np.ndarray:
    design = build_design([schedule.lr], [steps])
    return curve_law("tissue", design).predict(TRUTH, point=np.arange(steps.size))


def _observed(seed: int) -> list[Curve]:
    rng = np.random.default_rng(seed)
    out = []
    for s in TRAIN:
        steps = np.arange(s.phases().warmup[1], s.steps, EVERY)
        loss = _law_curve(s, steps) * np.exp(NOISE * rng.standard_normal(steps.size))
        out.append(Curve(s.name, s, steps, loss))
    return out


@pytest.mark.xfail(
    strict=False,
    reason="curve bands run narrow: final loss of the fitted cosine covered 85% at "
    "0.79x the oracle width, held-out WSD 90% at 0.78x (block bootstrap, 10 blocks "
    "per curve, 100 replicates); analysis/curves.py's bootstrap is being reworked",
)
def test_curve_prediction_bands():
    final = {
        k: float(_law_curve(s, np.array([s.steps - 1]))[0]) for k, s in TARGETS.items()
    }
    estimate = {k: [] for k in TARGETS}
    bands = {k: [] for k in TARGETS}
    for seed in range(REPS):
        fit = fit_curves(_observed(seed), law="tissue", bootstrap=BOOTSTRAP, seed=seed)
        for k, schedule in TARGETS.items():
            value, band = fit.final_loss(schedule)
            estimate[k].append(value)
            bands[k].append(band if band is not None else (np.nan, np.nan))
    rows = []
    for k in TARGETS:
        low, high = np.array(bands[k]).T
        rows.append(row(f"tissue final loss, {k}", final[k], estimate[k], low, high))
    report("curve-law predictions (tissue)", rows)
    assert not failures(rows), failures(rows)
