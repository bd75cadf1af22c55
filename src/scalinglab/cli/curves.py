"""``curve fit``, ``curve predict``, ``curve optimize``: loss curves under LR schedules."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import ScalinglabError
from ..schedules import FAMILIES, spec_help, spec_keys
from ._app import app
from ._common import console, new_table, print_json, progress_bar, save_plot
from ._options import (
    JsonOpt,
    PlotOpt,
    bootstrap_option,
    parse_assignments,
    parse_bounds,
)

curve_app = typer.Typer(
    help="Loss-curve laws: fit whole curves, predict any LR schedule.",
    no_args_is_help=True,
)
app.add_typer(curve_app, name="curve")

_SPEC_HELP = (
    "A CSV with step and lr columns, or a spec FAMILY:KEY=VALUE,... (repeatable). Keys by "
    f"family: {spec_help()}. steps and peak are required; final defaults to 0, wsd decay to "
    "0.2 of all steps and shape to linear (linear, cosine, sqrt, exp, square); step "
    "milestones as 8000/12000 with factor 0.1; warmup defaults to the fitted curves' warmup. "
    "E.g. 'wsd:steps=72000,peak=3e-4,decay=0.2,shape=sqrt'."
)
_PREDICT_HELP = (
    "Predict the loss curve under a learning-rate schedule, and score it against an "
    "observed curve with --actual.\n\nA typed schedule without warmup= gets the warmup of "
    "the curves the law was fitted on (an error when they differ).\n\nExample: scalinglab "
    "curve predict --fit mpl.json --schedule 'cosine:steps=72000,peak=3e-4,final=3e-5' "
    "--actual cosine_72000.csv"
)


def _load_curves(paths: list[Path], step, lr, loss, run, before):
    from ..analysis.curves import curve_from_log
    from ..io.logs import read_curves

    logs = [
        c for p in paths for c in read_curves(p, step=step, lr=lr, loss=loss, run=run)
    ]
    return [curve_from_log(log, before=before) for log in logs]


@curve_app.command("fit")
def fit_cmd(
    curves: list[Path] = typer.Argument(
        ...,
        help="Curve files or folders (CSV, JSONL, TensorBoard events, W&B CSV export).",
        show_default=False,
    ),
    law: str = typer.Option("multipower", help="multipower or tissue."),
    step: str | None = typer.Option(
        None, "--step", help="Step column (default: step or an alias)."
    ),
    lr: str | None = typer.Option(None, "--lr", help="Learning-rate column or tag."),
    loss: str | None = typer.Option(None, "--loss", help="Loss column or tag."),
    run: str | None = typer.Option(
        None, "--run", help="Column telling curves apart in one file."
    ),
    before: str = typer.Option(
        "warmup", help="LR before the first logged step: warmup or constant."
    ),
    bootstrap: int = bootstrap_option(100, "Block-bootstrap replicates; 0 skips."),
    max_points: int = typer.Option(
        1000, help="Points kept per curve (longer ones are aggregated)."
    ),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    profile: str = typer.Option(
        "converged",
        help="Fitting procedure: converged (multi-start Levenberg-Marquardt to the "
        "objective's optimum) or luo2025 (multi-power only: the authors' AdamW, "
        "stopped early from their initialisation; it reproduces their published "
        "parameters; its bootstrap reruns it, about 1 s a replicate).",
    ),
    fix: list[str] | None = typer.Option(
        None, "--fix", help="Hold a parameter: NAME=VALUE (repeatable)."
    ),
    bound: list[str] | None = typer.Option(
        None, "--bound", help="Bound a parameter: NAME=LOW,HIGH (repeatable)."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Save the fit (JSON) here."
    ),
    plot: Path | None = PlotOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Fit a loss-curve law to whole training curves (step, lr, loss).

    Example: scalinglab curve fit runs/*.csv --law multipower --step step --lr lr --loss loss -o mpl.json
    """
    from ..analysis.curves import fit_curves

    data = _load_curves(curves, step, lr, loss, run, before)
    with progress_bar(not as_json and bootstrap > 0, "bootstrap") as progress:
        result = fit_curves(
            data,
            law=law,
            bootstrap=bootstrap,
            seed=seed,
            max_points=max_points,
            profile=profile,
            fixed=parse_assignments(fix, "--fix"),
            bounds=parse_bounds(bound),
            progress=progress,
        )
    if output is not None:
        result.save(output)
    if plot is not None:
        from ..plot.curves import fit_figure

        save_plot(fit_figure(result, data), plot)
    if as_json:
        print_json(
            result.to_dict() | {"saved": str(output) if output else None, "draws": None}
        )
        return
    _print_fit(result)


def _print_fit(result) -> None:
    from rich.markup import escape

    ci = result.conf_int() if result.draws is not None else {}
    title = f"{result.law} law, objective {result.objective:.4g}"
    table = new_table(title, ["param", "value", "95% CI"])
    for name, value in result.params.items():
        interval = f"[{ci[name][0]:.4g}, {ci[name][1]:.4g}]" if name in ci else ""
        table.add_row(name, f"{value:.5g}", interval)
    out = console()
    out.print(table)
    for c in result.curves:
        out.print(
            f"{c['name']}: {c['points']} points, warmup {c['warmup']} steps, final error "
            f"{c['final_rel_err']:+.3%}, mean |error| {c['mean_abs_rel_err']:.3%}"
        )
    for d in result.diagnostics:
        out.print(f"[yellow]{escape(d.message)}[/yellow]", highlight=False)


