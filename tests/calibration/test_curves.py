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
    reason="curve bands a little narrow: on seeds 0-99 the fitted cosine's final loss "
    "is covered 86% at 0.83x the oracle width, the held-out WSD 84% at 0.76x; over "
    "seeds 0-299 88% at 0.85x and 90% at 0.90x (residual bootstrap; the run bootstrap "
    "over 10 blocks per curve gave 85% at 0.79x and 90% at 0.78x). 100-replicate "
    "percentiles take about 4% of the width (400 replicates: 88% at 0.88x, 94% at "
    "1.10x on seeds 100-199)",
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
