"""Figure for hyperparameter sweeps: the LR x batch-size loss landscape of one (N, D) cell.

matplotlib is imported lazily; the function returns a Figure.
"""

from __future__ import annotations

import numpy as np

from .style import styled


@styled
def landscape_figure(N, D, lr, bs, loss, fit_result=None, *, cell: tuple[float, float] | None = None):
    """Loss over (learning rate, batch size) for one cell, with the observed best run, the
    fitted cell optimum and, when ``fit_result`` is given, the law's prediction.

    Parameters
    ----------
    N, D, lr, bs, loss : array_like
        The sweep (``bs`` in tokens).
    fit_result : HparamFit, optional
        Fitted laws; their suggestion for the cell is marked.
    cell : (N, D), optional
        Which cell (default: the one with most runs at the largest N).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    N, D, lr, bs, loss = (np.asarray(v, float) for v in (N, D, lr, bs, loss))
    if cell is None:
        top = N == N.max()
        values, counts = np.unique(D[top], return_counts=True)
        cell = (float(N.max()), float(values[np.argmax(counts)]))
    rows = (N == cell[0]) & (D == cell[1])
    excess = 100 * (loss[rows] / loss[rows].min() - 1)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    points = ax.scatter(lr[rows], bs[rows], c=np.minimum(excess, 5.0), cmap="viridis_r", s=40)
    fig.colorbar(points, ax=ax, label="loss above cell best (%, capped at 5)")
    best = np.argmin(loss[rows])
    ax.plot(lr[rows][best], bs[rows][best], "r*", ms=14, label="best run")
    if fit_result is not None:
        s = fit_result.suggest(*cell)
        ax.plot(s.lr, s.batch_tokens, "kx", ms=12, mew=2, label="fitted law")
        for c in fit_result.cells:
            if c.N == cell[0] and c.D == cell[1]:
                ax.plot(c.lr, c.batch_tokens, "o", mfc="none", mec="r", ms=14,
                        label=f"cell optimum ({fit_result.method})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("peak learning rate")
    ax.set_ylabel("batch size (tokens)")
    ax.set_title(f"N = {cell[0]:.3g}, D = {cell[1]:.3g}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
