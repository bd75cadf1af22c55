"""``validate``, ``compare-laws`` and ``compare``: extrapolation checks and recipe comparison."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import typer

from ._app import app  # noqa: F401
from ._common import console, new_table, print_json, progress_bar, save_plot
from ._options import (
    COpt,
    DataArg,
    DOpt,
    InputOpt,
    JsonOpt,
    LossOpt,
    NKindOpt,
    NOpt,
    PlotOpt,
    RunOpt,
    SeedOpt,
    WhereOpt,
    bootstrap_option,
    flag,
    one_of,
    parse_inputs,
    parse_quantities,
)
from .approaches import load_runs

HoldoutOpt = typer.Option(
    None, "--holdout", help='Hold out rows matching a query, e.g. "N >= 1e9".'
)
TopOpt = typer.Option(
    None,
    "--holdout-top",
    help="Hold out the largest fraction of rows by --by, e.g. 0.2.",
)
ByOpt = typer.Option(
    "N", "--by", help="Scale column for --holdout-top and --rolling: N, D or C."
)
RollingOpt = flag(
    "--rolling", "Fit on the k smallest scales, predict the next (every k)."
)
WidenOpt = typer.Option(
    "rolling",
    "--widen",
    help="'rolling' (default): widen intervals by the extrapolation error measured on "
    "the training rows; 'none': bootstrap and run scatter only.",
)
UOpt = typer.Option(
    None, "--U", help="Column with unique tokens (data_constrained law)."
)


def _runs_and_splits(
    data, N, D, C, loss, run, N_kind, where, holdout, top, by, rolling, inputs=None
):
    from ..analysis.validation import make_splits

    runs = load_runs(data, N, D, C, loss, run, N_kind, where)
    runs = runs.with_inputs(inputs or {})
    return runs, make_splits(runs, holdout=holdout, top=top, by=by, rolling=rolling)


def _law_taking(spec: str, inputs: dict[str, str]):
    """The law ``spec`` with those ``--input`` names it uses as inputs (a formula names them)."""
    from ..laws import LAWS, get_law

    if spec in LAWS or spec.startswith("power("):
        law = get_law(spec)
        return get_law(law, inputs=[n for n in inputs if n in law.inputs])
    used = [n for n in inputs if re.search(rf"\b{re.escape(n)}\b", spec)]
    return get_law(spec, inputs=used)


@app.command()
def validate(
    data: Path = DataArg,
    law: str = typer.Option("chinchilla", help="Law name or formula."),
    N: Optional[str] = NOpt,
    D: Optional[str] = DOpt,
    C: Optional[str] = COpt,
    loss: Optional[str] = LossOpt,
    run: Optional[str] = RunOpt,
    N_kind: str = NKindOpt,
    input: Optional[list[str]] = InputOpt,
    holdout: Optional[str] = HoldoutOpt,
    holdout_top: Optional[float] = TopOpt,
    by: str = ByOpt,
    rolling: bool = RollingOpt,
    widen: str = WidenOpt,
    bootstrap: int = bootstrap_option(200, "Bootstrap replicates per fit (intervals)."),
    seed: int = SeedOpt,
    where: Optional[str] = WhereOpt,
    plot: Optional[Path] = PlotOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Fit on the small scales, predict the held-out large ones, and score the predictions.

    Example: scalinglab validate runs.csv --law chinchilla --holdout "N >= 1e9" --json
    """
    from ..analysis.validation import validate as run_validate

    inputs = parse_inputs(input)
    runs, splits = _runs_and_splits(
        data,
        N,
        D,
        C,
        loss,
        run,
        N_kind,
        where,
        holdout,
        holdout_top,
        by,
        rolling,
        inputs,
    )
    with progress_bar(not as_json, "validate (bootstrap)") as progress:
        result = run_validate(
            _law_taking(law, inputs),
            runs,
            splits,
            bootstrap=bootstrap,
            seed=seed,
            widen=_widen(widen),
            progress=progress,
        )
    if plot is not None:
        from ..plot.validation import validation_figure

        save_plot(validation_figure(result, runs), plot)
    if as_json:
        print_json(result.to_dict())
        return
    _print_validation(result)


def _print_validation(result) -> None:
    columns = ["run", *result.fits[0].law.inputs, "actual", "predicted", "95% interval"]
    table = new_table(
        f"{result.law}: {result.description} ({result.interval})",
        [*columns, "rel error", "in"],
    )
    for p in result.points:
        table.add_row(
            p.run,
            *(f"{v:.4g}" for v in p.inputs.values()),
            f"{p.actual:.4f}",
            f"{p.predicted:.4f}",
            f"[{p.ci95[0]:.4f}, {p.ci95[1]:.4f}]",
            f"{p.rel_error:+.2%}",
            "yes" if p.in_ci95 else "no",
        )
    console().print(table)
    s = result.summary
    console().print(
        f"median |rel error| {s.median_abs_rel_error:.2%}, bias {s.bias:+.2%}, "
        f"coverage {s.coverage:.0%} of {s.n_heldout} (nominal 95%)"
    )
    for note in result.notes:
        console().print(f"[yellow]{note}[/yellow]")


