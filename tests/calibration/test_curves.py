"""Calibration of curve-law prediction bands (analysis.curves), Tissue et al.'s law.

Truth: L0 = 2.74, A = 0.45, alpha = 0.6, C = 0.35 (tests/curves' example).
Fitted on a cosine and a constant curve of 3,000 steps (loss logged every 60 steps
after a 150-step warmup, 0.2% i.i.d. log-normal noise), 100 repetitions; the band
(parameter uncertainty, residual bootstrap) is checked on the noise-free final loss of
the fitted cosine curve and of a held-out WSD schedule.

The oracle width of 100 repetitions is itself noisy: over 400 other seeds (100-499)
the final-loss estimate's 2.5-97.5% range is 0.0092 (cosine) and 0.0057 (WSD), in
chunks of 100 seeds 0.0078-0.0100 and 0.0051-0.0061; seeds 0-99 give 0.0099 and
0.0073, so their errors run large and their coverage low (docs/calibration.md).

Measured (reflected bands, replicates' noise scaled by the measured factor): seeds
0-99 (this test) 93% at 0.88x (cosine) and 88% at 0.80x (WSD); seeds 100-299 92% at
0.96x and 94% at 1.11x. Percentile bands without the factor gave 86%/84% and 90%/94%.
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
