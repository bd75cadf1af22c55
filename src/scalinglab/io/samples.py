"""Read per-problem sample results (for pass@k) from a table file.

Two layouts:

- one row per attempt: a problem column and a ``correct`` column of 0/1 (or true/false);
- one row per problem: ``n`` (attempts) and ``c`` (correct) columns.

An optional model column splits the table into one sample set per model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .readers import read_table

_TRUE = {"1", "1.0", "true", "yes", "pass", "correct"}
_FALSE = {"0", "0.0", "false", "no", "fail", "incorrect"}


@dataclass(frozen=True)
class Samples:
    """Attempts ``n`` and correct answers ``c`` per problem (arrays of shape (P,))."""

    model: str | None
    problems: np.ndarray
    n: np.ndarray
    c: np.ndarray


def read_samples(
    path: str | Path,
    *,
    problem: str | None = None,
    correct: str | None = None,
    n: str | None = None,
    c: str | None = None,
    model: str | None = None,
) -> list[Samples]:
    """Per-problem (n, c) for each model in ``path``; columns named by the caller.

    Give ``correct`` (with ``problem``) for one row per attempt, or ``n`` and ``c``
    for one row per problem. Errors name the file, column and rows.
    """
    raw = read_table(path)
    frame, source = raw.frame, raw.source
    if (correct is None) == (n is None and c is None):
        raise InputError(
            "give --correct COLUMN (one row per attempt) or --n and --c COLUMNS (one row per "
            f"problem); the file's columns are {', '.join(map(str, frame.columns))}.",
            source=source,
        )
    _require(
        frame, source, [x for x in (problem, correct, n, c, model) if x is not None]
    )
    if correct is not None and problem is None:
        raise InputError(
            "one row per attempt needs --problem COLUMN to group attempts.",
            source=source,
        )
    rows = raw.row_numbers
    if correct is not None:
        frame = frame.assign(_n=1, _c=_outcomes(frame[correct], source, correct, rows))
    else:
        frame = frame.assign(
            _n=_counts(frame[n], source, n, rows), _c=_counts(frame[c], source, c, rows)
        )
        over = (frame["_c"] > frame["_n"]).to_numpy()
        if over.any():
            i = int(np.flatnonzero(over)[0])
            raise InputError(
                f"c must not exceed n; got c={frame['_c'].iloc[i]:g} > n={frame['_n'].iloc[i]:g}.",
                source=source,
                column=c,
                rows=[int(r) for r in rows[over]],
            )
    return _group(frame, problem, model)


def _require(frame: pd.DataFrame, source: str, columns: list[str]) -> None:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise InputError(
            f"no column {', '.join(map(repr, missing))}; the file's columns are "
            f"{', '.join(map(str, frame.columns))}.",
            source=source,
        )


def _outcomes(
    series: pd.Series, source: str, column: str, rows: np.ndarray
) -> np.ndarray:
    text = series.astype(str).str.strip().str.lower()
    good = text.isin(_TRUE | _FALSE).to_numpy()
    if not good.all():
        raise InputError(
            f"correct must be 0/1 or true/false; got {series[~good].iloc[0]!r}.",
            source=source,
            column=column,
            rows=[int(r) for r in rows[~good]],
        )
    return text.isin(_TRUE).to_numpy().astype(float)


def _counts(
    series: pd.Series, source: str, column: str, rows: np.ndarray
) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        raise InputError(
            f"counts must be whole numbers >= 0; got {series[bad].iloc[0]!r}.",
            source=source,
            column=column,
            rows=[int(r) for r in rows[bad]],
        )
    return values


def _group(
    frame: pd.DataFrame, problem: str | None, model: str | None
) -> list[Samples]:
    keys = [k for k in (model, problem) if k is not None]
    if problem is not None:
        frame = frame.groupby(keys, sort=True, as_index=False)[["_n", "_c"]].sum()
    out = []
    for name, part in frame.groupby(model, sort=True) if model else [(None, frame)]:
        label = (
            None if model is None else str(name[0] if isinstance(name, tuple) else name)
        )
        problems = (
            part[problem].astype(str).to_numpy()
            if problem
            else np.arange(1, len(part) + 1).astype(str)
        )
        out.append(
            Samples(
                label, problems, part["_n"].to_numpy(float), part["_c"].to_numpy(float)
            )
        )
    return out