@app.command("compare-laws")
def compare_laws(
    data: Path = DataArg,
    laws: str = typer.Option(
        "chinchilla,kaplan,overtraining", help="Comma-separated laws to rank."
    ),
    N: Optional[str] = NOpt,
    D: Optional[str] = DOpt,
    C: Optional[str] = COpt,
    loss: Optional[str] = LossOpt,
    run: Optional[str] = RunOpt,
    N_kind: str = NKindOpt,
    input: Optional[list[str]] = InputOpt,
    holdout: Optional[str] = HoldoutOpt,
    holdout_top: Optional[float] = TopOpt,
    by: str = ByOpt,
    rolling: bool = RollingOpt,
    widen: str = WidenOpt,
    bootstrap: int = bootstrap_option(200, "Bootstrap replicates per fit."),
    seed: int = SeedOpt,
    where: Optional[str] = WhereOpt,
    plot: Optional[Path] = PlotOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Rank laws by held-out error under one split, with the in-sample fit quality beside it.

    Example: scalinglab compare-laws runs.csv --laws chinchilla,kaplan --holdout-top 0.2 --by C
    """
    from ..analysis.validation import compare_laws as run_compare_laws

    inputs = parse_inputs(input)
    runs, splits = _runs_and_splits(
        data,
        N,
        D,
        C,
        loss,
        run,
        N_kind,
        where,
        holdout,
        holdout_top,
        by,
        rolling,
        inputs,
    )
    names = [name.strip() for name in laws.split(",") if name.strip()]
    with progress_bar(not as_json, "compare laws (bootstrap)") as progress:
        scores, validations = run_compare_laws(
            [_law_taking(name, inputs) for name in names],
            runs,
            splits,
            bootstrap=bootstrap,
            seed=seed,
            widen=_widen(widen),
            progress=progress,
        )
    if plot is not None:
        from ..plot.validation import compare_laws_figure

        save_plot(compare_laws_figure(validations), plot)
    if as_json:
        print_json(
            {"holdout": splits[0].description, "ranking": [s.to_dict() for s in scores]}
        )
        return
    table = new_table(
        f"laws ranked by held-out median |rel error| ({splits[0].description})",
        ["rank", "law", "params", "held-out", "bias", "coverage", "in-sample"]
        + ["in-sample rmse(log)"],
    )
    for s in scores:
        table.add_row(
            str(s.rank or "-"),
            s.law,
            str(s.n_params),
            f"{s.median_abs_rel_error:.2%}",
            f"{s.bias:+.2%}",
            f"{s.coverage:.0%}",
            f"{s.in_sample_median_abs_rel_error:.2%}",
            f"{s.in_sample_rmse_log:.4f}",
        )
    console().print(table)
    for s in scores:
        if s.error:
            console().print(f"[yellow]{s.law} not fitted: {s.error}[/yellow]")


@app.command()
def compare(
    data: Path = DataArg,
    law: str = typer.Option(
        "chinchilla", help="Law of (N, D) with an optimum, or a law of C (power)."
    ),
    group: str = typer.Option(..., "--group", help="Column naming each run's recipe."),
    baseline: str = typer.Option(
        ..., "--baseline", help="The recipe to compare against."
    ),
    N: Optional[str] = NOpt,
    D: Optional[str] = DOpt,
    C: Optional[str] = COpt,
    loss: Optional[str] = LossOpt,
    run: Optional[str] = RunOpt,
    N_kind: str = NKindOpt,
    budgets: Optional[str] = typer.Option(
        None, "--budgets", help="Budgets (FLOPs) for the multiplier, e.g. 1e20,1e22."
    ),
    target_loss: Optional[float] = typer.Option(
        None, "--target-loss", help="Loss at which tokens are compared."
    ),
    bootstrap: int = bootstrap_option(
        500, "Paired-bootstrap replicates (at least 20).", 20
    ),
    seed: int = SeedOpt,
    where: Optional[str] = WhereOpt,
    plot: Optional[Path] = PlotOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Compute multiplier of each recipe over a baseline, by budget, with paired-bootstrap intervals.

    Example: scalinglab compare runs.csv --law chinchilla --group recipe --baseline A --json
    """
    from ..analysis.compare import compare as run_compare

    runs = load_runs(data, N, D, C, loss, run, N_kind, where)
    with progress_bar(not as_json, "compare (bootstrap)") as progress:
        result = run_compare(
            law,
            runs,
            group,
            baseline,
            budgets=parse_quantities(budgets, "--budgets") if budgets else None,
            target_loss=target_loss,
            bootstrap=bootstrap,
            seed=seed,
            progress=progress,
        )
    if plot is not None:
        from ..plot.validation import compare_figure

        save_plot(compare_figure(result), plot)
    if as_json:
        print_json(result.to_dict())
        return
    _print_compare(result)


def _print_compare(result) -> None:
    table = new_table(
        f"compute multiplier vs {result.baseline} ({result.law}, {result.pairing})",
        ["group", "C", "multiplier [95%]"],
    )
    for g in result.groups:
        for row in g.budgets:
            table.add_row(
                g.group,
                f"{row['C']:.3g}",
                f"{row['value']:.3g} [{row['ci95'][0]:.3g}, {row['ci95'][1]:.3g}]",
            )
    console().print(table)
    for g in result.groups:
        tokens = (
            ""
            if g.token_ratio is None
            else f"; baseline needs {g.token_ratio:.3g}x the tokens at loss {g.target_loss:.4g}"
        )
        console().print(
            f"{g.group}: multiplier {g.multiplier:.3g} [{g.ci95[0]:.3g}, {g.ci95[1]:.3g}] at C={g.C_median:.3g}, "
            f"{g.verdict} (d log m / d log C = {g.trend:+.3f}){tokens}"
        )
    for note in result.notes:
        console().print(f"[yellow]{note}[/yellow]")


def _widen(option: str) -> str | None:
    return None if one_of(option, "--widen", ("rolling", "none")) == "none" else option
