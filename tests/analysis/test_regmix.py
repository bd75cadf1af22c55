"""RegMix: known-truth recovery, the optimum against linear programming, the paper's data."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from scalinglab.analysis.mixture import optimize_mixture
from scalinglab.analysis.regmix import (
    RegMixFit,
    fit_regmix,
    load_regmix,
    rank_correlation,
)
from scalinglab.errors import InputError, ScalinglabError

DOMAINS = ("web", "code", "books")
WEIGHTS = np.array([3.2, 2.5, 4.0])  # loss of a run on each pure domain


def _runs(n: int, seed: int, noise: float = 0.0):
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.ones(len(DOMAINS)), size=n)
    loss = shares @ WEIGHTS + noise * rng.standard_normal(n)
    return dict(zip(DOMAINS, shares.T)), loss


def test_linear_recovers_known_weights_exactly_and_ranks_noisy_runs():
    exact = fit_regmix(*_runs(40, seed=0))
    assert exact.coef == pytest.approx(tuple(WEIGHTS), rel=1e-10)
    noisy = fit_regmix(*_runs(200, seed=1, noise=0.02))
    assert noisy.coef == pytest.approx(tuple(WEIGHTS), abs=0.03)
    assert rank_correlation(noisy, *_runs(100, seed=2)) > 0.99


def test_linear_optimum_is_the_linear_programme_vertex_under_bounds():
    from scipy.optimize import linprog

    fit = fit_regmix(*_runs(40, seed=0))
    bounds = {"code": (0.0, 0.3), "books": (0.1, 1.0)}
    found = optimize_mixture([fit], bounds=bounds)
    box = [bounds.get(d, (0.0, 1.0)) for d in DOMAINS]
    lp = linprog(WEIGHTS, A_eq=[np.ones(3)], b_eq=[1.0], bounds=box)
    assert list(found.proportions.values()) == pytest.approx(lp.x, abs=1e-6)
    assert found.loss == pytest.approx(lp.fun, rel=1e-8)


class _Stepwise(RegMixFit):
    """A linear fit treated as non-smooth, to test the candidate search alone."""

    smooth = False


def test_candidate_search_averages_the_best_draws_near_the_optimum():
    fit = fit_regmix(*_runs(40, seed=0))
    stepwise = _Stepwise(*(getattr(fit, k) for k in fit.__dataclass_fields__))
    found = optimize_mixture([stepwise], bounds={"books": (0.05, 0.5)}, seed=3)
    assert sum(found.proportions.values()) == pytest.approx(1.0, abs=1e-12)
    assert found.proportions["code"] > 0.9 and found.proportions["books"] >= 0.05
    assert found.loss < 2.5 + 0.05 * (WEIGHTS[0] - WEIGHTS[1]) + 0.1


def test_lightgbm_is_seeded_saved_and_ranks_a_nonlinear_truth(tmp_path):
    pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    shares = rng.dirichlet(np.ones(3), size=300)
    loss = 2.0 + np.exp(-3 * shares[:, 0]) + np.sin(4 * shares[:, 1])
    train = dict(zip(DOMAINS, shares[:200].T))
    fit = fit_regmix(train, loss[:200], method="lightgbm", seed=1)
    held = dict(zip(DOMAINS, shares[200:].T))
    assert rank_correlation(fit, held, loss[200:]) > 0.9
    again = load_regmix(fit.to_dict())
    assert np.array_equal(again.predict(**held), fit.predict(**held))
    twin = fit_regmix(train, loss[:200], method="lightgbm", seed=1)
    assert np.array_equal(twin.predict(**held), fit.predict(**held))


def test_bad_input_is_named():
    shares, loss = _runs(10, seed=0)
    shares["web"] = shares["web"] * 1.5
    with pytest.raises(InputError, match="sum to 1"):
        fit_regmix(shares, loss)
    with pytest.raises(InputError, match="more runs than domains"):
        fit_regmix(*(_runs(3, seed=0)))
    with pytest.raises(ScalinglabError, match="unknown method"):
        fit_regmix(*_runs(10, seed=0), method="forest")
    fit = fit_regmix(*_runs(10, seed=0))
    with pytest.raises(ScalinglabError, match="missing books"):
        fit.predict(web=0.5, code=0.5)


def _regmix_data(folder, scale: str, split: str):
    import pandas as pd

    mixture = pd.read_csv(folder / f"{split}_mixture_{scale}.csv")
    losses = pd.read_csv(folder / f"{split}_pile_loss_{scale}.csv")
    frame = mixture.merge(losses, on="index")
    domains = [c for c in mixture.columns if c.startswith("train_")]
    target = frame["metric/the_pile_pile_cc_val_loss"].to_numpy()
    return {d: frame[d].to_numpy() for d in domains}, target


# Measured Spearman rho on Pile-CC loss, fitted on the 512 1M-parameter runs and
# scored on the held-out 1M, 60M and 1B mixtures (docs/laws.md, RegMix).
MEASURED = {
    "linear": {"1m": 0.9016, "60m": 0.8924, "1B": 0.8786},
    "lightgbm": {"1m": 0.9904, "60m": 0.9860, "1B": 0.9617},
}


@pytest.mark.realdata
@pytest.mark.parametrize("method", ["linear", "lightgbm"])
def test_regmix_ranks_unseen_mixtures_at_1m_60m_and_1b(shared_data, method):
    if method == "lightgbm":
        pytest.importorskip("lightgbm")
    folder = shared_data / "regmix"
    fit = fit_regmix(*_regmix_data(folder, "1m", "train"), method=method)
    for scale, rho in MEASURED[method].items():
        measured = rank_correlation(fit, *_regmix_data(folder, scale, "test"))
        assert measured == pytest.approx(rho, abs=0.005), scale


def test_lightgbm_missing_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # import raises ImportError
    with pytest.raises(ScalinglabError, match=r"pip install 'scalinglab\[regmix\]'"):
        fit_regmix(*_runs(10, seed=0), method="lightgbm")
