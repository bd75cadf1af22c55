"""Small helpers shared by the CLI modules: the stdout console, JSON output, figures and quantity options."""

from __future__ import annotations

import json
import sys
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
