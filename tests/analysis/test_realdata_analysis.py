"""Approaches and validation on the shared real data (skipped when ../shared/data is absent).

Published numbers and their provenance:
- Porian et al. 2024 (arXiv 2406.19146), exponent a of N* ~ C^a per configuration,
  as recomputed from the released summaries in shared/reference/formulas.md section 7.3;
  and the authors' own interpolated optima in porian_resolving/isoflop_optima.csv.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglab.analysis.isoflop import isoflop
from scalinglab.analysis.validation import make_splits, validate
from scalinglab.data import read_runs

pytestmark = pytest.mark.realdata

KEYS = [
    "source_file",
    "dataset",
    "hparams",
    "warmup",
    "decay",
    "param_count",
    "loss_split",
]
# (hparams, warmup, decay, param_count, loss_split) -> published a, for RefinedWeb and OWT2.
PUBLISHED = {
    ("base", "long", "kaplan", "kaplan", "train"): {"rw": 0.835, "owt2": 0.864},
    ("base", "long", "kaplan", "standard", "val"): {"rw": 0.707, "owt2": 0.699},
    ("base", "short", "kaplan", "standard", "val"): {"rw": 0.602, "owt2": 0.603},
    ("base", "short", "chinchilla", "standard", "val"): {"rw": 0.572, "owt2": 0.574},
    ("tuned", "short", "const", "standard", "val"): {"rw": 0.497, "owt2": 0.518},
}


def _settings(shared_data):
    points = pd.read_csv(shared_data / "porian_resolving" / "isoflop_points.csv")
    optima = pd.read_csv(shared_data / "porian_resolving" / "isoflop_optima.csv")
    return points.groupby(KEYS), optima


def _authors_exponent(optima, key) -> float:
    """Weighted log-log fit of the authors' optima (weights 1/std^2 of log N*), their method."""
    rows = optima[
        (optima[KEYS] == pd.Series(key, index=KEYS)).all(axis=1)
        & (optima.n_star_std > 0)
    ]
    return float(
        np.polyfit(np.log(rows.flops), np.log(rows.n_opt), 1, w=1 / rows.n_star_std)[0]
    )


@pytest.mark.slow
def test_porian_isoflop_exponents_reproduce_the_published_ones(shared_data):
    # Our 95% interval (parabola, window 10) holds the authors' weighted a in 13 of
    # 15 settings and the published a in 9 of 10 (misses: rw/short/kaplan 0.602 vs
    # [0.605, 0.672]; kaplan-tuned 0.711 vs [0.659, 0.703]): the two estimators
    # differ (their Akima minimum, our local parabola), so about 1 in 20 misses.
    groups, optima = _settings(shared_data)
    authors_in = published_in = checked = 0
    for key, g in groups:
        result = isoflop(
            g.n.to_numpy(),
            g.tokens.to_numpy(),
            g.flops.to_numpy(),
            g.loss.to_numpy(),
            profile="parabola",
            window=10.0,
            draws=1000,
            seed=0,
        )
        low, high = result.a.ci95
        authors_in += low <= _authors_exponent(optima, key) <= high
        published = PUBLISHED.get(key[2:], {}).get(key[1])
        if published is not None:
            published_in += low <= published <= high
            checked += 1
        assert high - low < 0.15
    assert checked == 10
    assert authors_in >= 13 and published_in >= 9, (authors_in, published_in)


def test_porian_param_count_convention_moves_the_exponent(shared_data):
    # Counting the head's FLOPs (standard) instead of non-embedding (kaplan) lowers a.
    groups, _ = _settings(shared_data)
    a = {}
    for key, g in groups:
        if key[0] == "summary_df" and key[2:5] == ("base", "long", "kaplan"):
            a[key[5]] = isoflop(
                g.n.to_numpy(),
                g.tokens.to_numpy(),
                g.flops.to_numpy(),
                g.loss.to_numpy(),
                window=10.0,
                draws=500,
            ).a
    assert a["kaplan"].ci95[0] > a["standard"].ci95[1]


def test_loss_to_loss_isoflop_optima_per_corpus(shared_data):
    sweep = pd.read_csv(shared_data / "loss_to_loss" / "sweep.csv")
    assert np.allclose(sweep.iso_flop, 6 * sweep.params * sweep.tokens, rtol=1e-6)
    for corpus, g in sweep.groupby("data"):
        result = isoflop(
            g.params.to_numpy(),
            g.tokens.to_numpy(),
            g.iso_flop.to_numpy(),
            g.val_loss.to_numpy(),
            budget=g.iso_flop.to_numpy(),
            draws=500,
        )
        assert len(result.budgets) == 8 and all(b.used for b in result.budgets), corpus
        for b in result.budgets:
            rows = g[np.isclose(g.iso_flop, b.C, rtol=1e-9)]
            assert rows.params.min() <= b.N_opt <= rows.params.max()
            assert (
                b.loss_opt <= rows.val_loss.min() + 0.01
            )  # the profile's minimum is near the best run
        low, high = result.a.ci95
        assert 0.35 < low < result.a.exponent < high < 0.6, corpus
        assert result.a.exponent + result.b.exponent == pytest.approx(
            1.0, abs=1e-6
        )  # C = 6ND


def _validation_cases(shared_data):
    epoch = read_runs(
        shared_data / "epoch_chinchilla" / "svg_extracted_data.csv",
        N="Model Size",
        C="Training FLOP",
        loss="loss",
    )
    olmo = read_runs(
        shared_data / "olmo_ladder" / "ladder_final_summary.csv",
        N="n_nonembed",
        D="tokens",
        loss="loss_c4_en",
        run="run",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gadre = read_runs(
            shared_data / "gadre_overtraining" / "gadre_models.csv",
            N="params",
            D="tokens",
            loss="loss_c4_val",
            run="name",
        )
    return {
        "epoch_chinchilla": (epoch, "C >= 1e21"),
        "olmo_ladder": (olmo, "N >= 3e9"),
        "gadre_rpj": (gadre.query("dataset == 'rpj'"), "N >= 4e8"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", ["epoch_chinchilla", "olmo_ladder", "gadre_rpj"])
def test_validate_with_largest_scales_held_out(shared_data, name):
    runs, holdout = _validation_cases(shared_data)[name]
    split = make_splits(runs, holdout=holdout)
    plain = validate("chinchilla", runs, split, bootstrap=200, widen=None)
    wide = validate("chinchilla", runs, split, bootstrap=200, widen="rolling")
    held = runs.query(holdout)
    assert plain.summary.n_heldout == len(held)
    assert plain.median_abs_rel_error < 0.03
    assert wide.summary.coverage >= plain.summary.coverage
    better = validate("overtraining", runs, split, bootstrap=200)
    assert better.median_abs_rel_error < 0.02
