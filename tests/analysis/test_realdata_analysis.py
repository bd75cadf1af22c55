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


def _ladders(shared_data):
    """The README's validate set: each ladder with its largest compute held out."""
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
        sweep = read_runs(
            shared_data / "loss_to_loss" / "sweep.csv",
            N="params",
            D="tokens",
            C="iso_flop",
            loss="val_loss",
            run="name",
        )
    cases = {
        "epoch_chinchilla": (epoch, {"holdout": "C >= 1e21"}),
        "olmo_ladder": (olmo, {"holdout": "N >= 3e9"}),
    }
    for corpus in ("rpj", "c4_original", "rw_original"):
        subset = gadre.query(f"dataset == '{corpus}'")
        cases[f"gadre_{corpus}"] = (subset, {"holdout": "N >= 4e8"})
    for corpus in sorted(set(sweep.frame["data"])):
        subset = sweep.query(f"data == '{corpus}'")
        cases[f"loss_to_loss_{corpus}"] = (subset, {"top": 0.15, "by": "C"})
    return cases


def _validation_cases(shared_data):
    ladders = _ladders(shared_data)
    return {
        "epoch_chinchilla": (ladders["epoch_chinchilla"][0], "C >= 1e21"),
        "olmo_ladder": (ladders["olmo_ladder"][0], "N >= 3e9"),
        "gadre_rpj": (ladders["gadre_rpj"][0], "N >= 4e8"),
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


# Laws of N and D that apply to every ladder; `power` (a law of compute alone) is scored
# too, but its in-range misfit on off-optimal runs is run scatter to it (see below).
CALIBRATED_LAWS = ("chinchilla", "kaplan", "overtraining")
README_LADDERS = (
    "epoch_chinchilla",
    "olmo_ladder",
    "gadre_rpj",
    "gadre_c4_original",
    "gadre_rw_original",
)


@pytest.fixture(scope="module")
def calibration(shared_data):
    """Widened validate of every law on every ladder; plain (bootstrap only) on the README set."""
    table = {}
    for name, (runs, split) in _ladders(shared_data).items():
        splits = make_splits(runs, **split)
        for law in (*CALIBRATED_LAWS, "power"):
            table[name, law] = validate(law, runs, splits, bootstrap=200, seed=0)
            if name in README_LADDERS and law != "power":
                table[name, law, "plain"] = validate(
                    law, runs, splits, bootstrap=200, seed=0, widen=None
                )
    print("\nladder x law: coverage, median half-width / median |error|, n")
    for key, v in table.items():
        s = v.summary
        ratio = s.median_half_width / s.median_abs_rel_error
        print(f"{'/'.join(key):42s} {s.coverage:5.0%} {ratio:5.1f} {s.n_heldout:3d}")
    return table


def _meets_goals(validation) -> bool:
    s = validation.summary
    return s.coverage >= 0.85 and s.median_half_width <= 3 * s.median_abs_rel_error


def _pooled_coverage(table, law: str, kind: tuple = ()) -> float:
    points = [p for name in README_LADDERS for p in table[(name, law, *kind)].points]
    assert len(points) == 52
    return float(np.mean([p.in_ci95 for p in points]))


@pytest.mark.slow
def test_widening_raises_coverage_of_the_largest_runs(calibration):
    """The README's claim, pooled over its 52 held-out points. Measured with bootstrap
    seeds 0 and 1: chinchilla 31 and 36 of 52 covered by the bootstrap alone, 45 and 47
    widened; overtraining 40 and 40, widened 49 and 48. Seed to seed a count moved by up
    to 5 points, so each bound sits 2-3 points beyond the measured range. Since the run
    scatter is Huber's proposal 2 with n - p degrees of freedom (issue 8; the MAD of a
    near-L1 fit ran 0.88-0.93 sigma), the bootstrap-alone intervals carry more scatter:
    seeds 0 and 1 both gave chinchilla 38 plain, 47 widened; overtraining 44 plain, 49
    widened."""
    plain = _pooled_coverage(calibration, "chinchilla", ("plain",))
    widened = _pooled_coverage(calibration, "chinchilla")
    assert plain <= 40 / 52
    assert widened >= 43 / 52
    assert widened - plain >= 7 / 52
    assert _pooled_coverage(calibration, "overtraining", ("plain",)) <= 46 / 52
    assert _pooled_coverage(calibration, "overtraining") >= 46 / 52


@pytest.mark.slow
def test_extrapolation_intervals_are_honest_and_sharp_where_measured(calibration):
    """Coverage >= 85% and median half-width <= 3x the median |error| (issue 8) held on
    22 and 24 of the 33 ladder x law pairs (seeds 0 and 1; 19 and 20 before issue 8's
    drift side and fold-sum scatter); the bound sits 2 below. The rest are said in the
    output: intervals more than 3x the error get a note, and every widened validation
    says what its interval does and does not cover."""
    pairs = [key for key in calibration if len(key) == 2 and key[1] != "power"]
    assert len(pairs) == 33
    assert sum(_meets_goals(calibration[key]) for key in pairs) >= 20
    for key, v in calibration.items():
        s = v.summary
        if len(key) == 2:
            assert any("not a change of the law's shape" in note for note in v.notes), (
                key
            )
        if s.median_half_width > 3 * s.median_abs_rel_error:
            assert any("wider than the median error" in note for note in v.notes), key


OVERPREDICTED = ("fineweb-edu-100b", "slimpajama-chunk1", "smollm-corpus")
GADRE_ETC = README_LADDERS  # epoch_chinchilla, olmo_ladder and gadre's three corpora


def _seed_range(value: float, seed_0: float, seed_1: float, half_unit=0.0) -> bool:
    """Inside the range of bootstrap seeds 0 and 1 widened by its own width (plus half a
    printed unit): how far a number that moves with the seed may drift (docs/claims.md)."""
    low, high = sorted((seed_0, seed_1))
    width = high - low
    return low - width - half_unit <= value <= high + width + half_unit


@pytest.mark.slow
def test_extrapolation_claims_as_printed(calibration):
    """README's extrapolation paragraph, number by number. Point fits (median errors,
    bias) do not move with the bootstrap seed: they must round as printed. Coverage and
    width ratios do: measured with seeds 0 and 1 (overtraining on the three corpora:
    lowest coverage 96% (22 of 23) and highest 100% both, allowed one point either way; on the README ladders the width ratio 3.36x and 3.25x at the low end, 8.36x
    and 7.67x at the high end)."""

    def over(ladders, law, what):
        return [getattr(calibration[name, law].summary, what) for name in ladders]

    for law, printed in (
        ("chinchilla", ("0.8", "2.9")),
        ("overtraining", ("0.4", "1.5")),
    ):
        errors = over(README_LADDERS, law, "median_abs_rel_error")
        assert (f"{100 * min(errors):.1f}", f"{100 * max(errors):.1f}") == printed, law
    corpora = [f"loss_to_loss_{c}" for c in OVERPREDICTED]
    bias = over(corpora, "chinchilla", "bias") + over(corpora, "overtraining", "bias")
    assert (f"{100 * min(bias):.1f}", f"{100 * max(bias):.1f}") == ("0.5", "0.7")
    coverage = over(corpora, "overtraining", "coverage")
    assert _seed_range(min(coverage), 22 / 23, 22 / 23, half_unit=1 / 23), coverage
    assert max(coverage) == 1.0, coverage
    ratio = np.divide(
        over(GADRE_ETC, "overtraining", "median_half_width"),
        over(GADRE_ETC, "overtraining", "median_abs_rel_error"),
    )
    assert _seed_range(ratio.min(), 3.36, 3.25, half_unit=0.5), ratio
    assert _seed_range(ratio.max(), 8.36, 7.67, half_unit=0.5), ratio


@pytest.mark.slow
def test_a_law_still_drifting_with_scale_is_said(calibration):
    """The folds' signed error per decade moved steadily with their data on every
    loss_to_loss pair (4 folds) and on none of the README ladders' (5-6 folds); the side
    it names (over- or under-predicting) matched the held-out median error in all 18,
    and the intervals reaching further on that side cover at least 85% of each (lowest
    96%, seeds 0 and 1). Which pairs drift is a property of the point fits."""
    for key, v in calibration.items():
        if len(key) != 2 or key[1] == "power":
            continue
        note = v.widening.shape_note
        if not key[0].startswith("loss_to_loss"):
            assert note is None, key
            continue
        side = "over" if v.summary.bias > 0 else "under"
        assert note is not None and f"{side}-predict" in note, key
        assert v.summary.coverage >= 0.85, key
        assert note in v.notes and "shape_drift" in {
            d.code for d in v.fits[-1].diagnostics
        }


@pytest.mark.slow
def test_the_per_ladder_goal_is_a_coin_flip_even_for_the_right_law(
    shared_data, monkeypatch
):
    """Simulated from chinchilla fitted to loss_to_loss starcoder (a world where the law
    is right; benchmarks/exp_goal_noise.py, 200 simulations): our intervals cover 96.9%
    at 1.21x the oracle width, yet meet the per-ladder goal in 26% of the simulations
    and the oracle's interval in 56%. The test's 100 simulations (their first 100) gave
    96.8% at 1.15x, 30% and 47%; the bounds sit 4 binomial sds (5%) from the 200's, and
    the suite's calibration bounds (88-99%, at most 2x the oracle width) hold."""
    from tests.conftest import import_benchmark

    experiment = import_benchmark("exp_goal_noise", monkeypatch)
    runs, split = _ladders(shared_data)["loss_to_loss_starcoder"]
    result = experiment.simulate_pair(runs, split, "chinchilla", reps=100)
    assert 0.88 <= result["coverage"] <= 0.99
    assert result["width_over_oracle"] <= 2
    assert result["oracle_meet"] == pytest.approx(0.56, abs=0.2)
    assert result["ours_meet"] == pytest.approx(0.26, abs=0.2)
