"""Many tasks in one table: task columns by glob, and averages of tasks as a task."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ScalinglabError
from ._data import load_frame
from .chain import TaskFit, fit_task

__all__ = [
    "AVERAGE",
    "fit_tasks",
    "match_tasks",
    "read_chances",
    "task_chances",
    "with_average",
]

AVERAGE = "average"
# Column pairs a chance table may use: ours (accuracy in [0, 1]), and LLM Foundry's
# eval metadata as Gadre et al. ship it (raw/eval_metadata.csv, baseline in percent).
_CHANCE_COLUMNS = (("task", "chance", 1.0), ("Eval Task", "Random baseline", 100.0))


def match_tasks(
    columns, pattern: str, task_loss: str, only: list[str] | None = None
) -> dict[str, tuple[str, str]]:
    """Tasks whose metric column matches ``pattern`` (one ``*``), each with its task-loss
    column: ``task_loss`` with its ``*`` replaced by the part the metric's ``*`` matched
    (without a ``*``, one task loss shared by every task, as Gadre et al.'s C4 loss).
    ``only`` keeps the named tasks (each must match).

    Examples
    --------
    >>> cols = ["acc/arc", "acc/piqa", "bpb/arc", "bpb/piqa"]
    >>> match_tasks(cols, "acc/*", "bpb/*")
    {'arc': ('bpb/arc', 'acc/arc'), 'piqa': ('bpb/piqa', 'acc/piqa')}
    """
    if pattern.count("*") != 1 or task_loss.count("*") > 1:
        raise ScalinglabError(
            "--tasks must hold exactly one '*' (the task's name) and --task-loss at "
            f"most one; got {pattern!r} and {task_loss!r}."
        )
    head, tail = pattern.split("*")
    found = {}
    for column in map(str, columns):
        if fnmatch.fnmatchcase(column, pattern):
            name = column[len(head) : len(column) - len(tail)]
            found[name] = (task_loss.replace("*", name), column)
    if not found:
        raise ScalinglabError(f"no column matches --tasks {pattern!r}.")
    if only is not None:
        unknown = [name for name in only if name not in found]
        if unknown:
            raise ScalinglabError(
                f"--only names tasks that --tasks {pattern!r} does not match: "
                f"{', '.join(unknown[:5])}; matched: {', '.join(sorted(found)[:10])}."
            )
        found = {name: found[name] for name in only}
    missing = [tl for tl, _ in found.values() if tl not in set(map(str, columns))]
    if missing:
        raise ScalinglabError(
            f"--task-loss {task_loss!r} names columns the table lacks: {', '.join(missing[:5])}."
        )
    return found


def with_average(frame, tasks: dict[str, tuple[str, str]], chances=None):
    """The frame with two more columns, the mean task loss and mean metric over ``tasks``
    (rows missing any of them get NaN), the task dict with ``"average"`` added, and the
    average's chance (the mean of ``chances`` by task; None unless every task has one)."""
    losses = [tl for tl, _ in tasks.values()]
    metrics = [m for _, m in tasks.values()]
    columns = (f"{AVERAGE}_task_loss", f"{AVERAGE}_metric")
    frame = frame.assign(
        **{
            columns[0]: frame[losses].mean(axis=1, skipna=False),
            columns[1]: frame[metrics].mean(axis=1, skipna=False),
        }
    )
    known = [(chances or {}).get(t) for t in tasks]
    chance = None if None in known else float(np.mean(known))
    return frame, {**tasks, AVERAGE: columns}, chance


def fit_tasks(
    data: Any,
    tasks: dict[str, tuple[str, str]],
    *,
    chances: dict[str, float | None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> dict[str, TaskFit]:
    """:func:`~scalinglab.downstream.fit_task` for every task ``name -> (task loss, metric)``
    on one table, each with its chance level from ``chances`` (by name).

    ``progress(done, total)`` counts joint-bootstrap refits over every task, one
    monotone total (each task's count offset by the tasks before it).
    """
    frame, _ = load_frame(data)
    chances = chances or {}
    return {
        name: fit_task(
            frame,
            task_loss=tl,
            metric=m,
            chance=chances.get(name, options.get("chance")),
            name=name,
            progress=_task_progress(progress, i, len(tasks)),
            **{k: v for k, v in options.items() if k != "chance"},
        )
        for i, (name, (tl, m)) in enumerate(tasks.items())
    }


def _task_progress(
    progress: Callable[[int, int], None] | None, index: int, tasks: int
) -> Callable[[int, int], None] | None:
    """Task ``index``'s ``(done, total)`` as a count over all ``tasks`` equal-sized fits."""
    if progress is None:
        return None
    return lambda done, total: progress(index * total + done, tasks * total)


def read_chances(path: Any) -> dict[str, float]:
    """Chance accuracy by task name from a table: columns ``task`` and ``chance`` (in
    [0, 1]), or LLM Foundry's eval metadata (``Eval Task`` and ``Random baseline`` in
    percent, as Gadre et al.'s ``raw/eval_metadata.csv``).

    Raises
    ------
    ScalinglabError
        Neither pair of columns, or a chance outside [0, 1] (named by row).
    """
    frame, source = load_frame(path)
    for task, chance, scale in _CHANCE_COLUMNS:
        if {task, chance} <= set(frame.columns):
            values = frame[chance].to_numpy(dtype=float) / scale
            bad = np.flatnonzero(~((values >= 0) & (values <= 1)))
            if bad.size:
                raise ScalinglabError(
                    f"{source}: column {chance!r} must hold chance accuracies in "
                    f"[0, {scale:g}]; data row {int(bad[0]) + 1} holds "
                    f"{frame[chance].iloc[bad[0]]!r}."
                )
            return dict(zip(frame[task].astype(str), values.tolist()))
    raise ScalinglabError(
        f"{source}: a chance table needs columns 'task' and 'chance' (in [0, 1]) or "
        "'Eval Task' and 'Random baseline' (percent); it has "
        f"{', '.join(map(str, frame.columns[:8]))}."
    )


def task_chances(
    tasks, table: dict[str, float], *, default: float | None, error: bool
) -> dict[str, float | None]:
    """Each task's chance level: from ``table`` (accuracies; ``1 - chance`` when the
    metric is an ``error``), else ``default``."""
    return {
        name: (1.0 - table[name] if error else table[name])
        if name in table
        else default
        for name in tasks
    }
