"""Approach 2 on runs from a known law: exponents, bias of the parabola, flags."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.analysis.isoflop import fit_profile, group_budgets, isoflop
from scalinglab.errors import InputError, ScalinglabError

from ._synthetic import TRUTH, chinchilla_loss, isoflop_design, optimal_N

BUDGETS = np.geomspace(1e18, 1e22, 9)
A_TRUE = TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])


def _noisy(N, D, noise, seed):
    L = chinchilla_loss(N, D)
    return L * np.exp(noise * np.random.default_rng(seed).standard_normal(L.size))


def test_group_budgets_splits_at_gaps_within_tolerance():
    C = np.array([1e18, 1.01e18, 0.99e18, 1e19, 1.02e19, 1e20])
    labels = group_budgets(C, rtol=0.05)
    assert labels.tolist() == [0, 0, 0, 1, 1, 2]


def test_parabola_profile_fit_is_exact_on_a_parabola():
    x = np.linspace(-2, 2, 7)
    coef, cov = fit_profile(x, 3.0 - 0.5 * x + 0.25 * x**2, 2)
    assert coef == pytest.approx([3.0, -0.5, 0.25], abs=1e-12)
    assert np.all(np.abs(cov) < 1e-20)


@pytest.mark.parametrize("profile", ["parabola", "cubic"])
def test_centred_design_recovers_exponents_within_interval(profile):
    N, D, C = isoflop_design(BUDGETS, span=30.0, points=11)
    result = isoflop(N, D, C, _noisy(N, D, 0.003, 0), profile=profile, draws=500)
    lo, hi = result.a.ci95
    assert lo <= A_TRUE <= hi
    assert hi - lo < 0.1
    blo, bhi = result.b.ci95
    assert blo <= 1 - A_TRUE <= bhi
    assert all(b.used for b in result.budgets)


def test_off_centre_design_shows_the_parabola_bias_and_the_cubic_removes_it():
    # Same N grid at every budget: the optimum walks across it, so the sampled window
    # is off-centre by a different amount at each budget. With alpha != beta the
    # profile in log N is asymmetric and a parabola's vertex is pulled towards the
    # centre of the window; the cubic follows the asymmetry, and the default window
    # (a decade either side of the best run) keeps the parabola local.
    grid = np.geomspace(optimal_N(BUDGETS[0]) / 2, optimal_N(BUDGETS[-1]) * 2, 15)
    N, D, C = isoflop_design(BUDGETS, fixed_grid=grid)
    L = chinchilla_loss(N, D)
    errors = {}
    for name, profile, window in (
        ("parabola", "parabola", None),
        ("cubic", "cubic", None),
        ("windowed", "parabola", 10.0),
    ):
        result = isoflop(N, D, C, L, profile=profile, window=window, draws=200)
        used = [b for b in result.budgets if b.used]
        errors[name] = np.array([np.log(b.N_opt / optimal_N(b.C)) for b in used])
        errors[name + "_a"] = abs(result.a.exponent - A_TRUE)
    assert np.max(np.abs(errors["parabola"])) > 0.15  # >16% error in N_opt somewhere
    assert np.max(np.abs(errors["cubic"])) < 0.5 * np.max(np.abs(errors["parabola"]))
    assert errors["cubic_a"] < errors["parabola_a"]
    assert np.max(np.abs(errors["windowed"])) < 0.05
    assert errors["windowed_a"] < errors["parabola_a"]


def test_centred_noise_free_parabola_vertex_is_close_and_interval_reflects_misfit():
    N, D, C = isoflop_design(BUDGETS, span=10.0, points=9)
    result = isoflop(N, D, C, chinchilla_loss(N, D), draws=300)
    for b in result.budgets:
        assert b.N_opt == pytest.approx(optimal_N(b.C), rel=0.05)
        assert b.D_opt * b.N_opt * 6 == pytest.approx(
            b.C, rel=1e-9
        )  # C = 6 N D along the profile
    assert result.a.exponent == pytest.approx(A_TRUE, abs=0.01)


def test_unbracketed_minimum_is_flagged_and_left_out():
    N, D, C = isoflop_design(BUDGETS, span=100.0, points=13)
    # At the largest budget keep only models above the optimum (6 of 13 remain).
    keep = ~((C == BUDGETS[-1]) & (N < optimal_N(BUDGETS[-1]) * 1.4))
    result = isoflop(
        N[keep], D[keep], C[keep], chinchilla_loss(N[keep], D[keep]), draws=200
    )
    last = result.budgets[-1]
    assert not last.used
    assert any("not bracketed" in f or "wrong way" in f for f in last.flags)
    assert result.a.n_budgets == len(BUDGETS) - 1
    assert any(f"C={BUDGETS[-1]:.3g} left out" in n for n in result.notes)


def test_wrong_curvature_is_flagged():
    N, D, C = isoflop_design(BUDGETS[:4], span=30.0, points=9)
    L = chinchilla_loss(N, D)
    first = C == BUDGETS[0]
    L[first] = 4.0 + 0.05 * (np.log(N[first]) - np.log(N[first]).mean()) ** 2 * -1
    result = isoflop(N, D, C, L, draws=200)
    assert "curves the wrong way" in "; ".join(result.budgets[0].flags)
    assert not result.budgets[0].used


def test_too_few_usable_budgets_raises_with_the_reason():
    N, D, C = isoflop_design(BUDGETS[:2], span=30.0, points=9)
    with pytest.raises(InputError, match="at least 3 budgets"):
        isoflop(N, D, C, chinchilla_loss(N, D))


def test_deterministic_for_a_seed():
    N, D, C = isoflop_design(BUDGETS, span=30.0, points=9)
    L = _noisy(N, D, 0.003, 1)
    first = isoflop(N, D, C, L, draws=200, seed=3).to_dict()
    second = isoflop(N, D, C, L, draws=200, seed=3).to_dict()
    assert first == second


def test_tokens_per_param_matches_the_two_power_laws():
    N, D, C = isoflop_design(BUDGETS, span=10.0, points=9)
    result = isoflop(N, D, C, _noisy(N, D, 0.002, 2), draws=300)
    ratio, (low, high) = result.tokens_per_param([1e20, 1e24])
    expected = result.b.predict([1e20, 1e24]) / result.a.predict([1e20, 1e24])
    assert ratio == pytest.approx(expected, rel=1e-12)
    assert np.all(low < ratio) and np.all(ratio < high)


def test_porian_profile_finds_the_optimum_and_covers_the_exponent():
    N, D, C = isoflop_design(BUDGETS, span=30.0, points=11)
    L = _noisy(N, D, 0.001, 4)
    result = isoflop(N, D, C, L, profile="porian", noise=0.003, draws=300)
    assert all(b.used for b in result.budgets)
    covered = 0
    for b in result.budgets:
        assert b.N_opt == pytest.approx(optimal_N(b.C), rel=0.25)
        low, high = b.ci95["N_opt"]
        assert low <= b.N_opt <= high
        covered += low <= optimal_N(b.C) <= high
    assert covered >= len(BUDGETS) - 1
    low, high = result.a.ci95
    assert low <= A_TRUE <= high and high - low < 0.15


def test_porian_profile_flags_an_optimum_at_the_edge():
    N, D, C = isoflop_design(BUDGETS, span=30.0, points=9)
    keep = ~((C == BUDGETS[-1]) & (N < optimal_N(BUDGETS[-1]) * 1.4))
    L = chinchilla_loss(N[keep], D[keep])
    result = isoflop(N[keep], D[keep], C[keep], L, profile="porian", draws=200)
    assert not result.budgets[-1].used
    assert "not bracketed" in "; ".join(result.budgets[-1].flags)


def test_window_inf_uses_every_run_and_bad_noise_is_refused():
    N, D, C = isoflop_design(BUDGETS, span=300.0, points=13)
    L = chinchilla_loss(N, D)
    every = isoflop(N, D, C, L, window=None, draws=100).a.exponent
    assert isoflop(N, D, C, L, window=np.inf, draws=100).a.exponent == every
    with pytest.raises(ScalinglabError, match="noise must be"):
        isoflop(N, D, C, L, profile="porian", noise=0.0)


PORIAN_KEYS = ["dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]
PORIAN_FILES = (
    "summary_df",
    "summary_df_att",
    "summary_df_kaplan_tuned_hparams",
    "summary_df_owt2",
)


def _porian_settings(shared_data):
    """(points of one setting, the authors' own a) for each of the 15 settings.

    The authors' a is ``fit_results['basic']['n_exponent']`` of their released
    summaries: OLS of log N* on log C, N* the median over seed-noise redraws.
    """
    import pandas as pd

    folder = shared_data / "porian_resolving"
    points = pd.read_csv(folder / "isoflop_points.csv")
    for name in PORIAN_FILES:
        summary = pd.read_pickle(folder / f"{name}.pickle.xz")
        for _, row in summary.iterrows():
            key = (row.dataset, row.hparams, row.warmup, row.decay, row.param_count)
            match = (points.source_file == name) & (points.loss_split == row.val)
            for column, value in zip(PORIAN_KEYS, key):
                match &= points[column] == value
            yield points[match], row.fit_results["basic"]["n_exponent"]


def _porian_gaps(shared_data, **options) -> list[float]:
    gaps = []
    for g, authors in _porian_settings(shared_data):
        arrays = (g[k].to_numpy() for k in ("n", "tokens", "flops", "loss"))
        ours = isoflop(*arrays, draws=200, seed=0, **options).a.exponent
        gaps.append(abs(ours - authors))
    return gaps


@pytest.mark.realdata
def test_porian_exponents_with_the_defaults_and_with_their_method(shared_data):
    # Defaults (parabola, a decade either side of the best run): within 0.03 of the
    # authors' a in 14 of the 15 settings (the miss: tuned/long/const/kaplan,
    # 0.678 vs 0.708); 13 of 15 guarantees 10 of any 12. Without the window,
    # 10 of 15 (0.865 vs 0.834, 0.780 vs 0.701, 0.659 vs 0.604, 0.663 vs 0.624,
    # 0.753 vs 0.700).
    gaps = _porian_gaps(shared_data)
    assert len(gaps) == 15
    assert sum(g <= 0.03 for g in gaps) >= 13, np.round(gaps, 3)
    # Their own method reproduces their numbers (measured max gap 0.004).
    gaps = _porian_gaps(shared_data, profile="porian", window=None)
    assert max(gaps) < 0.01, np.round(gaps, 3)


def test_porian_profile_keeps_the_best_run_of_a_repeated_size():
    N, D, C = isoflop_design(BUDGETS, span=30.0, points=9)
    L = chinchilla_loss(N, D)
    twice = isoflop(
        np.r_[N, N], np.r_[D, D], np.r_[C, C], np.r_[L, L + 0.05], profile="porian"
    )
    once = isoflop(N, D, C, L, profile="porian")
    assert twice.a.exponent == pytest.approx(once.a.exponent, rel=1e-12)
    assert [b.n_points for b in twice.budgets] == [9] * len(BUDGETS)


def test_cli_porian_profile_and_window_options(tmp_path, capsys):
    import json

    import pandas as pd
    from typer.testing import CliRunner

    from scalinglab.cli import app, main

    N, D, C = isoflop_design(BUDGETS, span=30.0, points=9)
    path = tmp_path / "iso.csv"
    loss = _noisy(N, D, 0.002, 5)
    pd.DataFrame({"params": N, "flops": C, "loss": loss}).to_csv(path, index=False)
    base = ["isoflop", str(path), "--N", "params", "--C", "flops", "--draws", "200"]
    runner = CliRunner()
    out = runner.invoke(
        app, [*base, "--profile", "porian", "--window", "inf", "--json"]
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    expected = isoflop(N, D, C, loss, profile="porian", window=None, draws=200)
    assert result["profile"] == "porian"
    assert result["a"]["value"] == pytest.approx(expected.a.exponent, rel=1e-12)
    with pytest.raises(SystemExit) as refused:  # main maps input errors to exit 1
        main([*base, "--profile", "porian", "--noise", "0"])
    assert refused.value.code == 1
    assert "noise must be a loss sd > 0" in capsys.readouterr().err
