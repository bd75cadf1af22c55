"""Reading and checking the columns of a task table (one row per checkpoint)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ScalinglabError


@dataclass(frozen=True)
class TaskRows:
    """The checked arrays of one task: every checkpoint, and which rows end a run."""

    N: np.ndarray
    D: np.ndarray
    task_loss: np.ndarray
    metric: np.ndarray
    run: np.ndarray  # integer run index per row, 0..n_runs-1
    run_names: tuple[str, ...]
    final: np.ndarray  # bool: the row with the most tokens of its run
    dropped: int  # rows left out for a missing task loss or metric


def load_frame(data: Any):
    """A DataFrame from a path (any format :func:`~scalinglab.io.readers.read_table` reads)
    or a DataFrame, and the name of its source for messages."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True), "<frame>"
    from ..io.readers import read_table

    return read_table(Path(data)).frame, str(data)


def task_rows(
    frame,
    *,
    N: str,
    D: str,
    task_loss: str,
    metric: str,
    run: str | None,
    source: str,
) -> TaskRows:
    """Checked arrays for one task; rows missing the task loss or metric are dropped and counted.

    Raises
    ------
    InputError
        A missing column, non-numeric or non-positive N or D, a metric outside [0, 1],
        a constant task loss or metric column (naming the column and rows).
    """
    check_columns(frame, (N, D, task_loss, metric) + ((run,) if run else ()), source)
    values = {c: _numeric(frame, c, source) for c in (N, D, task_loss, metric)}
    keep = np.isfinite(values[task_loss]) & np.isfinite(values[metric])
    for column in (N, D):
        _positive(values[column][keep], column, source, np.flatnonzero(keep))
    _check_metric(values[metric][keep], metric, source, np.flatnonzero(keep))
    for column in (task_loss, metric):
        if keep.sum() and np.ptp(values[column][keep]) == 0:
            raise InputError(
                f"column {column!r} is constant ({values[column][keep][0]:g}) on every row; "
                "a link cannot be fitted to it. Check that it is the task's column.",
                source=source,
                column=column,
            )
    names = (
        frame[run].astype(str).to_numpy() if run else np.arange(len(frame)).astype(str)
    )[keep]
    run_names, index = np.unique(names, return_inverse=True)
    d = values[D][keep]
    last = np.full(len(run_names), -np.inf)
    np.maximum.at(last, index, d)
    return TaskRows(
        N=values[N][keep],
        D=d,
        task_loss=values[task_loss][keep],
        metric=values[metric][keep],
        run=index,
        run_names=tuple(run_names.tolist()),
        final=d == last[index],
        dropped=int((~keep).sum()),
    )


def check_columns(frame, columns, source: str) -> None:
    """Raise :class:`InputError` naming the first of ``columns`` not in ``frame`` and
    listing the table's columns (the first 40)."""
    for column in columns:
        if column not in frame.columns:
            raise InputError(
                f"column {column!r} is not in the table; its columns are "
                f"{', '.join(map(str, frame.columns[:40]))}"
                + (" ..." if len(frame.columns) > 40 else "")
                + ".",
                source=source,
                column=column,
            )


def _numeric(frame, column: str, source: str) -> np.ndarray:
    import pandas as pd

    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    text = np.flatnonzero(np.isnan(values) & frame[column].notna().to_numpy())
    if text.size:
        raise InputError(
            f"column {column!r} holds text ({frame[column].iloc[text[0]]!r}); expected numbers.",
            source=source,
            column=column,
            rows=[int(i) + 1 for i in text[:5]],
        )
    return values


def _positive(values: np.ndarray, column: str, source: str, rows: np.ndarray) -> None:
    bad = np.flatnonzero(~(values > 0))
    if bad.size:
        raise InputError(
            f"column {column!r} must be > 0; got {bad.size} values that are not "
            f"(first {values[bad[0]]!r}).",
            source=source,
            column=column,
            rows=[int(rows[i]) + 1 for i in bad[:5]],
        )


def _check_metric(
    values: np.ndarray, column: str, source: str, rows: np.ndarray
) -> None:
    bad = np.flatnonzero((values < 0) | (values > 1))
    if bad.size:
        raise InputError(
            f"column {column!r} must be an accuracy or error in [0, 1]; got {bad.size} "
            f"values outside it (first {values[bad[0]]:g}). A percentage? Divide it by 100.",
            source=source,
            column=column,
            rows=[int(rows[i]) + 1 for i in bad[:5]],
        )


def check_chance(
    metric: np.ndarray, chance: float | None, column: str, higher_is_better: bool
) -> None:
    """Refuse a chance level that every observed metric is on the wrong side of."""
    if chance is None:
        return
    if not 0 <= chance <= 1:
        raise ScalinglabError(f"--chance must be in [0, 1]; got {chance!r}.")
    best = metric.max() if higher_is_better else metric.min()
    beyond = best > chance if higher_is_better else best < chance
    if not beyond:
        side = "above" if higher_is_better else "below"
        raise InputError(
            f"the chance level {chance:g} is not exceeded by any value of column "
            f"{column!r} (best {best:g}); the metric must be {side} chance somewhere to "
            "fit a link. Check --chance (for an error metric give the chance error).",
            column=column,
        )
