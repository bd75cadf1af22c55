"""The typer application every CLI module registers its commands on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="scalinglab",
    help=(
        "Plan, run, fit and validate neural scaling laws.\n\n"
        "Every command takes --json for machine-readable output. Quantities accept "
        "human forms: 7e9, 1.3B, 300M."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)
