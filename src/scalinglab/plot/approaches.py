"""Figures for Chinchilla's approaches: IsoFLOP profiles, the envelope, the side-by-side."""

from __future__ import annotations

import numpy as np

from .style import label, styled

__all__ = ["isoflop_figure", "envelope_figure", "approaches_figure"]


def _plt():
    from .style import pyplot

    return pyplot()


@styled
def isoflop_figure(result, N: np.ndarray, loss: np.ndarray, C: np.ndarray):
    """Left: loss against N per budget with each fitted profile and its minimum.
    Right: N_opt against C with the fitted power law and the per-budget intervals."""
    plt = _plt()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(result.budgets)))
    for b, colour in zip(result.budgets, colours):
        rows = np.abs(np.log(C / b.C)) < 0.1
        left.scatter(N[rows], loss[rows], s=12, color=colour)
        if b.coefficients:
            lo, hi = np.log(b.N_range)
            x = np.linspace(lo, hi, 100)
            left.plot(
                np.exp(x),
                np.polyval(np.asarray(b.coefficients)[::-1], x - b.centre),
                color=colour,
                lw=1,
            )
        if b.used:
            left.plot(b.N_opt, b.loss_opt, "x", color=colour, ms=8)
    left.set(
        xscale="log",
        xlabel=label("N"),
        ylabel=label("loss"),
        title=f"IsoFLOP profiles ({result.profile})",
    )
    used = [b for b in result.budgets if b.used]
    Cs = np.array([b.C for b in used])
    Nopt = np.array([b.N_opt for b in used])
    err = np.array(
        [[b.N_opt - b.ci95["N_opt"][0], b.ci95["N_opt"][1] - b.N_opt] for b in used]
    ).T
    right.errorbar(
        Cs, Nopt, yerr=err, fmt="o", ms=4, capsize=2, label="budget optima (95%)"
    )
    grid = np.geomspace(Cs.min(), Cs.max(), 50)
    lo, hi = result.a.ci95
    right.plot(
        grid,
        result.a.predict(grid),
        label=f"N_opt ~ C^{result.a.exponent:.3f} [{lo:.3f}, {hi:.3f}]",
    )
    right.set(
        xscale="log",
        yscale="log",
        xlabel=label("C"),
        ylabel="compute-optimal N (parameters)",
        title="compute-optimal N",
    )
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


@styled
def envelope_figure(result, C: np.ndarray, loss: np.ndarray):
    """Left: every usable point and the envelope with L(C). Right: N_opt and D_opt along it."""
    plt = _plt()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.scatter(C, loss, s=4, color="0.7", label="runs")
    left.plot(result.C, result.loss, ".", color="C0", label="envelope")
    if result.loss_fit is not None:
        grid = np.geomspace(result.C.min(), result.C.max(), 100)
        left.plot(
            grid, result.loss_fit.predict(C=grid), color="C1", label="E + A C^-alpha"
        )
    left.set(
        xscale="log", xlabel=label("C"), ylabel=label("loss"), title="loss envelope"
    )
    left.legend(fontsize=8)
    right.plot(result.C, result.N, ".", label=f"N_opt, a = {result.a.exponent:.3f}")
    right.plot(result.C, result.D, ".", label=f"D_opt, b = {result.b.exponent:.3f}")
    right.plot(result.C, result.a.predict(result.C), color="C0", lw=1)
    right.plot(result.C, result.b.predict(result.C), color="C1", lw=1)
    right.set(
        xscale="log",
        yscale="log",
        xlabel=label("C"),
        title="compute-optimal allocation",
    )
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


@styled
def approaches_figure(comparison):
    """a with its interval per approach, and tokens per parameter per budget."""
    plt = _plt()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, e in enumerate(comparison.estimates):
        left.errorbar(
            [i],
            [e.a],
            yerr=[[e.a - e.a_ci95[0]], [e.a_ci95[1] - e.a]],
            fmt="o",
            capsize=4,
        )
        lows = np.array([c[0] for c in e.tokens_per_param_ci95])
        highs = np.array([c[1] for c in e.tokens_per_param_ci95])
        values = np.array(e.tokens_per_param)
        right.errorbar(
            np.array(e.budgets) * (1 + 0.15 * i),
            values,
            yerr=[values - lows, highs - values],
            fmt="o",
            capsize=3,
            label=e.name,
        )
    left.set_xticks(
        range(len(comparison.estimates)), [e.name for e in comparison.estimates]
    )
    left.set(ylabel="a (N_opt ~ C^a)", title="exponent by approach (95%)")
    right.set(
        xscale="log",
        yscale="log",
        xlabel=label("C"),
        ylabel="D_opt / N_opt",
        title="tokens per parameter",
    )
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig
