"""``isoflop``, ``envelope`` and ``chinchilla``: Chinchilla's approaches from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ._app import app  # noqa: F401
from ._common import console, print_json, progress_bar, save_plot
from ._options import (
    COpt,
    DataArg,
    DOpt,
    JsonOpt,
    LossOpt,
    NKindOpt,
    NOpt,
    PlotOpt,
    RunOpt,
    SeedOpt,
    WhereOpt,
    parse_quantities,
)


def load_runs(data: Path, N, D, C, loss, run, N_kind, where: Optional[str]):
    """The run table with the user's column mapping, filtered by ``--where``."""
    from .core import read_columns

    runs = read_columns(data, N, D, C, loss, run, None, N_kind)
    return runs.query(where) if where else runs


def _ci(value: float, ci) -> str:
    return f"{value:.4g} [{ci[0]:.4g}, {ci[1]:.4g}]"


@app.command()
def isoflop(
    data: Path = DataArg,
    N: Optional[str] = NOpt,
    D: Optional[str] = DOpt,
    C: Optional[str] = COpt,
    loss: Optional[str] = LossOpt,
    run: Optional[str] = RunOpt,
    N_kind: str = NKindOpt,
    budget: Optional[str] = typer.Option(
        None, "--budget", help="Column labelling each run's budget (default: group C)."
    ),
    rtol: float = typer.Option(
        0.05, help="Relative gap in C that starts a new budget."
    ),
    profile: str = typer.Option(
        "parabola",
        help="Profile in log N: parabola, cubic, or porian (Akima interpolation "
        "with seed-noise redraws, as Porian et al. 2024).",
    ),
    window: float = typer.Option(
        10.0,
        help="Fit only runs within this factor in N of each budget's best run "
        "(inf: every run).",
    ),
    noise: float = typer.Option(
        0.002,
        help="Seed-to-seed sd of the final loss, for --profile porian "
        "(Porian et al.: 0.002 RefinedWeb, 0.01 OpenWebText2).",
    ),
    draws: int = typer.Option(1000, help="Draws for the two-stage intervals."),
    seed: int = SeedOpt,
    where: Optional[str] = WhereOpt,
    plot: Optional[Path] = PlotOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Chinchilla approach 2: per-budget loss profiles, N_opt ~ C^a and D_opt ~ C^b.

    Example: scalinglab isoflop runs.csv --N params --C flops --loss loss --json
    """
    from ..analysis.isoflop import isoflop as run_isoflop

    runs = load_runs(data, N, D, C, loss, run, N_kind, where).final()
    labels = runs.frame[budget].to_numpy() if budget else None
    with progress_bar(not as_json, "isoflop (budget profiles)") as progress:
        result = run_isoflop(
            *(runs.array(k) for k in ("N", "D", "C", "loss")),
            budget=labels,
            rtol=rtol,
            profile=profile,
            window=window,
            noise=noise,
            draws=draws,
            seed=seed,
            progress=progress,
        )
    if plot is not None:
        from ..plot.approaches import isoflop_figure

        save_plot(
            isoflop_figure(
                result, runs.array("N"), runs.array("loss"), runs.array("C")
            ),
            plot,
        )
    if as_json:
        print_json(result.to_dict())
        return
    _print_budgets(result)


def _print_budgets(result) -> None:
    table = Table(
        title=f"IsoFLOP optima ({result.profile}, 95% intervals)", title_justify="left"
    )
    for column in ("C", "points", "N_opt", "D_opt", "loss_opt", "used", "flags"):
        table.add_column(column, justify="right" if column != "flags" else "left")
    for b in result.budgets:
        table.add_row(
            f"{b.C:.3g}",
            str(b.n_points),
            _ci(b.N_opt, b.ci95["N_opt"]),
            _ci(b.D_opt, b.ci95["D_opt"]),
            _ci(b.loss_opt, b.ci95["loss_opt"]),
            "yes" if b.used else "no",
            "; ".join(b.flags),
        )
    console().print(table)
    console().print(f"a (N_opt ~ C^a) = {_ci(result.a.exponent, result.a.ci95)}")
    console().print(f"b (D_opt ~ C^b) = {_ci(result.b.exponent, result.b.ci95)}")
    for note in result.notes:
        console().print(f"[yellow]{note}[/yellow]")


@app.command()
def envelope(
    data: Path = DataArg,
    N: Optional[str] = NOpt,
    D: Optional[str] = DOpt,
    C: Optional[str] = COpt,
    loss: Optional[str] = LossOpt,
    run: Optional[str] = RunOpt,
    N_kind: str = NKindOpt,
    checkpoints: Optional[str] = typer.Option(
        None,
        "--checkpoints",
        help="Which rows are usable: final, all (constant LR / post-decay) or a true/false COLUMN.",
    ),
    points: int = typer.Option(64, help="Log-spaced compute values across the data."),
    bootstrap: int = typer.Option(200, help="Run-bootstrap replicates."),
    seed: int = SeedOpt,
    where: Optional[str] = WhereOpt,
    plot: Optional[Path] = PlotOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Chinchilla approach 1: lowest loss at each compute, N_opt ~ C^a, D_opt ~ C^b, L(C).

    Example: scalinglab envelope curves.csv --run run --checkpoints final --json
    """
    from ..analysis.envelope import envelope as run_envelope
    from ..analysis.envelope import usable_rows

    runs = load_runs(data, N, D, C, loss, run, N_kind, where)
    with progress_bar(not as_json, "envelope (bootstrap)") as progress:
        result = run_envelope(
            *(runs.array(k) for k in ("N", "D", "C", "loss")),
            runs.frame["run"].to_numpy(),
            usable=usable_rows(runs, checkpoints),
            points=points,
            bootstrap=bootstrap,
            seed=seed,
            progress=progress,
        )
    if plot is not None:
        from ..plot.approaches import envelope_figure

        save_plot(envelope_figure(result, runs.array("C"), runs.array("loss")), plot)
    if as_json:
        print_json(result.to_dict())
        return
    console().print(f"a (N_opt ~ C^a) = {_ci(result.a.exponent, result.a.ci95)}")
    console().print(f"b (D_opt ~ C^b) = {_ci(result.b.exponent, result.b.ci95)}")
    if result.loss_fit is not None:
        ci = result.loss_fit.conf_int()
        console().print(
            "L(C) = E + A C^-alpha: "
            + ", ".join(
                _ci(v, ci[k]).join([f"{k}=", ""])
                for k, v in result.loss_fit.params.items()
            )
        )
    for note in result.notes:
        console().print(f"[dim]{note}[/dim]")


@app.command()
def chinchilla(
    data: Path = DataArg,
    N: Optional[str] = NOpt,
    D: Optional[str] = DOpt,
    C: Optional[str] = COpt,
    loss: Optional[str] = LossOpt,
    run: Optional[str] = RunOpt,
    N_kind: str = NKindOpt,
    budgets: str = typer.Option(
        "1e21,1e23,1e25", help="Budgets (FLOPs) for tokens per parameter."
    ),
    checkpoints: Optional[str] = typer.Option(
        None, "--checkpoints", help="Rows the envelope may use (see envelope)."
    ),
    profile: str = typer.Option(
        "parabola", help="IsoFLOP profile: parabola, cubic or porian."
    ),
    window: float = typer.Option(
        10.0, help="IsoFLOP window factor in N (inf: every run)."
    ),
    rtol: float = typer.Option(
        0.05, help="Relative gap in C that starts a new IsoFLOP budget."
    ),
    bootstrap: int = typer.Option(200, help="Bootstrap replicates for every approach."),
    seed: int = SeedOpt,
    where: Optional[str] = WhereOpt,
    plot: Optional[Path] = PlotOpt,
    as_json: bool = JsonOpt,
) -> None:
    """All Chinchilla approaches the data allows, side by side, with disagreements.

    Example: scalinglab chinchilla runs.csv --budgets 1e21,1e24 --json
    """
    from ..analysis.chinchilla_approaches import chinchilla_approaches

    runs = load_runs(data, N, D, C, loss, run, N_kind, where)
    with progress_bar(not as_json, "approaches 1-3 (bootstrap)") as progress:
        result = chinchilla_approaches(
            runs,
            budgets=parse_quantities(budgets, "--budgets"),
            checkpoints=checkpoints,
            profile=profile,
            window=window,
            rtol=rtol,
            bootstrap=bootstrap,
            seed=seed,
            progress=progress,
        )
    if plot is not None:
        from ..plot.approaches import approaches_figure

        save_plot(approaches_figure(result), plot)
    if as_json:
        print_json(result.to_dict())
        return
    _print_approaches(result)


def _print_approaches(result) -> None:
    table = Table(title="Chinchilla approaches (95% intervals)", title_justify="left")
    budgets = result.estimates[0].budgets if result.estimates else ()
    for column in ("approach", "a", "b", *(f"D/N at {c:.3g}" for c in budgets)):
        table.add_column(column, justify="right")
    for e in result.estimates:
        ratios = [
            _ci(v, ci) for v, ci in zip(e.tokens_per_param, e.tokens_per_param_ci95)
        ]
        table.add_row(e.name, _ci(e.a, e.a_ci95), _ci(e.b, e.b_ci95), *ratios)
    console().print(table)
    for name, why in result.skipped.items():
        console().print(f"[dim]{name} skipped: {why}[/dim]")
    for line in result.disagreements or (
        "no two approaches disagree beyond their intervals",
    ):
        console().print(f"[yellow]{line}[/yellow]")
