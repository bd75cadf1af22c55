"""--law auto: candidates ranked by rolling-origin extrapolation error, the winner fitted on all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scalinglab as sl
from scalinglab.analysis.autolaw import (
    CONFIDENT,
    Candidate,
    _Folds,
    candidate_laws,
    choose_law,
    fit_best,
)
from scalinglab.data import read_runs
from scalinglab.errors import ScalinglabError
from scalinglab.fit.extrapolation import scale_levels
from scalinglab.laws.presets import get_preset

RATIOS = (5.0, 20.0, 80.0, 320.0)


def _ladder(noise: float = 0.005, seed: int = 0, ratios=RATIOS, truth=None):
    """``truth(N, D)`` (default Chinchilla, Besiroglu et al.) on 6 sizes x ``ratios``
    tokens per parameter, with log-normal noise."""
    N, ratio = (a.ravel() for a in np.meshgrid(np.geomspace(3e7, 3e9, 6), ratios))
    D = ratio * N
    loss = (truth or get_preset("besiroglu2024").predict)(N=N, D=D)
    loss = loss * np.exp(noise * np.random.default_rng(seed).standard_normal(N.size))
    return read_runs(pd.DataFrame({"N": N, "D": D, "loss": loss}))


def test_candidates_are_the_laws_whose_inputs_the_table_has():
    names = [law.name for law in candidate_laws(_ladder())]
    assert names == ["chinchilla", "kaplan", "overtraining", "power"]  # no U column


def test_holdout_error_equals_a_brute_force_rolling_origin():
    runs = _ladder()
    choice = choose_law(runs, ["power"])
    # Independent computation: fit on the k smallest compute levels (k >= 2), predict
    # every larger level; per fold the RMS log error per decade of compute beyond the
    # fold's largest run; its log regressed on the share of rows fitted (weighted by
    # that share; np.polyfit weighs residuals by sqrt) and read at share 1.
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
    slope, intercept = np.polyfit(shares, np.log(taus), 1, w=np.sqrt(shares))
    expected = float(np.exp(intercept + slope))
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


def test_a_law_better_beyond_the_noise_replaces_the_default():
    def compute_law(N, D):  # a law of C = 6ND alone: chinchilla's sum cannot match it
        return 1.8 + 2000 * (6 * N * D) ** -0.15

    choice = choose_law(_ladder(0.003, truth=compute_law), ["chinchilla", "power"])
    assert (choice.law, choice.default) == ("power", "chinchilla")
    assert choice.needed == CONFIDENT  # one challenger: no correction
    assert choice.confidence >= CONFIDENT and choice.margin > 1
    assert any("power beat the default in 100.0%" in note for note in choice.notes)


def test_the_default_is_kept_when_the_best_law_is_not_beyond_the_noise():
    # Chinchilla truth, 2% noise, 3 ratios: kaplan scores best on these folds (seed
    # 2), but in fewer than 95% of the run resamples.
    runs = _ladder(0.02, seed=2, ratios=(10.0, 20.0, 40.0))
    choice = choose_law(runs, ["chinchilla", "power", "kaplan"])
    assert choice.ranking[0].law == "kaplan"
    # Two challengers: Bonferroni asks for 1 - 0.05 / 2 of the resamples.
    assert choice.needed == pytest.approx(0.975)
    assert choice.law == "chinchilla" and choice.confidence < choice.needed
    assert choice.margin < 0  # a law scored better, not by enough
    assert any(
        "noise of the folds, so the default chinchilla is kept" in n
        for n in choice.notes
    )


def test_a_law_whose_fit_is_at_a_bound_is_not_scored():
    def kaplan_law(N, D):  # no irreducible loss: chinchilla's E goes to its bound 0
        return ((6.4e13 / N) ** (0.076 / 0.103) + 1.8e13 / D) ** 0.103

    choice = choose_law(_ladder(0.003, truth=kaplan_law), ["chinchilla", "kaplan"])
    chinchilla = next(c for c in choice.ranking if c.law == "chinchilla")
    assert "lower bound 0" in chinchilla.error and chinchilla.holdout_error == np.inf
    # The default falls to the scored law with the fewest free parameters.
    assert (choice.law, choice.default, choice.confidence) == ("kaplan", "kaplan", None)
    assert any("chinchilla not scored" in note for note in choice.notes)


def test_confidence_is_the_share_of_paired_run_resamples_won():
    # Four rows, two folds; the challenger's error is smaller on every row but one,
    # where it is much larger: it wins exactly the resamples that miss that row's run
    # (a resample of only row 0, never held out, scores neither and is not counted).
    decades = np.array([[np.nan, 0.5, 1.0, 1.5], [np.nan, np.nan, 0.5, 1.0]])
    folds = _Folds(decades, np.array([0.25, 0.5]), np.arange(4))
    default = np.where(np.isfinite(decades), 0.01, np.nan)
    better = default / 2
    worse = np.where(np.isfinite(decades), 0.02, np.nan)
    law = lambda e: Candidate("x", 0.0, 0, None, 0.0, e)
    assert folds.confidence(law(better), law(default), seed=0) == 1.0
    assert folds.confidence(law(worse), law(default), seed=0) == 0.0
    mixed = better.copy()
    mixed[:, 3] = np.where(np.isfinite(decades[:, 3]), 0.5, np.nan)
    counts = np.random.default_rng(0).multinomial(4, np.full(4, 0.25), 1000)
    some = counts[:, 1:].sum(1) > 0
    expected = np.mean(counts[some, 3] == 0)
    assert folds.confidence(law(mixed), law(default), seed=0) == pytest.approx(expected)
