"""--law auto: candidates ranked by rolling-origin extrapolation error, the winner fitted on all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scalinglab as sl
from scalinglab.analysis.autolaw import candidate_laws, choose_law, fit_best
from scalinglab.data import read_runs
from scalinglab.errors import ScalinglabError
from scalinglab.fit.extrapolation import scale_levels
from scalinglab.laws.presets import get_preset


def _ladder(noise: float = 0.005, seed: int = 0):
    """Chinchilla truth (Besiroglu et al.) on 6 sizes x 4 tokens-per-parameter ratios."""
    N, ratio = (
        a.ravel()
        for a in np.meshgrid(np.geomspace(3e7, 3e9, 6), [5.0, 20.0, 80.0, 320.0])
    )
    truth = get_preset("besiroglu2024")
    loss = truth.predict(N=N, D=ratio * N)
    loss = loss * np.exp(noise * np.random.default_rng(seed).standard_normal(N.size))
    return read_runs(pd.DataFrame({"N": N, "D": ratio * N, "loss": loss}))


def test_candidates_are_the_laws_whose_inputs_the_table_has():
    names = [law.name for law in candidate_laws(_ladder())]
    assert names == ["chinchilla", "kaplan", "overtraining", "power"]  # no U column


def test_holdout_error_equals_a_brute_force_rolling_origin():
    runs = _ladder()
    choice = choose_law(runs, ["power"])
    # Independent computation: fit on the k smallest compute levels (k >= 2), predict
    # every larger level; per fold the RMS log error per decade of compute beyond the
    # fold's largest run, averaged over folds weighted by the share of rows fitted.
    C, levels = runs.array("C"), scale_levels(runs.array("C"))
    taus, shares, count = [], [], 0
    for k in np.unique(levels)[1:-1]:
        train = levels <= k
        fitted = sl.fit("power", runs.subset(train), bootstrap=0, extrapolation=None)
        held = runs.subset(~train)
        log_error = np.log(fitted.predict(C=held.array("C")) / held.array("loss"))
        decades = np.log10(held.array("C") / C[train].max())
        taus.append(np.sqrt(np.sum(log_error**2) / np.sum(decades**2)))
        shares.append(train.mean())
        count += held.array("C").size
    expected = float(np.average(taus, weights=shares))
    power = next(c for c in choice.ranking if c.law == "power")
    assert power.holdout_error == pytest.approx(expected, rel=1e-9)
    assert power.n_heldout == count


def test_the_true_law_wins_and_is_fitted_on_every_run():
    runs = _ladder()
    result, choice = fit_best(runs, ["chinchilla", "power"], bootstrap=0)
    assert choice.law == "chinchilla"
    errors = [c.holdout_error for c in choice.ranking]
    assert errors == sorted(errors)
    assert choice.margin == pytest.approx(errors[1] / errors[0] - 1)
    assert result.n_points == len(runs)
    assert result.settings["law_selection"]["law"] == "chinchilla"


def test_too_few_compute_levels_is_an_error():
    runs = _ladder().query("N < 5e7 and D < 30 * N")  # two compute levels
    with pytest.raises(ScalinglabError, match="scale levels"):
        choose_law(runs, ["chinchilla"])
