"""The typer application every CLI module registers its commands on.

The command modules import numpy, pandas, scipy and rich; :class:`LazyGroup`
imports one only when one of its commands runs (or asks for its own help), and
lists every command from :data:`COMMANDS`, so ``scalinglab --help`` starts in a
fraction of a second.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # typer vendors its own click; importing the real one costs start-up
    from typer._click import Context, HelpFormatter

# Command name -> (module that registers it, first paragraph of its help), in --help order.
COMMANDS: dict[str, tuple[str, str]] = {
    "fit": ("core", "Fit a scaling law with bootstrap intervals and diagnostics."),
    "predict": (
        "core",
        (
            "Predict the loss of a planned run, with an interval when the fit has "
            "bootstrap draws."
        ),
    ),
    "optimal": (
        "core",
        (
            "Compute-optimal N*, D*, loss and tokens per parameter for a budget; with "
            "lifetime options\n(--inference-tokens, --target-loss, --unique-tokens, caps, "
            "--cost) the lifetime optimum."
        ),
    ),
    "laws": (
        "core",
        "List the registered laws (formula, inputs, parameters) or the published presets.",
    ),
    "isoflop": (
        "approaches",
        "Chinchilla approach 2: per-budget loss profiles, N_opt ~ C^a and D_opt ~ C^b.",
    ),
    "envelope": (
        "approaches",
        (
            "Chinchilla approach 1: lowest loss at each compute, N_opt ~ C^a, D_opt ~ C^b, "
            "L(C)."
        ),
    ),
    "chinchilla": (
        "approaches",
        "All Chinchilla approaches the data allows, side by side, with disagreements.",
    ),
    "validate": (
        "validation",
        (
            "Fit on the small scales, predict the held-out large ones, and score the "
            "predictions."
        ),
    ),
    "compare-laws": (
        "validation",
        (
            "Rank laws by held-out error under one split, with the in-sample fit quality "
            "beside it."
        ),
    ),
    "compare": (
        "validation",
        (
            "Compute multiplier of each recipe over a baseline, by budget, with "
            "paired-bootstrap intervals."
        ),
    ),
    "critical-batch": (
        "hparams",
        "Critical batch size from the steps/examples trade-off (McCandlish et al. 2018).",
    ),
    "run": (
        "runner",
        (
            "Run every unfinished run of PLAN into the study; rerun the same command to "
            "resume."
        ),
    ),
    "status": ("runner", "Show each run of a study: state, progress and final loss."),
    "export": (
        "runner",
        (
            "Write the run table (N, D, C, loss, run and the plan's columns) that `fit` "
            "reads."
        ),
    ),
    "demo": (
        "runner",
        "Plan, train and fit a small ladder on this CPU, then predict its largest run.",
    ),
    "curve": ("curves", "Loss-curve laws: fit whole curves, predict any LR schedule."),
    "hparams": ("hparams", "Learning-rate and batch-size laws from sweeps or presets."),
    "report": (
        "report",
        (
            "Fit, validate and compare laws, then write one offline HTML report with "
            "every figure."
        ),
    ),
    "plan": (
        "runner",
        "Design a ladder or an IsoFLOP grid of training runs and save it as a plan.",
    ),
    "frontier": (
        "decide",
        "Lifetime optima as inference demand or budget varies: table and figure.",
    ),
    "task": (
        "task",
        "Task accuracy through task loss: (N, D) -> task loss -> accuracy, joint intervals.",
    ),
    "loss2loss": (
        "task",
        "Loss-to-loss laws: L_y = K (L_x - E_x)^kappa + E_y (Brandfonbrener et al. 2024).",
    ),
    "observational": (
        "task",
        "Observational scaling (Ruan et al. 2024): public models' benchmarks, no training.",
    ),
    "testtime": (
        "decide",
        "Test-time scaling: pass@k laws from repeated samples; N, D and k together (T^2).",
    ),
    "mix": (
        "mix",
        "Data mixtures: RegMix regressions (mix fit) and the proportions that minimise "
        "fitted mixing laws or RegMix fits, within bounds (mix optimize).",
    ),
    "bench": (
        "bench",
        "Benchmarks: our laws on SLDBench's extrapolation splits beside the human laws.",
    ),
}


def load(name: str | None = None) -> None:
    """Import the module that registers command ``name``, or every command module."""
    if name in COMMANDS:
        modules = {COMMANDS[name][0]}
    else:
        modules = {module for module, _ in COMMANDS.values()}
    for module in sorted(modules):
        importlib.import_module(f"{__package__}.{module}")


def plain_help_flag(command: Any, ctx: Context) -> None:
    """Show typer's own ``--help`` as the bare flag in ``command`` and its subcommands.

    typer draws it with a ``<bool>`` value type nobody types; the project's flags
    drop it the same way (:func:`scalinglab.cli._options.flag`).
    """
    option = command.get_help_option(ctx)
    if option is not None:
        option.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        plain_help_flag(sub, ctx)


class LazyGroup(TyperGroup):
    _listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True  # the command list needs names and summaries only
        plain_help_flag(self, ctx)
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def get_command(self, ctx: Context, name: str) -> TyperCommand | None:
        if self._listing and name in COMMANDS:
            return TyperCommand(name, help=COMMANDS[name][1])
        if name not in self.commands:
            load(name)
            self.commands.update(typer.main.get_group(app).commands)
        command = self.commands.get(name)
        if command is not None:
            plain_help_flag(command, ctx)
        return command


app = typer.Typer(
    name="scalinglab",
    cls=LazyGroup,
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


@app.callback()
def _group() -> None:
    # A callback makes typer build a group before any command module is imported.
    pass


def sub_app(name: str) -> typer.Typer:
    """A command group ``scalinglab NAME ...`` registered on :data:`app`, its help the
    summary in :data:`COMMANDS` (one text for both listings)."""
    group = typer.Typer(help=COMMANDS[name][1], no_args_is_help=True)
    app.add_typer(group, name=name)
    return group
