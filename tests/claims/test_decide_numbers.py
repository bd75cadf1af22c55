"""The numbers README.md and docs/decide.md print for published presets, as printed.

These are deterministic computations on fixed coefficients (no data, no bootstrap), so
the tolerance is the printed rounding: each value must round to the digits the docs show.
A change of the search, the presets or the cost model that moves a printed digit fails
here, and the docs must be updated with it (docs/claims.md lists every guarded claim).
"""

from __future__ import annotations

import pytest

from scalinglab.decide import Demand, lifetime_optimum
from scalinglab.decide.frontier import lifetime_frontier
from scalinglab.decide.t2 import TaskModel, t2_optimum
from scalinglab.laws.presets import get_preset


def _billions(x: float) -> str:
    return f"{x / 1e9:.1f}"


# docs/decide.md, Sardana et al.'s Figure 1 example (a 13B model at 20 tokens per
# parameter serving 2T tokens): Chinchilla-optimal N at that loss, lifetime-optimal N,
# its tokens per parameter, the FLOPs saved and their share.
SARDANA_TABLE = {
    "hoffmann2022": ("8.6", "4.1", "237", "1.31e22", "24"),
    "hoffmann2022_rounded": ("6.8", "3.4", "319", "0.97e22", "22"),
    "besiroglu2024": ("13.0", "6.1", "121", "2.09e22", "29"),
}


@pytest.mark.parametrize("name", sorted(SARDANA_TABLE))
def test_sardana_example_table(name):
    preset = get_preset(name)
    target = float(preset.predict(N=13e9, D=260e9))
    best = lifetime_optimum(
        preset, target_loss=target, demand=Demand(inference_tokens=2e12)
    )
    shown = (
        _billions(best.chinchilla["N"]),
        _billions(best.N),
        f"{best.tokens_per_param:.0f}",
        f"{best.saving_flops / 1e22:.2f}e22",
        f"{100 * best.saving_fraction:.0f}",
    )
    assert shown == SARDANA_TABLE[name]


def test_readme_besiroglu_example():
    """README: '... matched by a 6.1B model, 2.1e22 FLOPs or 29% cheaper'."""
    preset = get_preset("besiroglu2024")
    target = float(preset.predict(N=13e9, D=260e9))
    best = lifetime_optimum(
        preset, target_loss=target, demand=Demand(inference_tokens=2e12)
    )
    assert (_billions(best.N), f"{best.saving_flops:.1e}") == ("6.1", "2.1e+22")
    assert f"{100 * best.saving_fraction:.0f}" == "29"


def test_frontier_example():
    """docs/decide.md: besiroglu2024 at L = 2.1: 13.3B/20 tokens per parameter at T = 0,
    7.5B/74 at 1e12, 4.4B/395 at 1e13."""
    frontier = lifetime_frontier(
        get_preset("besiroglu2024"),
        inference_tokens=[0.0, 1e12, 1e13],
        target_losses=[2.1],
    )
    shown = [
        (_billions(row["N"]), f"{row['tokens_per_param']:.0f}")
        for row in frontier.table()
    ]
    assert shown == [("13.3", "20"), ("7.5", "74"), ("4.4", "395")]


def test_data_constrained_example():
    """docs/decide.md: muennighoff2023, U = 25e9 at 1e22 FLOPs: N = 7.0B, D = 237B, 9.5 epochs."""
    best = lifetime_optimum(
        get_preset("muennighoff2023"), budget=1e22, demand=Demand(unique_tokens=25e9)
    )
    assert (_billions(best.N), f"{best.D / 1e9:.0f}", f"{best.epochs:.1f}") == (
        "7.0",
        "237",
        "9.5",
    )


def test_train_to_test_example():
    """docs/decide.md: besiroglu2024, 1e23 FLOPs, 1e8 queries of 500 tokens, L50 = 2.05,
    scale = 0.08, concentration = 0.5: k = 33, pass@33 = 0.78 against 0.55 with one
    sample, N = 11.6B at 76 tokens per parameter, 3.9x the compute-optimal 19."""
    best = t2_optimum(
        get_preset("besiroglu2024"),
        TaskModel(L50=2.05, scale=0.08, concentration=0.5),
        budget=1e23,
        queries=1e8,
        tokens_per_sample=500.0,
    )
    shown = (
        best.k,
        f"{best.pass_at_k:.2f}",
        f"{best.one_sample['pass_at_1']:.2f}",
        _billions(best.model.N),
        f"{best.model.tokens_per_param:.0f}",
        f"{best.overtraining:.1f}",
        f"{best.chinchilla['tokens_per_param']:.0f}",
    )
    assert shown == (33, "0.78", "0.55", "11.6", "76", "3.9", "19")
