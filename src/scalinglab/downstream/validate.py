"""Held-out validation of a task law: fit on the small runs, predict the held-out ones."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..errors import ScalinglabError
from ..units import parse_quantity
from ._data import load_frame
from .chain import fit_task

__all__ = ["holdout_mask", "validate_task"]

_HOLDOUT = re.compile(r"^\s*(N|D)\s*(>=|<=|>|<)\s*(\S+)\s*$")


def holdout_mask(frame, expression: str, *, N: str, D: str) -> np.ndarray:
    """Rows held out by ``expression``, e.g. ``"N >= 3e9"`` (N or D, one of >= > <= <).

    Raises
    ------
    ScalinglabError
        An expression of another form, or one that holds out every row or none.
    """
    found = _HOLDOUT.match(expression)
    if not found:
        raise ScalinglabError(
            f"--holdout must look like 'N >= 3e9' (N or D, then >=, >, <= or <, then a "
            f"number); got {expression!r}."
        )
    name, op, text = found.groups()
    value = parse_quantity(text, name="--holdout")
    column = frame[N if name == "N" else D].to_numpy(dtype=float)
    mask = {
        ">=": column >= value,
        ">": column > value,
        "<=": column <= value,
        "<": column < value,
    }[op]
    if mask.all() or not mask.any():
        raise ScalinglabError(
            f"--holdout {expression!r} holds out {int(mask.sum())} of {mask.size} rows; "
            "it must leave rows on both sides."
        )
    return mask


def validate_task(
    data: Any,
    *,
    holdout: str,
    task_loss: str,
    metric: str,
    N: str = "N",
    D: str = "D",
    run: str | None = None,
    level: float = 0.95,
    **options: Any,
) -> dict[str, Any]:
    """Fit :func:`~scalinglab.downstream.fit_task` on the rows ``holdout`` keeps and
    predict the final checkpoint of every held-out run.

    With the sigmoid link, the two single-step baselines (Bhagia et al. 2024, section
    5) are fitted on the same final checkpoints and scored beside it: (N, D) -> metric
    and C -> metric (``C = 6 N D``); point fits, without intervals.

    Returns
    -------
    dict
        ``fit`` (the TaskFit), ``rows`` (per held-out run: N, D, actual and predicted
        metric and task loss, the metric's interval, errors, covered, and with the
        sigmoid link ``single_step`` and ``compute_only`` predictions) and ``scores``
        (mean absolute and relative error of metric and task loss, coverage, and with
        the sigmoid link ``single_step`` and ``compute_only``: each variant's
        ``abs_error`` and ``rel_error``).
    """
    frame, _ = load_frame(data)
    held = holdout_mask(frame, holdout, N=N, D=D)
    task = fit_task(
        frame[~held],
        task_loss=task_loss,
        metric=metric,
        N=N,
        D=D,
        run=run,
        **options,
    )
    test = _final_rows(frame[held].dropna(subset=[task_loss, metric]), D=D, run=run)
    n, d = (test[c].to_numpy(dtype=float) for c in (N, D))
    point = task.predict(N=n, D=d)
    low, high = task.predict_interval(level, N=n, D=d)["metric"]
    actual = test[metric].to_numpy(dtype=float)
    actual_loss = test[task_loss].to_numpy(dtype=float)
    error = point["metric"] - actual
    rows = [
        {
            "run": str(test[run].iloc[i]) if run else str(test.index[i]),
            "N": float(n[i]),
            "D": float(d[i]),
            "metric": float(actual[i]),
            "predicted": float(point["metric"][i]),
            "interval": [float(low[i]), float(high[i])],
            "abs_error": float(abs(error[i])),
            "rel_error": float(abs(error[i]) / actual[i]),
            "task_loss": float(actual_loss[i]),
            "predicted_task_loss": float(point["task_loss"][i]),
            "covered": bool(low[i] <= actual[i] <= high[i]),
        }
        for i in range(len(test))
    ]
    scores = {
        "abs_error": float(np.mean(np.abs(error))),
        "rel_error": float(np.mean(np.abs(error) / actual)),
        "task_loss_rel_error": float(
            np.mean(np.abs(point["task_loss"] / actual_loss - 1))
        ),
        "coverage": float(np.mean([r["covered"] for r in rows])),
        "level": level,
        "held_out_runs": len(rows),
    }
    if task.link == "sigmoid":
        _score_single_steps(frame[~held], task, n, d, actual, rows, scores)
    return {"fit": task, "rows": rows, "scores": scores}


def _score_single_steps(train, task, n, d, actual, rows, scores) -> None:
    """Add the (N, D) and C single-step predictions and errors to ``rows``/``scores``."""
    from .single import fit_single_step, fit_single_step_compute

    both = fit_single_step(train, task, bootstrap=0, seed=task.seed)
    compute = fit_single_step_compute(train, task, bootstrap=0, seed=task.seed)
    for key, point in (
        ("single_step", both.predict(N=n, D=d)),
        ("compute_only", compute.predict(C=6.0 * n * d)),
    ):
        error = np.abs(np.asarray(point, dtype=float) - actual)
        for i, row in enumerate(rows):
            row[key] = float(point[i])
        scores[key] = {
            "abs_error": float(np.mean(error)),
            "rel_error": float(np.mean(error / actual)),
        }


def _final_rows(frame, *, D: str, run: str | None):
    """The row with the most tokens of each run (every row without a run column)."""
    if run is None:
        return frame
    last = frame.groupby(run)[D].transform("max")
    return frame[frame[D] == last].drop_duplicates(subset=run, keep="last")
