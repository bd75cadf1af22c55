"""pass@k: the unbiased estimator, the Beta forecast's coverage, the power law, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import betaln, comb
from scipy.stats import binom

from scalinglab.decide.testtime import (
    beta_pass_at_k,
    fit_beta,
    fit_power_law,
    fit_testtime,
    pass_at_k,
)
from scalinglab.errors import ScalinglabError


@pytest.mark.parametrize("p", [0.01, 0.2, 0.7])
@pytest.mark.parametrize("k", [1, 5, 32])
def test_unbiased_estimator_equals_the_exact_expectation(p, k):
    """E over c ~ Binomial(n, p) of the estimator is exactly 1 - (1 - p)^k."""
    n = 32
    c = np.arange(n + 1)
    expectation = np.sum(binom.pmf(c, n, p) * pass_at_k(n, c, k))
    assert expectation == pytest.approx(1 - (1 - p) ** k, rel=1e-12, abs=1e-14)


def test_estimator_matches_the_binomial_ratio():
    n, c, k = 20, np.arange(21), 7
    direct = 1 - comb(n - c, k) / comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(direct, rel=1e-12, abs=1e-15)


def test_beta_forecast_is_the_expectation_over_the_beta():
    rng = np.random.default_rng(0)
    p = rng.beta(0.5, 4.0, size=2_000_000)
    assert float(beta_pass_at_k(0.5, 4.0, 50)) == pytest.approx(
        np.mean(1 - (1 - p) ** 50), abs=1e-3
    )


def test_beta_binomial_fit_is_the_maximum_likelihood():
    rng = np.random.default_rng(1)
    c = rng.binomial(32, rng.beta(0.4, 3.0, size=300))
    groups, counts = np.unique(c, return_counts=True)
    alpha, beta = fit_beta(
        np.full(groups.size, 32.0), groups.astype(float), counts[None, :].astype(float)
    )

    def nll(theta):
        a, b = np.exp(theta)
        return -np.sum(counts * (betaln(groups + a, 32 - groups + b) - betaln(a, b)))

    best = minimize(
        nll, [0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12}
    )
    assert [alpha[0], beta[0]] == pytest.approx(np.exp(best.x), rel=1e-5)


@pytest.mark.slow
def test_beta_forecast_from_32_samples_covers_pass_at_1000_in_90_percent_of_seeds():
    """Problems with p ~ Beta(0.4, 3): pass@1000 forecast from n = 32 samples, 100 seeds."""
    truth = float(beta_pass_at_k(0.4, 3.0, 1000))
    hits = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        c = rng.binomial(32, rng.beta(0.4, 3.0, size=300))
        fit = fit_testtime(np.full(300, 32), c, k=[1000], bootstrap=300, seed=seed)
        low, high = fit.pass_at_k[0]["beta_forecast_ci95"]
        hits += low <= truth <= high
    assert hits >= 90


def test_fit_testtime_contract_and_power_law_on_exact_data():
    """Exact coverage from a law -log pass@k = a k^-b is recovered: a, b and pass@k."""
    rng = np.random.default_rng(2)
    c = rng.binomial(64, rng.beta(0.5, 2.0, size=400))
    out = fit_testtime(np.full(400, 64), c, k=[1, 10, 64, 1000], bootstrap=200, seed=0)
    payload = out.to_dict()
    assert set(payload["params"]) == {"a", "b"} and payload["n_problems"] == 400
    coverage = dict(zip(payload["coverage"]["k"], payload["coverage"]["observed"]))
    assert (
        coverage[1] == pytest.approx(np.mean(c / 64), rel=1e-12) and max(coverage) == 64
    )
    rows = {row["k"]: row for row in payload["pass_at_k"]}
    assert rows[1]["observed"] == pytest.approx(np.mean(c / 64), rel=1e-12)
    assert (
        rows[1000]["observed"] is None
        and rows[1000]["beta_forecast"] > rows[64]["observed"]
    )
    for k in (1, 10, 64):
        low, high = rows[k]["observed_ci95"]
        assert low < rows[k]["observed"] < high
        assert rows[k]["law"] == pytest.approx(rows[k]["observed"], abs=0.05)
    k = np.array([1.0, 2, 4, 8, 16])
    a, b = 1.7, 0.45
    fitted_a, fitted_b = fit_power_law(k, np.exp(-a * k**-b)[None, :])
    assert (fitted_a[0], fitted_b[0]) == pytest.approx((a, b), rel=1e-10)


@pytest.mark.parametrize(
    "n, c, match",
    [
        (
            [10, 10],
            [3, 11],
            "c \\(correct\\) must not exceed n .* c=11 > n=10 \\(problem 2\\)",
        ),
        ([10, 10], [-1, 2], "c must be whole numbers >= 0; got -1.0"),
        ([10, 4.5], [1, 2], "n must be whole numbers >= 0; got 4.5"),
    ],
)
def test_bad_counts_name_the_value(n, c, match):
    with pytest.raises(ScalinglabError, match=match):
        fit_testtime(n, c, bootstrap=0)


def test_k_beyond_n_is_refused_for_the_estimator():
    with pytest.raises(ScalinglabError, match="k must be in 1..n"):
        pass_at_k(10, 2, 11)
