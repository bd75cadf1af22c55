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
    fit = fit_hparams(
        df.N.to_numpy(),
        df.D.to_numpy(),
        df.lr.to_numpy(),
        df.bs.to_numpy() * 2048.0,
        df["smooth loss"].to_numpy(),
        threshold=0.0025,
        resample="runs",
        bootstrap=1000,
        seed=0,
    )
    # Reproduced within our bootstrap interval: the N exponent of the LR law and the
    # whole batch-size law (coefficient and D exponent).
    for law, name, published in (
        (fit.lr_law, "N", -0.713),
        (fit.bs_law, "D", 0.571),
        (fit.bs_law, "coef", 0.58),
    ):
        lo, hi = law.ci95[name]
        assert lo < published < hi, (name, law.ci95[name])
    # Not reproduced from the released subset (see docs/hparams.md): the D exponent of
    # the LR law comes out lower, with an interval that excludes the paper's 0.307.
    assert fit.lr_law.ci95["D"][1] < 0.307


def _fit(df, N, **options):
    return fit_hparams(
        N.to_numpy(float),
        df.D.to_numpy(float),
        df.lr.to_numpy(float),
        df.bs.to_numpy(float) * 2048.0,
        df["smooth loss"].to_numpy(float),
        threshold=0.0025,
        bootstrap=1000,
        seed=0,
        **options,
    )


@pytest.fixture(scope="module")
def moe_and_dense(steplaw):
    moe = pd.read_csv(steplaw / "moe_lr_bs_loss.csv")
    dense = pd.read_csv(steplaw / "dense_lr_bs_loss.csv")
    return moe, _fit(moe, moe.Na), _fit(dense, dense.N)


def test_moe_lr_does_not_fall_with_active_parameters_as_dense_lr_falls_with_N(
    moe_and_dense,
):
    """The MoE sweep (16 cells: 4 sparsities at one total N = 2.15e9, D = 2e9..2e10):
    with the active parameters Na as the lr law's N, the exponent's interval holds 0
    and lies wholly above the dense fit's (about -0.78); the D exponents and the
    batch-size laws' D exponents agree within their intervals (docs/hparams.md)."""
    _, moe, dense = moe_and_dense
    assert moe.lr_law.ci95["N"][0] < 0 < moe.lr_law.ci95["N"][1]
    assert moe.lr_law.ci95["N"][0] > dense.lr_law.ci95["N"][1]
    for law in ("lr_law", "bs_law"):
        lo_m, hi_m = getattr(moe, law).ci95["D"]
        lo_d, hi_d = getattr(dense, law).ci95["D"]
        assert max(lo_m, lo_d) < min(hi_m, hi_d), law  # the intervals overlap


def test_dense_step_law_predicts_moe_optima_with_total_not_active_parameters(
    moe_and_dense,
):
    """Published Step Law (dense) at each MoE cell: with the total N the median ratio
    of the MoE optimum to the prediction is 1.21 (0.96-1.69); with the active N it is
    0.38 (0.17-1.05). Its batch law (D only) gives 0.93."""
    from scalinglab.analysis.hparams_presets import steplaw as preset

    raw, moe, _ = moe_and_dense
    total = dict(zip(raw.Na, raw.N))
    by_total = [c.lr / preset(total[c.N], c.D).lr for c in moe.cells]
    by_active = [c.lr / preset(c.N, c.D).lr for c in moe.cells]
    batch = [c.batch_tokens / preset(c.N, c.D).batch_tokens for c in moe.cells]
    assert np.median(by_total) == pytest.approx(1.21, abs=0.02)
    assert np.median(by_active) == pytest.approx(0.38, abs=0.02)
    assert np.median(batch) == pytest.approx(0.93, abs=0.02)


def test_moe_total_parameters_cannot_carry_an_exponent(moe_and_dense):
    raw, _, _ = moe_and_dense
    fit = _fit(raw, raw.N)  # total N varies by 0.3 % over the sweep
    codes = [(d.code, d.details.get("input")) for d in fit.diagnostics]
    assert ("input_not_spread", "N") in codes


def test_moe_vs_dense_table_in_the_docs(moe_and_dense):
    """Every number of docs/hparams.md's MoE vs dense table, to its printed rounding."""
    _, moe, dense = moe_and_dense
    exponents = [
        (moe.lr_law, "N", (0.061, -0.063, 0.162)),
        (moe.lr_law, "D", (0.261, 0.160, 0.385)),
        (moe.bs_law, "D", (0.432, 0.284, 0.592)),
        (dense.lr_law, "N", (-0.782, -0.958, -0.685)),
        (dense.lr_law, "D", (0.206, 0.130, 0.308)),
        (dense.bs_law, "D", (0.605, 0.478, 0.701)),
    ]
    for law, name, printed in exponents:
        assert (law.params[name], *law.ci95[name]) == pytest.approx(printed, abs=6e-4)
    coefs = [
        (moe.lr_law, (4.2e-7, 6.2e-9, 1.54e-5)),
        (moe.bs_law, (12.2, 0.31, 350)),
        (dense.lr_law, (84.7, 11.5, 591)),
        (dense.bs_law, (0.248, 0.025, 4.99)),
    ]
    for law, printed in coefs:
        assert (law.params["coef"], *law.ci95["coef"]) == pytest.approx(
            printed, rel=0.02
        )
