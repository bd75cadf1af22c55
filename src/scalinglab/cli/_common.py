"""Small helpers shared by the CLI modules: the stdout console, JSON output, figures and quantity options."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._json import jsonable
from ..units import parse_quantity

PIPED_WIDTH = (
    160  # piped output: rich would wrap tables at 80 columns and cut the numbers
)


def _console(stderr: bool):
    from rich.console import Console

    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=PIPED_WIDTH)


def console():
    """The rich console for tables on stdout: the terminal's width, or 160 columns when piped."""
    return _console(False)


def err_console():
    """The rich console for notes on stderr (same width rule)."""
    return _console(True)


def new_table(title: str, columns: list[str], justify: str = "right"):
    """A rich table whose title never wraps inside a narrow table (it sets the minimum width)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", min_width=len(title))
    for column in columns:
        table.add_column(column, justify=justify)
    return table


def print_json(payload: Any) -> None:
    """Print one JSON object on stdout (the ``--json`` contract)."""
    sys.stdout.write(json.dumps(jsonable(payload), indent=2, allow_nan=False) + "\n")


def quantity(value: str | None, name: str) -> float | None:
    """Parse an optional CLI quantity such as ``1.3B``."""
    return None if value is None else parse_quantity(value, name=name)


def save_plot(figure, path: Path | None) -> None:
    """Save a command's figure (``--plot``) and say where."""
    if path is None:
        return
    from ..plot import save_figure

    save_figure(figure, path)
    err_console().print(f"[dim]figure saved to {path}[/dim]")


@contextmanager
def progress_bar(
    enabled: bool, label: str, *, delay: float = 1.0
) -> Iterator[Callable[[int, int], None] | None]:
    """A ``progress(done, total)`` callback drawing a rich bar on stderr for long work.

    Parameters
    ----------
    enabled : False for ``--json`` (and when the command has no long work).
    label : the bar's description, e.g. ``"bootstrap"``; a call may replace it with
        ``progress(done, total, label="report: validating")`` (work done in named steps).
    delay : seconds the work must last before the bar appears, so quick work prints nothing.

    Yields
    ------
    callable or None
        None when disabled or when stderr is not a terminal (library code then skips
        its progress calls); otherwise the callback. The bar is removed when the block ends.
    """
    if not (enabled and sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    started, state = time.perf_counter(), {}

    def update(done: int, total: int, label: str = label) -> None:
        if "bar" not in state and done < total:
            if time.perf_counter() - started < delay:
                return
            state["bar"] = Progress(
                "{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            state["bar"].start()
            state["task"] = state["bar"].add_task(label, total=total)
        if "bar" in state:
            state["bar"].update(
                state["task"], completed=done, total=total, description=label
            )

    try:
        yield update
    finally:
        if "bar" in state:
            state["bar"].stop()
