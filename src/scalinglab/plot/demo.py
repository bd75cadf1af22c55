"""Figure of ``scalinglab demo``: the fitted law against the ladder, and the held-out runs."""

from __future__ import annotations

from typing import Any

import numpy as np

from .style import styled

__all__ = ["demo_figure"]


@styled
def demo_figure(
    result: Any,
    *,
    N: np.ndarray,
    D: np.ndarray,
    loss: np.ndarray,
    held_out: np.ndarray,
    level: float = 0.95,
) -> Any:
    """Loss against training tokens, one colour per model size.

    Fitted runs are filled dots, held-out runs open diamonds with the
    prediction interval as an error bar; lines are the fitted law at each size
    (dashed for the held-out size, which the fit never saw).

    Parameters
    ----------
    result : FitResult
        The law fitted on the runs where ``held_out`` is False.
    N, D, loss : numpy.ndarray
        Parameters, tokens and final held-out loss of every run.
    held_out : numpy.ndarray of bool
        Runs left out of the fit.
    level : float
        Level of the prediction intervals drawn for the held-out runs.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    N, D, loss = (np.asarray(a, dtype=float) for a in (N, D, loss))
    held_out = np.asarray(held_out, dtype=bool)
    fig, ax = plt.subplots(figsize=(7.0, 4.5))
    sizes = np.unique(N)
    colours = plt.cm.viridis(np.linspace(0.0, 0.85, len(sizes)))
    grid = np.geomspace(D.min() / 1.5, D.max() * 1.5, 100)
    for n, colour in zip(sizes, colours):
        mask = N == n
        held = bool(held_out[mask].any())
        ax.plot(
            grid,
            result.predict(N=n, D=grid),
            color=colour,
            ls="--" if held else "-",
            lw=1.2,
            label=f"N={n:.3g}" + (" (held out)" if held else ""),
        )
        if held:
            _held_points(ax, result, n, D[mask], loss[mask], colour, level)
        else:
            ax.scatter(D[mask], loss[mask], color=colour, s=28, zorder=3)
    ax.set_xscale("log")
    # The built-in corpus is bytes: a token is a byte, so the loss is nats per byte.
    ax.set_xlabel("training tokens D (bytes)")
    ax.set_ylabel("held-out loss (nats per byte)")
    ax.set_title(
        f"{result.law.name} fitted on {int((~held_out).sum())} runs, "
        f"{int(held_out.sum())} held out ({level:.0%} prediction intervals)"
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _held_points(
    ax: Any,
    result: Any,
    n: float,
    D: np.ndarray,
    loss: np.ndarray,
    colour: Any,
    level: float,
) -> None:
    predicted = result.predict(N=np.full_like(D, n), D=D)
    if result.draws is not None:
        low, high = result.predict_interval(level, N=np.full_like(D, n), D=D)
        ax.errorbar(
            D,
            predicted,
            yerr=[predicted - low, high - predicted],
            fmt="none",
            ecolor=colour,
            capsize=4,
            lw=1.0,
        )
    ax.scatter(
        D,
        loss,
        marker="D",
        facecolors="none",
        edgecolors=colour,
        s=40,
        zorder=4,
        label="actual (held out)",
    )
