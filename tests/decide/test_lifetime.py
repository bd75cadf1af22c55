"""Lifetime optimum against a dense brute-force grid, the compute-optimal limit and Sardana et al."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.analysis.optimal import optimal_allocation
from scalinglab.decide import Demand, lifetime_optimum
from scalinglab.errors import ScalinglabError
from scalinglab.laws.presets import get_preset

_SOURCES = ["hoffmann2022", "besiroglu2024", "fitted"]


def _source(name, fitted):
    return fitted if name == "fitted" else get_preset(name)


def _brute_target(source, target, T):
    """Cheapest 6ND + 2NT on the iso-loss curve: 200,001 log-spaced N, D solved in closed form."""
    p = source.params
    N = np.logspace(6, 14, 200_001)
    gap = target - p["E"] - p["A"] * N ** -p["alpha"]
    D = np.where(
        gap > 0, (p["B"] / np.where(gap > 0, gap, 1.0)) ** (1 / p["beta"]), np.inf
    )
    cost = 6 * N * D + 2 * N * T
    i = np.argmin(cost)
    return N[i], cost[i]


def _brute_budget(source, budget, T):
    """Lowest loss with 6ND + 2NT = budget on 200,001 log-spaced N."""
    N = np.logspace(6, np.log10(budget / (6 + 2 * T)), 200_001)
    D = (budget - 2 * N * T) / (6 * N)
    loss = source.law.predict(source.params, N=N, D=D)
    i = np.argmin(loss)
    return N[i], loss[i]


@pytest.mark.parametrize("name", _SOURCES)
@pytest.mark.parametrize("T", [0.0, 1e11, 2e12, 1e13])
def test_target_form_equals_brute_force(name, T, fitted):
    source = _source(name, fitted)
    target = float(source.predict(N=13e9, D=260e9)) if name != "fitted" else 2.3
    best = lifetime_optimum(
        source, target_loss=target, demand=Demand(inference_tokens=T)
    )
    N, cost = _brute_target(source, target, T)
    assert best.N == pytest.approx(N, rel=5e-3)
    assert best.total_flops == pytest.approx(cost, rel=5e-3)
    assert best.total_flops <= cost * (
        1 + 1e-9
    )  # the search is never beaten by the grid
    assert float(source.predict(N=best.N, D=best.D)) == pytest.approx(target, rel=1e-9)


@pytest.mark.parametrize("name", _SOURCES)
@pytest.mark.parametrize("T", [1e11, 2e12])
def test_budget_form_equals_brute_force(name, T, fitted):
    source = _source(name, fitted)
    best = lifetime_optimum(source, budget=1e23, demand=Demand(inference_tokens=T))
    N, loss = _brute_budget(source, 1e23, T)
    assert best.N == pytest.approx(N, rel=5e-3)
    assert best.total_flops == pytest.approx(1e23, rel=1e-9)
    assert best.loss <= loss + 1e-12


@pytest.mark.parametrize("name", _SOURCES)
def test_zero_inference_is_the_compute_optimal_answer_exactly(name, fitted):
    source = _source(name, fitted)
    best = lifetime_optimum(source, budget=3e23)
    today = optimal_allocation(source, 3e23)
    assert (
        best.N == float(today.N)
        and best.D == float(today.D)
        and best.loss == float(today.loss)
    )
    # The target form lands on the same model: the cheapest way to today's loss is today's optimum.
    cheapest = lifetime_optimum(source, target_loss=float(today.loss))
    assert cheapest.N == pytest.approx(float(today.N), rel=1e-6)
    assert cheapest.total_flops == pytest.approx(3e23, rel=1e-9)
    assert best.saving_flops == pytest.approx(0.0, abs=1e-6 * 3e23)


@pytest.mark.parametrize(
    "name", ["hoffmann2022", "hoffmann2022_rounded", "besiroglu2024"]
)
def test_sardana_figure_1_thirteen_b_quality_with_two_trillion_inference_tokens(name):
    """A 13B model trained on 20 tokens/param serving 2T tokens is beaten by a smaller, longer-trained one."""
    preset = get_preset(name)
    target = float(preset.predict(N=13e9, D=260e9))
    best = lifetime_optimum(
        preset, target_loss=target, demand=Demand(inference_tokens=2e12)
    )
    twin = best.chinchilla
    assert (
        best.N < 0.75 * twin["N"]
        and best.tokens_per_param > 2 * twin["tokens_per_param"]
    )
    # Sardana et al. report ~1.7e22 FLOPs saved; the presets give 1.0e22-2.1e22 (10-29 %).
    assert 8e21 < best.saving_flops < 2.5e22 and 0.1 < best.saving_fraction < 0.35
    assert best.saving_flops == pytest.approx(
        twin["total_flops"] - best.total_flops, rel=1e-12
    )


@pytest.mark.parametrize("name", ["hoffmann2022", "besiroglu2024"])
def test_sardana_1e12_inference_tokens_trains_smaller_and_longer(name):
    preset = get_preset(name)
    today = optimal_allocation(preset, 1e23)
    best = lifetime_optimum(preset, budget=1e23, demand=Demand(inference_tokens=1e12))
    assert best.N < float(today.N) and best.tokens_per_param > float(
        today.tokens_per_param
    )
    assert best.saving_flops > 0


def test_fitted_law_gives_intervals_that_hold_the_answer(fitted):
    best = lifetime_optimum(
        fitted, target_loss=2.3, demand=Demand(inference_tokens=1e12)
    )
    for name in (
        "N",
        "D",
        "tokens_per_param",
        "train_flops",
        "inference_flops",
        "total_flops",
    ):
        low, high = best.ci95[name]
        assert low < getattr(best, name) < high, name
    # The draws predict the chosen model's loss around the target the point fit meets.
    assert best.ci95["loss"][0] < 2.3 < best.ci95["loss"][1]
    assert get_preset("besiroglu2024").draws is None
    preset = lifetime_optimum(get_preset("besiroglu2024"), target_loss=2.1)
    assert preset.ci95 is None and any("no bootstrap draws" in n for n in preset.notes)


def test_data_constrained_plenty_of_data_equals_unconstrained():
    muennighoff = get_preset("muennighoff2023")
    free = lifetime_optimum(muennighoff, budget=1e22, demand=Demand(unique_tokens=1e15))
    # With U >> D no token repeats and no parameter is in excess: the base Chinchilla surface.
    base = get_preset("hoffmann2022").law.predict
    p = dict(muennighoff.params)
    loss = base({k: p[k] for k in ("E", "A", "B", "alpha", "beta")}, N=free.N, D=free.D)
    assert free.loss == pytest.approx(float(loss), rel=1e-12)
    G = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    assert free.N == pytest.approx(
        G * np.sqrt(1e22 / 6), rel=1e-4
    )  # closed form, alpha = beta
    assert free.epochs == pytest.approx(free.D / 1e15)


def test_data_constrained_small_U_matches_the_law_directly():
    muennighoff = get_preset("muennighoff2023")
    best = lifetime_optimum(muennighoff, budget=1e22, demand=Demand(unique_tokens=25e9))
    assert best.epochs == pytest.approx(best.D / 25e9) and best.epochs > 4
    direct = muennighoff.predict(N=best.N, D=best.D, U=25e9)
    assert best.loss == pytest.approx(float(direct), rel=1e-12)
    # The README example of datablations: C = 1e22, U = 25B -> D ~ 237B (9.5 epochs), N ~ 7.0B.
    assert best.D == pytest.approx(237e9, rel=0.03) and best.N == pytest.approx(
        7.0e9, rel=0.03
    )
    N = np.logspace(9, 10.5, 100_001)
    grid = muennighoff.predict(N=N, D=1e22 / (6 * N), U=25e9)
    assert best.loss <= grid.min() + 1e-12
    assert best.N == pytest.approx(N[np.argmin(grid)], rel=5e-3)


def test_unique_tokens_on_a_chinchilla_law_uses_muennighoff_half_lives():
    preset = get_preset("besiroglu2024")
    free = lifetime_optimum(preset, budget=1e24)
    tight = lifetime_optimum(preset, budget=1e24, demand=Demand(unique_tokens=1e12))
    assert tight.loss > free.loss and tight.epochs > 1
    assert any("R_D*=15.387756" in n for n in tight.notes)


def test_caps_bind():
    preset = get_preset("besiroglu2024")
    capped = lifetime_optimum(preset, budget=1e24, demand=Demand(max_params=3e10))
    assert capped.N == pytest.approx(3e10, rel=1e-6)
    short = lifetime_optimum(preset, target_loss=2.0, demand=Demand(max_tokens=5e11))
    assert short.D <= 5e11 * (1 + 1e-9)
    # The cap binds: the optimum sits on its edge, where the brute-force grid's cheapest feasible point is.
    p = preset.params
    N = np.logspace(9, 12, 300_001)
    gap = 2.0 - p["E"] - p["A"] * N ** -p["alpha"]
    D = (p["B"] / np.where(gap > 0, gap, np.nan)) ** (1 / p["beta"])
    feasible = (gap > 0) & (D <= 5e11)
    cost = np.where(feasible, 6 * N * D, np.inf)
    assert short.N == pytest.approx(N[np.argmin(cost)], rel=5e-3)
    assert short.D == pytest.approx(5e11, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"budget": 0.0}, "budget .* > 0; got 0.0"),
        ({"budget": -1e23}, "got -1e\\+23"),
        ({"target_loss": 1.5}, "irreducible loss E = 1.817"),
        ({"budget": 1e23, "target_loss": 2.0}, "exactly one"),
    ],
)
def test_bad_input_names_the_value(kwargs, match):
    with pytest.raises(ScalinglabError, match=match):
        lifetime_optimum(get_preset("besiroglu2024"), **kwargs)


def test_negative_inference_tokens_is_refused():
    with pytest.raises(
        ScalinglabError, match="inference_tokens must be .* >= 0; got -5"
    ):
        Demand(inference_tokens=-5)


def test_laws_that_cannot_price_repetition_say_so():
    with pytest.raises(
        ScalinglabError, match="'kaplan' has no way to price repeated tokens"
    ):
        lifetime_optimum(
            get_preset("kaplan2020"), budget=1e23, demand=Demand(unique_tokens=1e12)
        )
    with pytest.raises(ScalinglabError, match="needs the unique tokens available"):
        lifetime_optimum(get_preset("muennighoff2023"), budget=1e22)


def test_unreachable_target_with_a_token_cap_names_the_cap():
    with pytest.raises(ScalinglabError, match="max_tokens=1e\\+09"):
        lifetime_optimum(
            get_preset("besiroglu2024"), target_loss=1.9, demand=Demand(max_tokens=1e9)
        )


def test_data_constrained_with_inference_equals_brute_force_on_the_iso_cost_line():
    muennighoff = get_preset("muennighoff2023")
    T = 2e11
    best = lifetime_optimum(
        muennighoff, budget=1e22, demand=Demand(unique_tokens=25e9, inference_tokens=T)
    )
    N = np.logspace(8.5, 10.5, 200_001)
    D = (1e22 - 2 * N * T) / (6 * N)
    N, D = N[D > 0], D[D > 0]
    loss = muennighoff.predict(N=N, D=D, U=25e9)
    assert best.N == pytest.approx(N[np.argmin(loss)], rel=5e-3)
    assert best.loss <= loss.min() + 1e-12
    assert best.loss == pytest.approx(
        float(muennighoff.predict(N=best.N, D=best.D, U=25e9)), rel=1e-12
    )
