"""Step Law on the authors' released dense sweep (../shared/data/steplaw), their procedure:
smoothed final loss, every run within 0.25 % of its (N, D) cell's best, pooled OLS of
log lr ~ log N + log D and log B ~ log D (B in tokens = sequences x 2048), 1000
bootstrap resamples of the kept runs, point estimate = bootstrap mean."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglab.analysis.hparams import fit_hparams

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def steplaw(shared_data):
    root = shared_data / "steplaw"
    if not root.is_dir():
        pytest.skip(f"{root} is missing")
    return root


def test_released_bootstrap_file_gives_the_published_law(steplaw):
    draws = pd.read_csv(steplaw / "1004_fitted_lr_bs_scaling_model_parameters.csv")
    assert np.exp(draws.lr_intercept.mean()) == pytest.approx(1.797, rel=2e-3)
    assert draws.lr_coefN.mean() == pytest.approx(-0.7129, abs=1e-4)
    assert draws.lr_coefD.mean() == pytest.approx(0.3075, abs=1e-4)
    assert draws.bs_coefD.mean() == pytest.approx(0.5709, abs=1e-4)


def test_paper_procedure_on_released_dense_sweep(steplaw):
    df = pd.read_csv(steplaw / "dense_lr_bs_loss.csv")
    fit = fit_hparams(df.N.to_numpy(), df.D.to_numpy(), df.lr.to_numpy(),
                      df.bs.to_numpy() * 2048.0, df["smooth loss"].to_numpy(),
                      threshold=0.0025, resample="runs", bootstrap=1000, seed=0)
    # Reproduced within our bootstrap interval: the N exponent of the LR law and the
    # whole batch-size law (coefficient and D exponent).
    for law, name, published in ((fit.lr_law, "N", -0.713), (fit.bs_law, "D", 0.571),
                                 (fit.bs_law, "coef", 0.58)):
        lo, hi = law.ci95[name]
        assert lo < published < hi, (name, law.ci95[name])
    # Not reproduced from the released subset (see docs/hparams.md): the D exponent of
    # the LR law comes out lower, with an interval that excludes the paper's 0.307.
    assert fit.lr_law.ci95["D"][1] < 0.307
