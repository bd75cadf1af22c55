"""Figures for decisions: pass@k versus k, and the lifetime frontier.

matplotlib is imported lazily; each function returns a Figure.
"""

from __future__ import annotations

import numpy as np

from .style import styled


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


@styled
def testtime_figure(fits):
    """pass@k against k (log axis) per model: observed with intervals, the power law, the Beta forecast.

    Parameters
    ----------
    fits : list of (model name or None, :class:`~scalinglab.decide.testtime.TestTimeFit`).
    """
    from ..decide.testtime import beta_pass_at_k

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for i, (name, fit) in enumerate(fits):
        color = f"C{i}"
        top = max(r["k"] for r in fit.pass_at_k)
        k = np.geomspace(1, max(top, fit.samples_per_problem), 200)
        label = f"{name}: " if name else ""
        ax.plot(
            k,
            np.exp(-fit.params["a"] * k ** -fit.params["b"]),
            "-",
            color=color,
            label=f"{label}law -log pass@k = a k^-b",
        )
        ax.plot(
            k,
            beta_pass_at_k(fit.beta["alpha"], fit.beta["beta"], k),
            "--",
            color=color,
            label=f"{label}Beta forecast",
        )
        ax.plot(
            fit.coverage["k"],
            fit.coverage["observed"],
            ".",
            color=color,
            ms=5,
            label=f"{label}observed (law fitted to these)",
        )
        seen = [r for r in fit.pass_at_k if r["observed"] is not None]
        if seen:
            y = np.array([r["observed"] for r in seen])
            ci = np.array([r["observed_ci95"] or [r["observed"]] * 2 for r in seen])
            ax.errorbar(
                [r["k"] for r in seen],
                y,
                yerr=[y - ci[:, 0], ci[:, 1] - y],
                fmt="o",
                color=color,
                ms=4,
                capsize=2,
                label=f"{label}requested k, 95% interval",
            )
    ax.set_xscale("log")
    ax.set_xlabel("samples per problem k")
    ax.set_ylabel("pass@k")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


@styled
def frontier_figure(frontier, result):
    """Left: optimal N, D (and tokens per parameter) along the sweep. Right: the iso-loss curve
    of each row in (N, D), lifetime-cost contours of the last row's demand, optima marked.

    Parameters
    ----------
    frontier : :class:`~scalinglab.decide.frontier.Frontier`.
    result : the fit or preset the frontier was computed from.
    """
    from ..decide.frontier import iso_loss_tokens

    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    rows = frontier.table()
    x = np.array([r[frontier.axis] for r in rows], dtype=float)
    for name, style in (("N", "o-"), ("D", "s-")):
        left.plot(x, [r[name] for r in rows], style, label=f"{name}*")
    if np.all(x > 0):
        left.set_xscale("log")
    else:  # zero inference demand: linear near 0, logarithmic beyond
        positive = x[x > 0]
        left.set_xscale(
            "symlog", linthresh=positive.min() / 10 if positive.size else 1.0
        )
    left.set_yscale("log")
    left.set_xlabel(frontier.axis.replace("_", " "))
    left.set_ylabel("parameters / tokens")
    twin = left.twinx()
    twin.plot(
        x, [r["tokens_per_param"] for r in rows], "k:", label="tokens per parameter"
    )
    twin.set_ylabel("tokens per parameter (dotted)")
    left.legend(fontsize=8, loc="upper left")
    _iso_panel(right, frontier, result, rows, iso_loss_tokens)
    fig.tight_layout()
    return fig


def _iso_panel(ax, frontier, result, rows, iso_loss_tokens) -> None:
    Ns = np.array([r["N"] for r in rows])
    Ds = np.array([r["D"] for r in rows])
    N = np.geomspace(Ns.min() / 10, Ns.max() * 10, 300)
    D = np.geomspace(Ds.min() / 10, Ds.max() * 10, 300)
    last = frontier.rows[-1].demand
    grid_N, grid_D = np.meshgrid(N, D)
    train, serve = last.flops(grid_N, grid_D)
    contours = ax.contour(
        grid_N, grid_D, np.log10(train + serve), levels=12, cmap="Greys", linewidths=0.7
    )
    ax.clabel(contours, fmt=lambda v: f"1e{v:.1f}", fontsize=6)
    for loss in dict.fromkeys(
        row["loss"] for row in rows
    ):  # each distinct loss once, in order
        ax.plot(
            N,
            iso_loss_tokens(result, loss, N, last),
            "-",
            color="C3",
            lw=1,
            alpha=0.7,
            label=f"iso-loss L = {loss:.4g}",
        )
    for i, row in enumerate(rows):
        ax.plot(
            row["N"],
            row["D"],
            "*",
            color=f"C{i % 10}",
            ms=12,
            mec="k",
            mew=0.5,
            label=f"optimum, T = {row['inference_tokens']:.3g}",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(N[0], N[-1])
    ax.set_ylim(D[0], D[-1])
    ax.set_xlabel("parameters N")
    ax.set_ylabel("training tokens D")
    ax.set_title(
        "iso-loss curves, log10 lifetime FLOPs (last row's demand)", fontsize=9
    )
    ax.legend(fontsize=6)


@styled
def t2_figure(best):
    """The k scan of a train-to-test optimum: pass@k of each k's best model (left) and that
    model's N and tokens per parameter (right), the chosen k marked.

    Parameters
    ----------
    best : :class:`~scalinglab.decide.t2.T2Optimum`.
    """
    plt = _pyplot()
    rows = best.scanned
    k = np.array([r["k"] for r in rows])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(k, [r["pass_at_k"] for r in rows], "o-", ms=3)
    left.plot(best.k, best.pass_at_k, "r*", ms=14, label=f"optimum k = {best.k}")
    left.set_xscale("log")
    left.set_xlabel("samples per query k")
    left.set_ylabel("pass@k of the best (N, D) for that k")
    left.legend(fontsize=8)
    right.plot(k, [r["N"] for r in rows], "o-", ms=3, label="N*")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("samples per query k")
    right.set_ylabel("parameters N*")
    twin = right.twinx()
    twin.plot(
        k, [r["tokens_per_param"] for r in rows], "k:", label="tokens per parameter"
    )
    twin.axhline(best.chinchilla["tokens_per_param"], color="grey", lw=0.8, ls="--")
    twin.set_yscale("log")
    twin.set_ylabel("tokens per parameter (dotted; dashed: compute-optimal)")
    right.axvline(best.k, color="r", lw=0.8)
    fig.tight_layout()
    return fig
