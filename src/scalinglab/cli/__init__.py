"""Command-line interface: ``scalinglab --help``.

Thin by design: parse, call the library, print. Each area registers its
commands on the shared app in its own module.
"""

from __future__ import annotations

import sys

import typer

from ..errors import ScalinglabError
from ._app import app
from . import core  # noqa: F401  fit, predict, optimal, laws
from . import approaches  # noqa: F401  isoflop, envelope, chinchilla
from . import validation  # noqa: F401  validate, compare-laws, compare
from . import curves  # noqa: F401  curve fit/predict/optimize
from . import hparams  # noqa: F401  hparams fit/suggest, critical-batch
from . import runner  # noqa: F401  plan, run, status, export, demo

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: exit 0 on success, 1 on bad input, 2 on bad usage (typer's own handling)."""
    try:
        app(args=argv, prog_name="scalinglab")
    except ScalinglabError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)