@curve_app.command("predict", help=_PREDICT_HELP)
def predict_cmd(
    fit_file: Path = typer.Option(
        ..., "--fit", help="A fit saved with `curve fit -o`."
    ),
    schedule: list[str] = typer.Option(..., "--schedule", help=_SPEC_HELP),
    actual: Path | None = typer.Option(
        None,
        "--actual",
        help="An observed curve (step, lr, loss) "
        "to score the prediction against (one --schedule).",
    ),
    points: int = typer.Option(200, help="Evenly spaced steps to predict."),
    plot: Path | None = PlotOpt,
    as_json: bool = JsonOpt,
) -> None:
    from ..analysis.curves import load_curve_fit

    result = load_curve_fit(fit_file)
    schedules = [_schedule(s, result) for s in schedule]
    predictions = [result.predict(s, points=points) for s in schedules]
    observed = _actual(actual, len(schedules))
    score = None if observed is None else _score(result, schedules[0], observed)
    if plot is not None:
        from ..plot.curves import schedules_figure

        save_plot(schedules_figure(predictions, observed=observed), plot)
    if as_json:
        payloads = [p.to_dict() for p in predictions]
        payload = payloads[0] if len(payloads) == 1 else {"predictions": payloads}
        print_json(payload if score is None else payload | {"actual": score})
        return
    _print_predictions(predictions, score)


def _schedule(text: str, result):
    """A schedule from a file or a spec; a spec without warmup= takes the fitted curves'."""
    from ..io.logs import parse_schedule

    is_spec = ":" in text and text.partition(":")[0].strip().lower() in FAMILIES
    if is_spec and "warmup" not in spec_keys(text):
        return parse_schedule(text, defaults={"warmup": result.default_warmup()})
    return parse_schedule(text)


def _actual(path: Path | None, n_schedules: int):
    if path is None:
        return None
    if n_schedules != 1:
        raise ScalinglabError(
            f"--actual scores one prediction; give one --schedule (got {n_schedules})."
        )
    curves = _load_curves([path], None, None, None, None, "warmup")
    if len(curves) != 1:
        raise ScalinglabError(
            f"--actual {path}: expected one curve, found {len(curves)}."
        )
    return curves[0]


def _score(result, schedule, observed) -> dict:
    from ..analysis.curves import score_prediction

    return score_prediction(result, schedule, observed)


def _print_predictions(predictions, score) -> None:
    from rich.markup import escape

    out = console()
    for p in predictions:
        band = (
            f" [{p.ci95[0][-1]:.4f}, {p.ci95[1][-1]:.4f}]" if p.ci95 is not None else ""
        )
        out.print(
            f"{p.schedule}: final loss {p.final_loss:.4f}{band} at step {p.steps[-1]}",
            highlight=False,
        )
        for note in p.notes:
            out.print(f"[yellow]{escape(note)}[/yellow]", highlight=False)
    if score is not None:
        out.print(
            f"observed {score['name']}: final loss {score['final_loss']:.4f} at step "
            f"{score['final_step']}, predicted {score['predicted']:.4f} "
            f"({score['final_rel_err']:+.3%}); mean |error| over {score['points']} points "
            f"{score['mean_abs_rel_err']:.3%}",
            highlight=False,
        )
        for note in score["notes"]:
            out.print(f"[yellow]{escape(note)}[/yellow]", highlight=False)


@curve_app.command("optimize")
def optimize_cmd(
    fit_file: Path = typer.Option(
        ..., "--fit", help="A fit saved with `curve fit -o`."
    ),
    steps: str = typer.Option(..., "--steps", help="Total steps, e.g. 72000 or 72k."),
    peak: str = typer.Option(..., "--peak", help="Peak learning rate."),
    family: str = typer.Option(
        "wsd", help="wsd (decay fraction x shape), cosine or linear (final LR)."
    ),
    warmup: str | None = typer.Option(
        None, help="Warmup steps (default: the fitted curves')."
    ),
    final: str = typer.Option("0", help="WSD: LR at the end of the decay."),
    decays: str | None = typer.Option(
        None, help="WSD decay fractions, e.g. 0.1,0.2,0.3."
    ),
    shapes: str | None = typer.Option(
        None, help="WSD decay shapes, e.g. linear,sqrt,cosine."
    ),
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
    fitted = _load(fit_file)
    warmup_steps = (
        fitted.default_warmup()
        if warmup is None
        else int(parse_quantities(warmup, "--warmup")[0])
    )
    search = optimize_schedule(
        fitted,
        steps=int(parse_quantities(steps, "--steps")[0]),
        peak=float(parse_quantities(peak, "--peak")[0]),
        family=family,
        warmup=warmup_steps,
        final=float(parse_quantities(final, "--final")[0]),
        **options,
    )
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
    table = new_table(
        "schedules by predicted final loss",
        ["family", "decay", "shape", "final lr", "final loss", "95% CI", "P(best)"],
        justify="left",
    )
    for row in search.candidates[:top]:
        ci = row.get("ci95")
        table.add_row(
            row["family"],
            f"{row.get('decay', '')}",
            row.get("shape", ""),
            f"{row['final']:.3g}",
            f"{row['final_loss']:.4f}",
            f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "",
            f"{row['p_best']:.2f}" if "p_best" in row else "",
        )
    console().print(table)
