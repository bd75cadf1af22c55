"""Command-line interface: ``scalinglab --help``.

Thin by design: parse, call the library, print. Each area registers its
commands on the shared app in its own module. Those modules import numpy,
pandas, scipy and rich, so they are imported only when one of their commands
runs: ``scalinglab --help`` lists the commands from the table
:data:`~scalinglab.cli._app.COMMANDS` alone (a test checks the table against the
commands the modules register).
"""

from __future__ import annotations

import sys

import typer

from ..errors import ScalinglabError
from ._app import COMMANDS, app

__all__ = ["COMMANDS", "app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: exit 0 on success, 1 on bad input, 2 on bad usage (typer's own handling)."""
    try:
        app(args=argv, prog_name="scalinglab")
    except ScalinglabError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)
