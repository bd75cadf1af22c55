"""One look for every scalinglab figure: labels with units, colours, bands, legend order.

Figure functions are wrapped in :func:`styled`, which applies :data:`RC` while the
figure is drawn (the user's global matplotlib settings are left alone); figures use
constrained or tight layout and are saved with a tight bounding box, so labels are
never clipped. matplotlib is imported lazily.

Conventions
-----------
- observed runs: filled dark dots; held-out runs: open red diamonds;
- fitted law: solid lines; extrapolation beyond the data: dashed;
- intervals: translucent bands (or error bars on single points);
- legends list observed, then fitted, then held out, then intervals.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "COLOURS",
    "LABELS",
    "RC",
    "band",
    "label",
    "ordered_legend",
    "pyplot",
    "set_axes",
    "styled",
]

RC = {
    "figure.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "axes.grid": True,
    "axes.grid.which": "major",
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "lines.linewidth": 1.6,
    "savefig.bbox": "tight",
}

COLOURS = {
    "observed": "#333333",
    "fit": "#1f77b4",
    "heldout": "#d62728",
    "optimal": "#ff7f0e",
    "band_alpha": 0.2,
}

LABELS = {
    "N": "parameters N",
    "D": "training tokens D",
    "C": "training compute C (FLOPs)",
    "U": "unique tokens U",
    "loss": "loss (nats)",
    "tokens_per_param": "tokens per parameter D/N",
    "step": "step",
}

_LEGEND_ORDER = (
    "observed",
    "fit",
    "held out",
    "predict",
    "interval",
    "compute-optimal",
)
_LOG = {"N", "D", "C", "U", "tokens_per_param"}


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend unless one was chosen already."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def styled(function: Callable) -> Callable:
    """Draw the figure of ``function`` under :data:`RC` (constrained layout, units, grid)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with pyplot().rc_context(RC):
            figure = function(*args, **kwargs)
        return figure

    return wrapper


def label(quantity: str, loss_unit: str | None = None) -> str:
    """Axis label of a canonical quantity, with its unit (the loss unit when known)."""
    if quantity == "loss" and loss_unit and loss_unit != "nats":
        return f"loss ({loss_unit})"
    return LABELS.get(quantity, quantity)


def set_axes(ax: Any, x: str, y: str, *, title: str | None = None) -> None:
    """Label both axes with their units; N, D, C and D/N go on log scales."""
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    if x in _LOG:
        ax.set_xscale("log")
        _sparse_minor_labels(ax.xaxis, ax.get_xlim())
    if y in _LOG:
        ax.set_yscale("log")
        _sparse_minor_labels(ax.yaxis, ax.get_ylim())
    if title:
        ax.set_title(title)


def _sparse_minor_labels(axis: Any, limits: tuple[float, float]) -> None:
    """No labels on minor log ticks unless the axis spans under half a decade (in a narrow
    panel matplotlib's 2x10^8, 3x10^8, ... labels run into each other); under two decades,
    majors at 1 and 3 times each power of ten so the axis keeps several labels."""
    from matplotlib.ticker import LogFormatterSciNotation, LogLocator, NullFormatter

    low, high = sorted(limits)
    if low <= 0 or high / low < 10**0.5:
        return
    if high / low < 100:
        axis.set_major_locator(LogLocator(subs=(1.0, 3.0)))
        axis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))
    axis.set_minor_formatter(NullFormatter())


def band(ax: Any, x: Any, low: Any, high: Any, *, colour: str, text: str) -> None:
    """An interval as a translucent band."""
    ax.fill_between(
        x, low, high, color=colour, alpha=COLOURS["band_alpha"], lw=0, label=text
    )


def ordered_legend(
    ax: Any, order: Iterable[str] = _LEGEND_ORDER, **kwargs: Any
) -> None:
    """A legend whose entries follow ``order`` (matched on the start of each label)."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    order = tuple(order)

    def rank(item: tuple) -> int:
        text = item[1].lower()
        return next(
            (i for i, key in enumerate(order) if text.startswith(key)), len(order)
        )

    pairs = sorted(zip(handles, labels), key=rank)
    ax.legend([h for h, _ in pairs], [t for _, t in pairs], **kwargs)
