"""Figures of a fitted law of (N, D): iso-loss contours, the compute-optimal frontier,
residuals against each input, and the data at a glance.

Every function returns a matplotlib Figure drawn in the shared style
(:mod:`scalinglab.plot.style`); matplotlib is imported lazily.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ScalinglabError
from .style import COLOURS, band, label, ordered_legend, pyplot, set_axes, styled

__all__ = [
    "data_figure",
    "fit_figure",
    "frontier_figure",
    "isoloss_figure",
    "prediction_figure",
    "residuals_figure",
]


@styled
def data_figure(runs: Any) -> Any:
    """Loss against training compute, coloured by model size (one line per run with
    checkpoints), so the reader sees the design and its spread before any fit."""
    plt = pyplot()
    from matplotlib.colors import LogNorm

    N, C, loss = runs.array("N"), runs.array("C"), runs.array("loss")
    fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    norm = LogNorm(N.min(), N.max() * (1.0001 if N.min() == N.max() else 1.0))
    if len(runs) > runs.n_runs:
        codes = runs.runs()
        for code in np.unique(codes):
            rows = np.flatnonzero(codes == code)
            rows = rows[np.argsort(C[rows])]
            colour = plt.cm.viridis(norm(N[rows[0]]))
            ax.plot(C[rows], loss[rows], color=colour, lw=0.8, alpha=0.7)
    points = ax.scatter(C, loss, c=N, cmap="viridis", norm=norm, s=14, zorder=3)
    fig.colorbar(points, ax=ax, label=label("N"))
    set_axes(ax, "C", "loss", title=f"{runs.n_runs} runs, {len(runs)} rows")
    return fig


def fit_figure(result: Any, runs: Any) -> Any:
    """The figure of ``scalinglab fit --plot``: iso-loss contours for a law of N and D,
    residuals against each input otherwise."""
    if set(result.law.inputs) == {"N", "D"}:
        return isoloss_figure(result, runs)
    return residuals_figure(result, runs)


def _require_nd(law: Any) -> None:
    if set(law.inputs) != {"N", "D"}:
        raise ScalinglabError(
            f"this figure needs a law of N and D; {law.name} takes {', '.join(law.inputs)}."
        )


@styled
def isoloss_figure(
    result: Any,
    runs: Any,
    *,
    heldout: np.ndarray | None = None,
    C_max: float | None = None,
) -> Any:
    """The fitted surface as iso-loss contours in (N, D), with the runs coloured by their
    observed loss on the same scale, iso-FLOP lines and the compute-optimal path.

    Parameters
    ----------
    result : FitResult
        A fit of a law of ``N`` and ``D``.
    runs : RunTable
        The runs to draw (those in ``heldout`` as open diamonds).
    heldout : numpy.ndarray of bool, optional
        Runs the fit did not see.
    C_max : float, optional
        Extend the view so the compute-optimal path reaches this budget.
    """
    _require_nd(result.law)
    plt = pyplot()
    N, D, loss = runs.array("N"), runs.array("D"), runs.array("loss")
    (n_lo, n_hi), (d_lo, d_hi) = _view(result, N, D, C_max)
    NN, DD = np.meshgrid(np.geomspace(n_lo, n_hi, 160), np.geomspace(d_lo, d_hi, 160))
    with np.errstate(all="ignore"):
        Z = result.predict(N=NN, D=DD)
    levels = _levels(result, loss)
    fig, ax = plt.subplots(figsize=(6.6, 5.0), layout="constrained")
    filled = ax.contourf(
        NN, DD, Z, levels=levels, cmap="viridis", extend="both", alpha=0.8
    )
    lines = ax.contour(NN, DD, Z, levels=levels, colors="white", linewidths=0.6)
    for text in ax.clabel(lines, fmt="%.2f", fontsize=7):
        text.set_path_effects(_outline())
    fig.colorbar(filled, ax=ax, label="fitted " + label("loss"))
    _isoflop_lines(ax, n_lo, n_hi, d_lo, d_hi)
    held = np.zeros(len(N), bool) if heldout is None else np.asarray(heldout, bool)
    style = {"c": loss, "cmap": "viridis", "norm": filled.norm, "zorder": 4}
    ax.scatter(
        N[~held],
        D[~held],
        s=22,
        edgecolors="white",
        linewidths=0.7,
        alpha=0.8,
        label="observed runs (colour = loss)",
        **style,
    )
    if held.any():
        ax.scatter(
            N[held],
            D[held],
            s=40,
            marker="D",
            edgecolors=COLOURS["heldout"],
            linewidths=1.2,
            label="held-out runs",
            **style,
        )
    _optimal_path(ax, result, n_lo, n_hi, d_lo, d_hi)
    set_axes(ax, "N", "D", title=f"{result.law.name}: fitted loss surface")
    ax.set(xlim=(n_lo, n_hi), ylim=(d_lo, d_hi))
    ordered_legend(ax, loc="upper left", frameon=True, framealpha=0.9)
    return fig


def _levels(result, loss: np.ndarray) -> np.ndarray:
    """Contour levels evenly spaced in log(loss - E) over the bulk of the observed losses:
    power-law terms make those contours evenly spaced in log N and log D."""
    E = result.params.get("E", 0.0)
    floor = E if 0 < E < loss.min() else 0.0
    low, high = np.quantile(loss - floor, [0.0, 0.98])
    return np.unique(np.round(floor + np.geomspace(low, high, 12), 3))


def _outline() -> list:
    """A dark outline behind white text, readable on any colour of the surface."""
    from matplotlib.patheffects import withStroke

    return [withStroke(linewidth=2, foreground="0.15")]


def _view(result, N, D, C_max):
    n = [N.min() / 2, N.max() * 4]
    d = [D.min() / 2, D.max() * 4]
    if C_max is not None:
        alloc = result.optimal(float(C_max))
        n = [min(n[0], float(alloc.N) / 2), max(n[1], float(alloc.N) * 2)]
        d = [min(d[0], float(alloc.D) / 2), max(d[1], float(alloc.D) * 2)]
    return n, d


def _isoflop_lines(ax, n_lo, n_hi, d_lo, d_hi) -> None:
    """Dotted lines of constant C = 6 N D at every whole decade in view."""
    first, last = (
        np.ceil(np.log10(6 * n_lo * d_lo)),
        np.floor(np.log10(6 * n_hi * d_hi)),
    )
    decades = np.arange(first, last + 1)
    step = max(1, int(np.ceil(decades.size / 6)))
    labelled = False
    for e in decades[::step]:
        grid = np.geomspace(n_lo, n_hi, 50)
        D = 10.0**e / (6 * grid)
        inside = (D >= d_lo) & (D <= d_hi)
        if inside.sum() < 2:
            continue
        ax.plot(
            grid[inside],
            D[inside],
            ":",
            color="0.6",
            lw=1.0,
            label=None if labelled else "iso-FLOP lines (C = 6ND)",
        )
        labelled = True
        middle = np.flatnonzero(inside)[inside.sum() // 2]
        note = ax.annotate(
            f"1e{int(e)}", (grid[middle], D[middle]), fontsize=7, color="white"
        )
        note.set_path_effects(_outline())


def _optimal_path(ax, result, n_lo, n_hi, d_lo, d_hi) -> None:
    C = np.geomspace(6 * n_lo * d_lo, 6 * n_hi * d_hi, 60)
    try:
        alloc = result.optimal(C)
    except ScalinglabError:
        return  # a law without an interior optimum has no path to draw
    inside = (
        (alloc.N >= n_lo) & (alloc.N <= n_hi) & (alloc.D >= d_lo) & (alloc.D <= d_hi)
    )
    ax.plot(
        alloc.N[inside],
        alloc.D[inside],
        color=COLOURS["optimal"],
        lw=2.2,
        label="compute-optimal allocation",
    )


@styled
def frontier_figure(result: Any, budgets: np.ndarray, *, runs: Any = None) -> Any:
    """Left: N* and D* against compute with 95% bands. Right: the loss at the optimum
    with its 95% band (over the observed runs when given); the fitted compute range is
    shaded and the requested budgets are dashed.

    Parameters
    ----------
    result : FitResult or preset
        A law of ``N`` and ``D`` with parameters (and bootstrap draws for bands).
    budgets : numpy.ndarray
        Requested compute budgets, marked on both panels.
    runs : RunTable, optional
        The fitted runs, drawn as observed losses.
    """
    _require_nd(result.law)
    plt = pyplot()
    budgets = np.atleast_1d(np.asarray(budgets, float))
    fitted = _fitted_compute(result, runs)
    low = min(fitted[0], budgets.min() / 100) if fitted else budgets.min() / 1e3
    high = max(fitted[1] if fitted else 0, budgets.max()) * 3
    grid = np.geomspace(low, high, 60)
    alloc = result.optimal(grid)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.0), layout="constrained")
    for name, colour in (("N", COLOURS["fit"]), ("D", COLOURS["optimal"])):
        left.plot(grid, getattr(alloc, name), color=colour, label=f"fit: {name}*")
        if alloc.ci95:
            band(
                left,
                grid,
                *alloc.ci95[name],
                colour=colour,
                text=f"interval: {name}* 95%",
            )
    set_axes(left, "C", "N", title="compute-optimal parameters N* and tokens D*")
    left.set_ylabel("N* (parameters), D* (tokens)")
    if runs is not None:
        right.scatter(
            runs.array("C"),
            runs.array("loss"),
            s=8,
            color=COLOURS["observed"],
            alpha=0.5,
            label="observed runs",
        )
    right.plot(grid, alloc.loss, color=COLOURS["fit"], label="fit: loss at the optimum")
    if alloc.ci95:
        band(
            right,
            grid,
            *alloc.ci95["loss"],
            colour=COLOURS["fit"],
            text="interval: 95% (new run)",
        )
    set_axes(right, "C", "loss", title="loss along the frontier")
    for ax in (left, right):
        for b in budgets:
            ax.axvline(b, color="0.3", lw=0.8, ls="--")
        if fitted:
            ax.axvspan(*fitted, color="0.5", alpha=0.08, lw=0)
        ordered_legend(ax)
    if fitted:
        right.annotate(
            "fitted range",
            (np.sqrt(fitted[0] * fitted[1]), 1.0),
            xycoords=("data", "axes fraction"),
            ha="center",
            va="top",
            fontsize=8,
            color="0.35",
        )
    return fig


def _fitted_compute(result: Any, runs: Any) -> tuple[float, float] | None:
    """The compute span of the data: the runs' C, else 6 N D at the fit's input ranges."""
    if runs is not None:
        C = runs.array("C")
        return float(C.min()), float(C.max())
    ranges = getattr(result, "input_ranges", None) or {}
    if "N" in ranges and "D" in ranges:
        return 6 * ranges["N"][0] * ranges["D"][0], 6 * ranges["N"][1] * ranges["D"][1]
    return None


@styled
def residuals_figure(
    result: Any, runs: Any, *, heldout: np.ndarray | None = None
) -> Any:
    """Observed / fitted - 1 (%) against each input of the law (and C), with the band of
    twice the fit's run-to-run scatter; a trend means the law's shape misses the data.

    Parameters
    ----------
    result : FitResult
    runs : RunTable
        Runs with every input of the law; those in ``heldout`` as open diamonds.
    heldout : numpy.ndarray of bool, optional
        Runs the fit did not see.
    """
    plt = pyplot()
    inputs = {name: runs.array(name) for name in result.law.inputs}
    columns = list(inputs) + (["C"] if "C" not in inputs and runs.has("C") else [])
    with np.errstate(all="ignore"):
        rel = 100 * (runs.array("loss") / result.predict(**inputs) - 1)
    scatter = _scatter_band(result, runs.array("loss"))
    limit = _residual_limit(rel, scatter)
    held = np.zeros(len(rel), bool) if heldout is None else np.asarray(heldout, bool)
    fig, axes = plt.subplots(
        1,
        len(columns),
        figsize=(3.6 * len(columns), 3.4),
        sharey=True,
        layout="constrained",
        squeeze=False,
    )
    for ax, name in zip(axes[0], columns):
        x = runs.array(name)
        ax.axhspan(
            -scatter,
            scatter,
            color=COLOURS["fit"],
            alpha=0.12,
            lw=0,
            label="interval: ±2 sd run scatter",
        )
        ax.axhline(0, color="0.4", lw=0.8)
        fitted, out = ~held & (np.abs(rel) <= limit), held & (np.abs(rel) <= limit)
        ax.scatter(
            x[fitted],
            rel[fitted],
            s=10,
            color=COLOURS["observed"],
            label="observed (fitted)",
        )
        if held.any():
            ax.scatter(
                x[out],
                rel[out],
                s=30,
                marker="D",
                facecolors="none",
                edgecolors=COLOURS["heldout"],
                label="held out",
            )
        _clipped(ax, x, rel, limit)
        set_axes(ax, name, "loss")
        ax.set_ylim(-1.08 * limit, 1.08 * limit)
        ax.set_ylabel("")
    axes[0, 0].set_ylabel("observed / fitted - 1 (%)")
    ordered_legend(axes[0, -1])
    fig.suptitle(f"{result.law.name}: residuals against each input", fontsize=10)
    return fig


def _residual_limit(rel: np.ndarray, scatter: float) -> float:
    """The y limit: the bulk of the residuals (or 3x the scatter band), unless the largest
    one is within 2x of that, in which case everything is shown."""
    largest = float(np.nanmax(np.abs(rel)))
    bulk = max(3 * scatter, 1.5 * float(np.nanpercentile(np.abs(rel), 90)))
    return bulk if largest > 2 * bulk else 1.1 * largest


def _clipped(ax, x, rel, limit) -> None:
    """Mark residuals beyond the axis with arrows at its edge, and say how many."""
    beyond = np.abs(rel) > limit
    text = f"beyond the axis ({int(beyond.sum())}, up to {np.abs(rel).max():.0f}%)"
    for side, marker in ((1, "^"), (-1, "v")):
        rows = beyond & (np.sign(rel) == side)
        if rows.any():
            ax.scatter(
                x[rows],
                np.full(rows.sum(), side * limit),
                marker=marker,
                s=30,
                color=COLOURS["observed"],
                label=text,
                zorder=5,
            )
            text = None


def _scatter_band(result, loss: np.ndarray) -> float:
    """Twice the robust residual scale, as a percentage of the loss."""
    s = 2 * result.residual_scale
    if result.objective_spec.space == "log":
        return 100 * float(np.expm1(s))
    return 100 * s / float(np.median(loss))


@styled
def prediction_figure(result: Any, rows: list[dict], *, level: float = 0.95) -> Any:
    """Predicted runs on the fitted law: loss against N (or the law's first input) with
    the other inputs held at the runs' values (one curve per distinct setting), the
    prediction interval as a band, each prediction as a point, the fitted range shaded.

    Parameters
    ----------
    result : FitResult
    rows : list of dict
        Predictions as :func:`scalinglab.analysis.prediction.prediction_table` returns them.
    level : float
        Interval level of the band.
    """
    plt = pyplot()
    x_name = "N" if "N" in result.law.inputs else result.law.inputs[0]
    others = [k for k in result.law.inputs if k != x_name]
    fitted = result.input_ranges.get(x_name)
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in others), []).append(row)
    fig, ax = plt.subplots(figsize=(6.6, 4.2), layout="constrained")
    for i, (key, members) in enumerate(groups.items()):
        colour = plt.cm.tab10(i % 10)
        xs = [r[x_name] for r in members] + (list(fitted) if fitted else [])
        grid = np.geomspace(min(xs) / 2, max(xs) * 2, 80)
        inputs = {k: np.full_like(grid, v) for k, v in zip(others, key)} | {
            x_name: grid
        }
        setting = ", ".join(f"{k} = {v:.3g}" for k, v in zip(others, key)) or "law"
        ax.plot(grid, result.predict(**inputs), color=colour, label=f"fit: {setting}")
        if result.draws is not None:
            text = f"interval: {level:.0%} (new run)" if i == 0 else "_nolegend_"
            band(
                ax,
                grid,
                *result.predict_interval(level, **inputs),
                colour=colour,
                text=text,
            )
        ax.scatter(
            [r[x_name] for r in members],
            [r["loss"] for r in members],
            color=colour,
            edgecolors="black",
            zorder=4,
            s=30,
            label="predicted runs" if i == 0 else "_nolegend_",
        )
    if fitted:
        ax.axvspan(
            *fitted, color="0.5", alpha=0.08, lw=0, label="range of the fitted runs"
        )
    set_axes(ax, x_name, "loss", title=f"{result.law.name}: predicted loss")
    ordered_legend(ax, order=("fit", "predict", "interval", "fitted"))
    return fig
