"""Extrapolation validation: splits, scores, coverage, widening, law ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglab.analysis.validation import (
    compare_laws,
    make_splits,
    split_rolling,
    split_top,
    validate,
)
from scalinglab.data import read_runs
from scalinglab.errors import InputError, ScalinglabError

from ._synthetic import chinchilla_loss


def _runs(noise=0.005, seed=0, sizes=8, ratios=6):
    N = np.repeat(np.geomspace(1e7, 3e9, sizes), ratios)
    D = N * np.tile(np.geomspace(2, 200, ratios), sizes)
    L = chinchilla_loss(N, D) * np.exp(
        noise * np.random.default_rng(seed).standard_normal(N.size)
    )
    return read_runs(pd.DataFrame({"N": N, "D": D, "loss": L}))


def test_expression_split_holds_out_exactly_the_matching_rows():
    runs = _runs()
    (split,) = make_splits(runs, holdout="N >= 1e9")
    assert np.array_equal(split.heldout, runs.array("N") >= 1e9)
    assert np.array_equal(split.train, ~split.heldout)


def test_top_split_takes_whole_levels_until_the_fraction():
    runs = _runs()
    split = split_top(runs, 0.2, by="N")
    N = runs.array("N")
    assert split.heldout.mean() >= 0.2
    assert N[split.heldout].min() > N[split.train].max()  # whole levels, none shared


def test_rolling_folds_fit_on_smaller_levels_and_predict_the_next():
    runs = _runs()
    folds = split_rolling(runs, by="N")
    N = runs.array("N")
    assert len(folds) == 6  # 8 levels, the first fold fits on 2
    for fold in folds:
        assert N[fold.train].max() < N[fold.heldout].min()
        assert np.unique(N[fold.heldout]).size == 1


def test_exactly_one_holdout_mode_is_required():
    runs = _runs()
    with pytest.raises(ScalinglabError, match="exactly one"):
        make_splits(runs, holdout="N > 1e9", top=0.2)
    with pytest.raises(InputError, match="holds out no rows"):
        make_splits(runs, holdout="N > 1e12")
    with pytest.raises(InputError, match="cannot evaluate"):
        make_splits(runs, holdout="N >>> 3")


def test_noise_free_law_extrapolates_exactly():
    runs = _runs(noise=0.0)
    result = validate(
        "chinchilla", runs, make_splits(runs, holdout="N >= 1e9"), bootstrap=50
    )
    assert result.median_abs_rel_error < 1e-6
    for p in result.points:
        assert p.rel_error == pytest.approx(
            (p.predicted - p.actual) / p.actual, abs=1e-15
        )
        assert p.extrapolation["N"] >= 1.0


def test_scores_are_the_held_out_relative_errors():
    runs = _runs(noise=0.01, seed=3)
    result = validate(
        "chinchilla", runs, make_splits(runs, top=0.25, by="N"), bootstrap=100
    )
    rel = np.array([p.rel_error for p in result.points])
    assert result.summary.median_abs_rel_error == pytest.approx(np.median(np.abs(rel)))
    assert result.summary.coverage == pytest.approx(
        np.mean([p.ci95[0] <= p.actual <= p.ci95[1] for p in result.points])
    )
    payload = result.to_dict()
    assert {"actual", "predicted", "rel_error", "in_ci95"} <= set(payload["heldout"][0])
    assert payload["median_abs_rel_error"] == result.summary.median_abs_rel_error


def test_correct_law_intervals_cover_noisy_held_out_points():
    # With the right law and 1% noise the prediction intervals should cover about 95%.
    runs = _runs(noise=0.01, seed=5, sizes=10)
    result = validate(
        "chinchilla", runs, make_splits(runs, top=0.2, by="N"), bootstrap=200
    )
    assert result.summary.coverage >= 0.75


def test_rolling_widening_makes_intervals_wider_not_different_in_centre():
    runs = _runs(noise=0.005, seed=2)
    split = make_splits(runs, holdout="N >= 1e9")
    plain = validate("chinchilla", runs, split, bootstrap=100, widen=None)
    wide = validate("chinchilla", runs, split, bootstrap=100, widen="rolling")
    assert [p.predicted for p in wide.points] == [p.predicted for p in plain.points]
    widths = [
        (w.ci95[1] - w.ci95[0]) - (p.ci95[1] - p.ci95[0])
        for w, p in zip(wide.points, plain.points)
    ]
    assert min(widths) > 0
    assert wide.widening.tau > 0
    assert wide.summary.coverage >= plain.summary.coverage


def test_compare_laws_ranks_the_true_law_above_a_misspecified_one():
    runs = _runs(noise=0.003, seed=4)
    scores, validations = compare_laws(
        ["power(N)", "chinchilla"],
        runs,
        make_splits(runs, top=0.25, by="N"),
        bootstrap=50,
    )
    assert [s.law for s in scores] == ["chinchilla", "power(N)"]
    assert scores[0].rank == 1 and scores[1].rank == 2
    assert scores[0].median_abs_rel_error < scores[1].median_abs_rel_error
    assert scores[0].in_sample_rmse_log < scores[1].in_sample_rmse_log
    assert set(validations) == {"chinchilla", "power(N)"}


def test_compare_laws_lists_a_law_that_cannot_be_fitted():
    runs = _runs()
    scores, _ = compare_laws(
        ["chinchilla", "data_constrained"],
        runs,
        make_splits(runs, top=0.25, by="N"),
        bootstrap=20,
    )
    failed = [s for s in scores if s.error]
    assert [s.law for s in failed] == ["data_constrained"]
    assert "U" in failed[0].error
