"""The two-step task figure: step 1, step 2 and the chained prediction, intervals as bands."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..fit.intervals import percentile_interval
from .style import COLOURS, band, pyplot, set_axes, styled

__all__ = ["prediction_figure", "task_figure"]


@styled
def task_figure(
    task: Any, data: Any, *, N: float | None = None, D: float | None = None
):
    """Three panels for a :class:`~scalinglab.downstream.TaskFit` and the table it was
    fitted on: (1) task loss against tokens per model size, law and final checkpoints;
    (2) metric against task loss, every checkpoint and the link with its 95% band;
    (3) the chained metric against tokens, the final checkpoints and, at a planned
    (N, D), the prediction with its 95% interval.
    """
    from ..downstream._data import load_frame, task_rows

    frame, source = load_frame(data)
    rows = task_rows(frame, **task.columns, source=source)
    figure, axes = pyplot().subplots(1, 3, figsize=(13, 4))
    sizes = np.unique(rows.N)
    d_max = max(rows.D.max(), D or 0.0) * 1.5
    d_grid = np.geomspace(rows.D.min() / 1.5, d_max, 100)
    colours = pyplot().get_cmap("viridis")(
        np.linspace(0, 0.85, len(sizes) + (N is not None))
    )
    final = rows.final
    for colour, n in zip(colours, [*sizes, *([N] if N is not None else [])]):
        on = final & (rows.N == n)
        axes[0].plot(d_grid, task.step1.predict(N=n, D=d_grid), color=colour, lw=1)
        axes[0].scatter(
            rows.D[on], rows.task_loss[on], color=colour, s=14, label=f"N={n:.2g}"
        )
        axes[2].plot(d_grid, task.predict(N=n, D=d_grid)["metric"], color=colour, lw=1)
        axes[2].scatter(rows.D[on], rows.metric[on], color=colour, s=14)
    set_axes(
        axes[0],
        "D",
        "task loss",
        title="step 1: (N, D) -> task loss (final checkpoints)",
    )
    axes[0].legend()
    x = np.linspace(rows.task_loss.min() * 0.9, rows.task_loss.max(), 200)
    draws = task.link_law.function(
        x,
        **{
            n: task.draws2[:, i : i + 1]
            for i, n in enumerate(task.link_law.param_names)
        },
    )
    low, high = percentile_interval(draws, level=0.95)
    axes[1].scatter(
        rows.task_loss,
        rows.metric,
        s=4,
        alpha=0.3,
        color=COLOURS["observed"],
        label="checkpoints",
    )
    band(axes[1], x, low, high, colour=COLOURS["fit"], text="95% interval (link)")
    axes[1].plot(
        x,
        task.link_law.predict(task.link_params, x=x),
        color=COLOURS["fit"],
        label=f"{task.link} link",
    )
    set_axes(axes[1], "task loss", "metric", title="step 2: task loss -> metric")
    axes[1].legend()
    if N is not None and D is not None:
        lo, hi = task.predict_interval(N=N, D=D)["metric"]
        point = float(task.predict(N=N, D=D)["metric"])
        _point_and_interval(
            axes[2], D, point, lo, hi, f"predicted, 95% interval at N={N:.2g}"
        )
        axes[2].legend()
    set_axes(axes[2], "D", "metric", title="chained: (N, D) -> metric")
    return figure


@styled
def prediction_figure(task: Any, *, N: float, D: float, level: float = 0.95):
    """The chained prediction of a :class:`~scalinglab.downstream.TaskFit` at a planned
    (N, D), from the saved fit alone: (1) the task loss and (2) the metric against
    tokens at that N, from the smallest fitted D to twice the planned one, each with
    its joint ``level`` interval as a band and the planned run's point and interval.
    Panel 2 marks chance (when known).
    """
    d_low = min(task.step1.input_ranges["D"][0], D / 10)
    d_grid = np.geomspace(d_low, 2 * D, 80)
    point = task.predict(N=N, D=D)
    interval = task.predict_interval(level, N=N, D=D)
    curve = task.predict(N=N, D=d_grid)
    bands = task.predict_interval(level, N=N, D=d_grid)
    figure, axes = pyplot().subplots(1, 2, figsize=(10, 4))
    pct = round(100 * level)
    for ax, key, name in zip(axes, ("task_loss", "metric"), ("task loss", "metric")):
        band(ax, d_grid, *bands[key], colour=COLOURS["fit"], text=f"{pct}% interval")
        ax.plot(d_grid, curve[key], color=COLOURS["fit"], label=f"fit at N={N:.3g}")
        value = float(point[key])
        low, high = (float(v) for v in interval[key])
        _point_and_interval(
            ax,
            D,
            value,
            low,
            high,
            f"planned D={D:.3g}: {value:.4f} [{low:.4f}, {high:.4f}]",
        )
        set_axes(ax, "D", name, title=f"{task.task}: {name} at N={N:.3g}")
    if task.chance is not None:
        axes[1].axhline(task.chance, color=COLOURS["observed"], ls=":", label="chance")
    axes[0].legend()
    axes[1].legend(loc="center right")
    return figure


def _point_and_interval(ax, x: float, value: float, low: float, high: float, label):
    """Mark ``value`` at ``x`` with an interval bar from ``low`` to ``high``."""
    ax.errorbar(
        [x],
        [value],
        yerr=[[value - low], [high - value]],
        fmt="o",
        color=COLOURS["heldout"],
        capsize=3,
        label=label,
    )
