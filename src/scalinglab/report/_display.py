"""Notebook display of result objects: ``to_frame()`` and ``_repr_html_()``.

Result classes inherit :class:`Display`; this module imports nothing heavy at
the top (pandas is imported when a frame is asked for), so the math layer can
use it freely.
"""

from __future__ import annotations

import html
from typing import Any

from ..errors import ScalinglabError

__all__ = ["Display", "plot", "to_frame", "to_html"]


class Display:
    """Mixin: a table of the result (``to_frame``) and its notebook rendering."""

    def to_frame(self) -> Any:
        """The result's main table as a pandas DataFrame (one row per parameter or point)."""
        return to_frame(self)

    def _repr_html_(self) -> str:
        return to_html(self)

    def plot(self, runs: Any = None) -> Any:
        """The result's figure: a fit's iso-loss contours (or residuals) over ``runs``, a
        validation's held-out predictions over ``runs``, a comparison's multipliers."""
        return plot(self, runs)


def to_frame(result: Any) -> Any:
    """The table of a FitResult, Validation or Comparison as a DataFrame."""
    import pandas as pd

    rows = _ROWS[type(result).__name__](result)
    frame = pd.DataFrame.from_records(rows)
    return frame.set_index(frame.columns[0]) if rows else frame


def to_html(result: Any) -> str:
    """A heading, the table and the notes of a result, as an HTML fragment."""
    heading, notes = _TEXT[type(result).__name__](result)
    frame = to_frame(result)
    table = frame.to_html(
        float_format=_number, max_rows=30, border=0, classes="scalinglab"
    )
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return (
        f"<div><p><strong>{html.escape(heading)}</strong></p>{table}"
        + (f"<ol>{items}</ol>" if items else "")
        + "</div>"
    )


def plot(result: Any, runs: Any = None) -> Any:
    """The figure of a FitResult or Validation (both need ``runs``) or a Comparison."""
    kind = type(result).__name__
    if kind == "Comparison":
        from ..plot.validation import compare_figure

        return compare_figure(result)
    if runs is None:
        raise ScalinglabError(
            f"{kind}.plot(runs) draws the runs too; pass the RunTable it was made from."
        )
    from ..data import read_runs

    runs = read_runs(runs)
    if kind == "FitResult":
        from ..plot.fit import fit_figure

        return fit_figure(result, runs)
    from ..plot.validation import validation_figure

    return validation_figure(result, runs)


def _number(value: float) -> str:
    from ._blocks import fmt

    return fmt(value)


# -- FitResult ---------------------------------------------------------------------------


def _fit_rows(result: Any) -> list[dict]:
    ci = result.conf_int() if result.draws is not None else {}
    se = result.std_err() if result.draws is not None else {}
    nan = float("nan")
    return [
        {
            "param": p.name,
            "value": result.params[p.name],
            "std_err": se.get(p.name, nan),
            "ci95_low": ci.get(p.name, (nan, nan))[0],
            "ci95_high": ci.get(p.name, (nan, nan))[1],
            "lower": p.lower,
            "upper": p.upper,
            "fixed": p.fixed,
        }
        for p in result.law.params
    ]


def _fit_text(result: Any) -> tuple[str, list[str]]:
    summary = result.summary()
    return summary.header(), [summary.footer(), *summary.notes()]


# -- Validation --------------------------------------------------------------------------


def _validation_rows(v: Any) -> list[dict]:
    return [
        {
            "run": p.run,
            "fold": p.fold,
            **p.inputs,
            "actual": p.actual,
            "predicted": p.predicted,
            "ci95_low": p.ci95[0],
            "ci95_high": p.ci95[1],
            "rel_error": p.rel_error,
            "in_ci95": p.in_ci95,
            "decades": p.decades,
        }
        for p in v.points
    ]


def _validation_text(v: Any) -> tuple[str, list[str]]:
    from .sections import validation_sentence

    return f"{v.law}: {v.description} ({v.interval} intervals)", [
        validation_sentence(v),
        *v.notes,
    ]


# -- Comparison --------------------------------------------------------------------------


def _comparison_rows(c: Any) -> list[dict]:
    return [
        {
            "group": g.group,
            "C": b["C"],
            "multiplier": b["value"],
            "ci95_low": b["ci95"][0],
            "ci95_high": b["ci95"][1],
            "verdict": g.verdict,
        }
        for g in c.groups
        for b in g.budgets
    ]


def _comparison_text(c: Any) -> tuple[str, list[str]]:
    lines = [
        f"{g.group}: x{g.multiplier:.3g} [{g.ci95[0]:.3g}, {g.ci95[1]:.3g}] at "
        f"C = {g.C_median:.3g}, {g.verdict}"
        for g in c.groups
    ]
    return (
        (
            f"{c.law}: compute multiplier over {c.baseline} ({c.pairing}, "
            f"{c.replicates} replicates)"
        ),
        [*lines, *c.notes],
    )


_ROWS = {
    "FitResult": _fit_rows,
    "Validation": _validation_rows,
    "Comparison": _comparison_rows,
}
_TEXT = {
    "FitResult": _fit_text,
    "Validation": _validation_text,
    "Comparison": _comparison_text,
}
