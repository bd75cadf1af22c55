"""Lifetime optima from a law fitted to real runs: the Chinchilla data as digitised by Epoch AI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scalinglab as sl
from scalinglab.analysis.optimal import optimal_allocation
from scalinglab.decide import Demand, lifetime_optimum


@pytest.fixture(scope="module")
def chinchilla_fit(shared_data):
    """The replication's 240 points (5 highest losses dropped), D = C / (6N), 200 bootstrap draws."""
    frame = pd.read_csv(shared_data / "epoch_chinchilla" / "svg_extracted_data.csv")
    kept = frame.sort_values("loss", kind="stable").iloc[:-5]
    runs = sl.read_runs(
        kept, N="Model Size", C="Training FLOP", loss="loss", N_kind="total"
    )
    return sl.fit("chinchilla", runs, bootstrap=200, seed=0)


@pytest.mark.realdata
def test_fitted_chinchilla_lifetime_optimum_matches_brute_force_with_intervals(
    chinchilla_fit,
):
    p = chinchilla_fit.params
    # A 13B model on 20 tokens per parameter (Sardana et al.'s example) serving 2T tokens.
    target = float(chinchilla_fit.predict(N=13e9, D=260e9))
    best = lifetime_optimum(
        chinchilla_fit, target_loss=target, demand=Demand(inference_tokens=2e12)
    )
    N = np.logspace(8, 12, 400_001)
    gap = target - p["E"] - p["A"] * N ** -p["alpha"]
    D = (p["B"] / np.where(gap > 0, gap, np.nan)) ** (1 / p["beta"])
    cost = np.where(gap > 0, 6 * N * D + 2 * N * 2e12, np.inf)
    assert best.N == pytest.approx(N[np.argmin(cost)], rel=5e-3)
    assert best.total_flops == pytest.approx(cost.min(), rel=5e-3)
    assert best.N < best.chinchilla["N"] and best.saving_fraction > 0.1
    for name in ("N", "tokens_per_param", "total_flops", "saving_flops"):
        low, high = best.ci95[name]
        assert low < getattr(best, name) < high, name


@pytest.mark.realdata
def test_fitted_chinchilla_zero_inference_is_compute_optimal(chinchilla_fit):
    best = lifetime_optimum(chinchilla_fit, budget=5.76e23)
    today = optimal_allocation(chinchilla_fit, 5.76e23)
    assert best.N == float(today.N) and best.loss == float(today.loss)
    assert best.ci95["N"] == pytest.approx(tuple(np.ravel(today.ci95["N"])), rel=1e-12)
