"""Many tasks in one table: task columns by glob, and averages of tasks as a task."""

from __future__ import annotations

import fnmatch
from typing import Any

import numpy as np

from ..errors import ScalinglabError
from ._data import load_frame
from .chain import TaskFit, fit_task

__all__ = ["AVERAGE", "fit_tasks", "match_tasks", "with_average"]

AVERAGE = "average"


def match_tasks(columns, pattern: str, task_loss: str) -> dict[str, tuple[str, str]]:
    """Tasks whose metric column matches ``pattern`` (one ``*``), each with its task-loss
    column: ``task_loss`` with its ``*`` replaced by the part the metric's ``*`` matched.

    Examples
    --------
    >>> cols = ["acc/arc", "acc/piqa", "bpb/arc", "bpb/piqa"]
    >>> match_tasks(cols, "acc/*", "bpb/*")
    {'arc': ('bpb/arc', 'acc/arc'), 'piqa': ('bpb/piqa', 'acc/piqa')}
    """
    for text, option in ((pattern, "--tasks"), (task_loss, "--task-loss")):
        if text.count("*") != 1:
            raise ScalinglabError(
                f"{option} must hold exactly one '*' (the task's name) with --tasks; got {text!r}."
            )
    head, tail = pattern.split("*")
    found = {}
    for column in map(str, columns):
        if fnmatch.fnmatchcase(column, pattern):
            name = column[len(head) : len(column) - len(tail)]
            found[name] = (task_loss.replace("*", name), column)
    if not found:
        raise ScalinglabError(f"no column matches --tasks {pattern!r}.")
    missing = [tl for tl, _ in found.values() if tl not in set(map(str, columns))]
    if missing:
        raise ScalinglabError(
            f"--task-loss {task_loss!r} names columns the table lacks: {', '.join(missing[:5])}."
        )
    return found


def with_average(frame, tasks: dict[str, tuple[str, str]], chances=None):
    """The frame with two more columns, the mean task loss and mean metric over ``tasks``
    (rows missing any of them get NaN), the task dict with ``"average"`` added, and the
    average's chance (the mean of ``chances`` by task, None without them)."""
    losses = [tl for tl, _ in tasks.values()]
    metrics = [m for _, m in tasks.values()]
    columns = (f"{AVERAGE}_task_loss", f"{AVERAGE}_metric")
    frame = frame.assign(
        **{
            columns[0]: frame[losses].mean(axis=1, skipna=False),
            columns[1]: frame[metrics].mean(axis=1, skipna=False),
        }
    )
    chance = None if chances is None else float(np.mean([chances[t] for t in tasks]))
    return frame, {**tasks, AVERAGE: columns}, chance


def fit_tasks(
    data: Any,
    tasks: dict[str, tuple[str, str]],
    *,
    chances: dict[str, float | None] | None = None,
    **options: Any,
) -> dict[str, TaskFit]:
    """:func:`~scalinglab.downstream.fit_task` for every task ``name -> (task loss, metric)``
    on one table, each with its chance level from ``chances`` (by name)."""
    frame, _ = load_frame(data)
    chances = chances or {}
    return {
        name: fit_task(
            frame,
            task_loss=tl,
            metric=m,
            chance=chances.get(name, options.get("chance")),
            name=name,
            **{k: v for k, v in options.items() if k != "chance"},
        )
        for name, (tl, m) in tasks.items()
    }
