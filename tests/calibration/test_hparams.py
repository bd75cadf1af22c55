"""Calibration of the learning-rate and batch-size law intervals (analysis.hparams).

Truth: Step Law's lr_opt = 1.79 N^-0.713 D^0.307 and B_opt = 0.58 D^0.571 tokens.
Design: 4 sizes x 3 token counts; in each cell 13 learning rates (half-octave
steps) x 7 batch sizes (octave steps) around a centre that is off the optimum by
a fixed per-cell factor (a real grid is not centred on the unknown optimum);
the loss is a convex bowl in (log lr, log bs) with 0.1% noise; 100 repetitions.
"""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.analysis.hparams import fit_hparams

from ._calibrate import REPS, failures, report, row

pytestmark = pytest.mark.slow

LR_TRUTH = {"coef": 1.79, "N": -0.713, "D": 0.307}
BS_TRUTH = {"coef": 0.58, "D": 0.571}
NOISE = 1e-3
BOOTSTRAP = 200


def _design() -> tuple[np.ndarray, ...]:
    """N, D, lr, bs and the noise-free loss of every run."""
    shift = np.random.default_rng(123)
    rows = []
    for N in (2e8, 4e8, 8e8, 1.6e9):
        for D in (5e9, 2e10, 8e10):
            lr_opt = LR_TRUTH["coef"] * N ** LR_TRUTH["N"] * D ** LR_TRUTH["D"]
            bs_opt = BS_TRUTH["coef"] * D ** BS_TRUTH["D"]
            lr_centre = lr_opt * 2.0 ** shift.uniform(-0.25, 0.25)
            bs_centre = bs_opt * 2.0 ** shift.uniform(-0.5, 0.5)
            for lr in lr_centre * 2.0 ** np.arange(-3, 3.5, 0.5):
                for bs in bs_centre * 2.0 ** np.arange(-3, 3.5, 1.0):
                    x, y = np.log(lr / lr_opt), np.log(bs / bs_opt)
                    bowl = 1 + 0.01 * x * x + 0.004 * x * y + 0.006 * y * y
                    rows.append((N, D, lr, bs, (2.0 + 3e8 / N) * bowl))
    return tuple(np.array(column) for column in zip(*rows))


RUNS_XFAIL = pytest.mark.xfail(
    strict=False,
    reason="Step Law's own bootstrap (kept runs pooled over cells) measures the band's "
    "width, not the law's error: 100% coverage at 1.59x, 1.78x, 1.61x the oracle "
    "width (lr N, lr D, bs D); kept as resample='runs' for the paper's procedure",
)


@pytest.mark.parametrize(
    "method, options",
    [
        ("band", {}),
        pytest.param("band", {"resample": "runs"}, marks=RUNS_XFAIL, id="band-runs"),
        ("quadratic", {"fit_band": 0.05}),
    ],
    ids=["band", "band-runs", "quadratic"],
)
def test_hparam_law_intervals(method, options):
    N, D, lr, bs, mean = _design()
    fits = []
    for seed in range(REPS):
        rng = np.random.default_rng(seed)
        loss = mean * (1 + NOISE * rng.standard_normal(mean.size))
        fits.append(
            fit_hparams(
                N,
                D,
                lr,
                bs,
                loss,
                method=method,
                bootstrap=BOOTSTRAP,
                seed=seed,
                **options,
            )
        )
    method = method + (" (runs)" if options.get("resample") == "runs" else "")
    rows = []
    for law, truth in (("lr_law", LR_TRUTH), ("bs_law", BS_TRUTH)):
        for name in truth:
            if name == "coef":
                continue  # the coefficient trades off against the exponents
            estimate = [getattr(f, law).params[name] for f in fits]
            low, high = np.array([getattr(f, law).ci95[name] for f in fits]).T
            label = f"{method}: {law} exponent of {name}"
            rows.append(row(label, truth[name], estimate, low, high))
    report(f"hyperparameter laws ({method})", rows)
    assert not failures(rows), failures(rows)
