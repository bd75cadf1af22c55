"""Figures for extrapolation validation, law comparison and recipe comparison."""

from __future__ import annotations

import numpy as np

from .approaches import _plt
from .style import label, styled

__all__ = ["validation_figure", "compare_laws_figure", "compare_figure"]


@styled
def validation_figure(validation, runs):
    """Loss against compute: fitted rows, the last fold's fitted law along them, and every
    held-out point with its predicted value and 95% interval."""
    plt = _plt()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    split, result = validation.splits[-1], validation.fits[-1]
    C, loss = runs.array("C"), runs.array("loss")
    fitted = result.predict(**{n: runs.array(n) for n in result.law.inputs})
    left.scatter(
        C[split.train], loss[split.train], s=8, color="0.6", label="fitted rows"
    )
    left.scatter(C[split.train], fitted[split.train], s=3, color="C0", label="fit")
    held = validation.points
    hc = (
        C[split.heldout]
        if len(validation.splits) == 1
        else np.concatenate([C[s.heldout] for s in validation.splits])
    )
    actual = np.array([p.actual for p in held])
    pred = np.array([p.predicted for p in held])
    low = np.array([p.ci95[0] for p in held])
    high = np.array([p.ci95[1] for p in held])
    left.errorbar(
        hc,
        pred,
        yerr=[pred - low, high - pred],
        fmt="o",
        ms=3,
        color="C1",
        capsize=2,
        label="predicted (95%)",
    )
    left.scatter(hc, actual, marker="x", color="C3", label="held-out actual", zorder=3)
    left.set(
        xscale="log",
        xlabel=label("C"),
        ylabel=label("loss"),
        title=f"{validation.law}: {validation.description}",
    )
    left.legend(fontsize=8)
    rel = np.array([p.rel_error for p in held])
    decades = np.array([p.decades for p in held])
    inside = np.array([p.in_ci95 for p in held])
    right.scatter(decades[inside], rel[inside], s=12, label="inside 95% interval")
    right.scatter(decades[~inside], rel[~inside], s=12, color="C3", label="outside")
    right.axhline(0, color="0.5", lw=0.8)
    right.set(
        xlabel="decades beyond the fitted range",
        ylabel="(predicted - actual) / actual",
        title=f"median |error| {validation.summary.median_abs_rel_error:.2%}, "
        f"coverage {validation.summary.coverage:.0%}",
    )
    right.yaxis.set_major_formatter(_percent())
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0)


@styled
def compare_laws_figure(validations: dict):
    """Held-out relative error of each law's predictions against extrapolation distance."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for name, v in validations.items():
        ax.scatter(
            [p.decades for p in v.points],
            [p.rel_error for p in v.points],
            s=10,
            label=f"{name}: {v.summary.median_abs_rel_error:.2%}",
        )
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set(
        xlabel="decades beyond the fitted range",
        ylabel="relative error",
        title="held-out error by law",
    )
    ax.yaxis.set_major_formatter(_percent())
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@styled
def compare_figure(comparison):
    """Compute multiplier of each group over the baseline against compute, with 95% intervals."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for g in comparison.groups:
        C = np.array([b["C"] for b in g.budgets])
        m = np.array([b["value"] for b in g.budgets])
        low = np.array([b["ci95"][0] for b in g.budgets])
        high = np.array([b["ci95"][1] for b in g.budgets])
        ax.plot(C, m, "o-", label=f"{g.group} ({g.verdict})")
        ax.fill_between(C, low, np.where(np.isfinite(high), high, np.nan), alpha=0.2)
    ax.axhline(1, color="0.5", lw=0.8)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=label("C"),
        ylabel=f"compute multiplier vs {comparison.baseline}",
        title=f"{comparison.law}, {comparison.pairing}",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
