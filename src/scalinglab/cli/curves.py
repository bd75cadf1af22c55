"""``curve fit``, ``curve predict``, ``curve optimize``: loss curves under LR schedules."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from ..errors import ScalinglabError
from ._app import app
from ._common import print_json, save_plot
from ._options import JsonOpt, PlotOpt

console = Console()
curve_app = typer.Typer(help="Loss-curve laws: fit whole curves, predict any LR schedule.",
                        no_args_is_help=True)
app.add_typer(curve_app, name="curve")


def _load_curves(paths: list[Path], step, lr, loss, run, before):
    from ..analysis.curves import curve_from_log
    from ..io.logs import read_curves

    logs = [c for p in paths for c in read_curves(p, step=step, lr=lr, loss=loss, run=run)]
    return [curve_from_log(log, before=before) for log in logs]


@curve_app.command("fit")
def fit_cmd(
    curves: list[Path] = typer.Argument(..., help="Curve files or folders (CSV, JSONL, "
                                        "TensorBoard events, W&B CSV export).", show_default=False),
    law: str = typer.Option("multipower", help="multipower or tissue."),
    step: Optional[str] = typer.Option(None, "--step", help="Step column (default: step or an alias)."),
    lr: Optional[str] = typer.Option(None, "--lr", help="Learning-rate column or tag."),
    loss: Optional[str] = typer.Option(None, "--loss", help="Loss column or tag."),
    run: Optional[str] = typer.Option(None, "--run", help="Column telling curves apart in one file."),
    before: str = typer.Option("warmup", help="LR before the first logged step: warmup or constant."),
    bootstrap: int = typer.Option(100, help="Block-bootstrap replicates; 0 skips."),
    max_points: int = typer.Option(1000, help="Points kept per curve (longer ones are aggregated)."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Save the fit (JSON) here."),
    plot: Optional[Path] = PlotOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Fit a loss-curve law to whole training curves (step, lr, loss).

    Example: scalinglab curve fit runs/*.csv --law multipower --step step --lr lr --loss loss -o mpl.json
    """
    from ..analysis.curves import fit_curves

    data = _load_curves(curves, step, lr, loss, run, before)
    result = fit_curves(data, law=law, bootstrap=bootstrap, seed=seed, max_points=max_points)
    if output is not None:
        result.save(output)
    if plot is not None:
        from ..plot.curves import fit_figure

        save_plot(fit_figure(result, data), plot)
    if as_json:
        print_json(result.to_dict() | {"saved": str(output) if output else None, "draws": None})
        return
    _print_fit(result)


def _print_fit(result) -> None:
    ci = result.conf_int() if result.draws is not None else {}
    table = Table(title=f"{result.law} law, objective {result.objective:.4g}", title_justify="left")
    for column in ("param", "value", "95% CI"):
        table.add_column(column, justify="right")
    for name, value in result.params.items():
        interval = f"[{ci[name][0]:.4g}, {ci[name][1]:.4g}]" if name in ci else ""
        table.add_row(name, f"{value:.5g}", interval)
    console.print(table)
    for c in result.curves:
        console.print(f"{c['name']}: {c['points']} points, final error {c['final_rel_err']:+.3%}, "
                      f"mean |error| {c['mean_abs_rel_err']:.3%}")
    for d in result.diagnostics:
        console.print(f"[yellow]{d.message}[/yellow]")


@curve_app.command("predict")
def predict_cmd(
    fit_file: Path = typer.Option(..., "--fit", help="A fit saved with `curve fit -o`."),
    schedule: list[str] = typer.Option(..., "--schedule", help="CSV with step and lr columns, or a "
                                       "spec such as 'wsd:steps=72000,peak=3e-4,decay=0.2' (repeatable)."),
    points: int = typer.Option(200, help="Evenly spaced steps to predict."),
    plot: Optional[Path] = PlotOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Predict the loss curve under a learning-rate schedule.

    Example: scalinglab curve predict --fit mpl.json --schedule "cosine:steps=72000,peak=3e-4,final=3e-5"
    """
    from ..analysis.curves import load_curve_fit
    from ..analysis.schedules import parse_schedule

    result = load_curve_fit(fit_file)
    predictions = [result.predict(parse_schedule(s), points=points) for s in schedule]
    if plot is not None:
        from ..plot.curves import schedules_figure

        save_plot(schedules_figure(predictions), plot)
    if as_json:
        payloads = [p.to_dict() for p in predictions]
        print_json(payloads[0] if len(payloads) == 1 else {"predictions": payloads})
        return
    for p in predictions:
        band = f" [{p.ci95[0][-1]:.4f}, {p.ci95[1][-1]:.4f}]" if p.ci95 is not None else ""
        console.print(f"{p.schedule}: final loss {p.final_loss:.4f}{band} at step {p.steps[-1]}")
        for note in p.notes:
            console.print(f"[yellow]{note}[/yellow]")


@curve_app.command("optimize")
def optimize_cmd(
    fit_file: Path = typer.Option(..., "--fit", help="A fit saved with `curve fit -o`."),
    steps: str = typer.Option(..., "--steps", help="Total steps, e.g. 72000 or 72k."),
    peak: str = typer.Option(..., "--peak", help="Peak learning rate."),
    family: str = typer.Option("wsd", help="wsd (decay fraction x shape), cosine or linear (final LR)."),
    warmup: str = typer.Option("0", help="Warmup steps."),
    final: str = typer.Option("0", help="WSD: LR at the end of the decay."),
    decays: Optional[str] = typer.Option(None, help="WSD decay fractions, e.g. 0.1,0.2,0.3."),
    shapes: Optional[str] = typer.Option(None, help="WSD decay shapes, e.g. linear,sqrt,cosine."),
    top: int = typer.Option(10, help="Rows to show."),
    as_json: bool = JsonOpt,
) -> None:
    """Find the schedule in a family with the lowest predicted final loss.

    Example: scalinglab curve optimize --fit mpl.json --steps 72000 --peak 3e-4 --warmup 2160
    """
    from ..analysis.curves import optimize_schedule
    from ._options import parse_quantities

    options = {}
    if decays:
        options["decays"] = parse_quantities(decays, "--decays").tolist()
    if shapes:
        options["shapes"] = [s.strip() for s in shapes.split(",") if s.strip()]
    search = optimize_schedule(_load(fit_file), steps=int(parse_quantities(steps, "--steps")[0]),
                               peak=float(parse_quantities(peak, "--peak")[0]), family=family,
                               warmup=int(parse_quantities(warmup, "--warmup")[0]),
                               final=float(parse_quantities(final, "--final")[0]), **options)
    if as_json:
        print_json(search.to_dict())
        return
    _print_search(search, top)


def _load(path: Path):
    from ..analysis.curves import load_curve_fit

    return load_curve_fit(path)


def _print_search(search, top: int) -> None:
    if top < 1:
        raise ScalinglabError(f"--top must be >= 1; got {top}.")
    table = Table(title="schedules by predicted final loss", title_justify="left")
    for column in ("family", "decay", "shape", "final lr", "final loss", "95% CI", "P(best)"):
        table.add_column(column)
    for row in search.candidates[:top]:
        ci = row.get("ci95")
        table.add_row(row["family"], f"{row.get('decay', '')}", row.get("shape", ""),
                      f"{row['final']:.3g}", f"{row['final_loss']:.4f}",
                      f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "",
                      f"{row['p_best']:.2f}" if "p_best" in row else "")
    console.print(table)
