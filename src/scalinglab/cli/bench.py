"""``bench sldbench``: our laws on SLDBench's tasks, beside each task's human-designed law."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import sub_app
from ._common import console, new_table, print_json
from ._options import JsonOpt

bench_app = sub_app("bench")


@bench_app.command("sldbench")
def sldbench(
    folder: Path = typer.Argument(
        ...,
        help="The SLDBench data folder (one sub-folder per task).",
        show_default=False,
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Fit each task's applicable laws on its training split; R^2 and median error on the held-out split.

    Example: scalinglab bench sldbench ../shared/data/sldbench_early --json
    """
    from ..bench.sldbench import run_sldbench

    tasks = run_sldbench(folder)
    if as_json:
        print_json({"tasks": [t.to_dict() for t in tasks]})
        return
    columns = ["task", "our law", "R^2", "median |rel err|", "human law", "human R^2"]
    table = new_table("SLDBench: held-out (extrapolation) split", columns)
    for t in tasks:
        table.add_row(
            t.task,
            t.law or "-",
            _number(t.r2),
            _percent(t.median_rel_error),
            t.human_law,
            _number(t.human_r2),
        )
    console().print(table)
    for t in tasks:
        if t.note:
            console().print(f"[dim]{t.task}: {t.note}[/dim]")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"
