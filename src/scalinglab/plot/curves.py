"""Figures for loss curves: fitted vs observed, and predictions under several schedules.

Each function returns a matplotlib Figure; matplotlib is imported lazily.
"""

from __future__ import annotations

from collections.abc import Sequence

from .style import styled


def _figure(rows: int = 1):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(rows, 1, figsize=(7, 3.2 * rows), squeeze=False, sharex=True)


@styled
def fit_figure(fit_result, curves: Sequence) -> object:
    """Observed curves (dots) and the fitted law (lines), with relative residuals below.

    Parameters
    ----------
    fit_result : CurveFit
        The fitted law.
    curves : sequence of Curve
        The curves to compare (fitted or held out).
    """
    fig, axes = _figure(2)
    top, bottom = axes[0, 0], axes[1, 0]
    for curve in curves:
        predicted = fit_result.predict(curve.schedule, curve.steps)
        (line,) = top.plot(curve.steps, predicted.loss, lw=1.2, label=curve.name)
        top.plot(curve.steps, curve.loss, ".", ms=2, color=line.get_color(), alpha=0.5)
        bottom.plot(
            curve.steps,
            100 * (predicted.loss / curve.loss - 1),
            lw=0.8,
            color=line.get_color(),
        )
    top.set_ylabel("loss")
    top.set_title(f"{fit_result.law} law: fitted (lines) vs observed (dots)")
    top.legend(fontsize=7)
    bottom.axhline(0, color="k", lw=0.5)
    bottom.set_ylabel("predicted / observed - 1 (%)")
    bottom.set_xlabel("step")
    fig.tight_layout()
    return fig


@styled
def schedules_figure(predictions: Sequence, observed=None) -> object:
    """Predicted loss curves (with 95 % bands when present) for several schedules, and an
    observed curve (dots) beside them.

    The y-axis covers the curves after their first 5 % of steps: the loss just after
    warmup (or at step 0 without one) is far above the rest and would flatten them.
    """
    fig, axes = _figure(1)
    ax = axes[0, 0]
    shown = []
    for p in predictions:
        (line,) = ax.plot(
            p.steps, p.loss, lw=1.2, label=f"{p.schedule} ({p.final_loss:.4f})"
        )
        if p.ci95 is not None:
            ax.fill_between(
                p.steps, p.ci95[0], p.ci95[1], color=line.get_color(), alpha=0.2
            )
        shown.append(_informative(p.steps, p.loss))
    if observed is not None:
        ax.plot(
            observed.steps,
            observed.loss,
            ".",
            ms=2.5,
            color="k",
            alpha=0.6,
            label=f"observed {observed.name} ({observed.loss[-1]:.4f})",
        )
        shown.append(_informative(observed.steps, observed.loss))
    low, high = min(v.min() for v in shown), max(v.max() for v in shown)
    pad = 0.05 * (high - low) or 0.01
    ax.set_ylim(low - pad, high + pad)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(
        "predicted loss (lines, 95 % band) and observed (dots)"
        if observed is not None
        else "predicted loss (95 % band)"
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _informative(steps, loss):
    """Loss values after the first 5 % of the curve's steps."""
    start = steps[0] + 0.05 * (steps[-1] - steps[0])
    return loss[steps >= start]
