"""``task fit|predict|validate`` and ``loss2loss fit``: downstream prediction."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .._json import jsonable
from ..errors import ScalinglabError
from ._app import sub_app
from ._common import (
    console,
    err_console,
    new_table,
    print_json,
    progress_bar,
    quantity,
    save_plot,
)
from ._options import (
    DataArg,
    JsonOpt,
    LevelOpt,
    PlotOpt,
    bootstrap_option,
    flag,
    one_of,
)

task_app = sub_app("task")
loss2loss_app = sub_app("loss2loss")

MULTI_FORMAT = "scalinglab-tasks/1"
_LINKS = ("sigmoid", "exp", "linear")

NCol = typer.Option("N", "--N", help="Column with parameters.")
DCol = typer.Option("D", "--D", help="Column with tokens seen.")
TaskLossOpt = typer.Option(
    ...,
    "--task-loss",
    help="Column with the task loss (bits per byte or CE of the correct answer); with "
    "--tasks a template whose '*' is the task's name.",
)
MetricOpt = typer.Option(
    None,
    "--metric",
    help="Column with the metric in [0, 1] (accuracy; error for --link exp).",
)
RunCol = typer.Option(
    None,
    "--run",
    help="Column naming each row's run (checkpoints); default: every row a run.",
)
LinkOpt = typer.Option(
    "sigmoid", "--link", help="sigmoid, exp (Gadre et al.) or linear."
)
ChanceOpt = typer.Option(
    None, "--chance", help="The metric at chance (checked, warnings; --floor chance)."
)
FloorOpt = typer.Option(
    "free",
    "--floor",
    help="Sigmoid floor b: free (fitted, as the paper) or chance (held at --chance).",
)
LawOpt = typer.Option(
    "chinchilla", "--law", help="Step-1 law of N and D (name or formula)."
)
LinkRowsOpt = typer.Option(
    "all", "--link-rows", help="Rows of the link fit: all (every checkpoint) or final."
)
TasksOpt = typer.Option(
    None,
    "--tasks",
    help="Glob of metric columns with one '*' (the task's name), e.g. "
    "'eval/downstream/*_len_norm': one fit per task, one table.",
)
AverageOpt = flag(
    "--average", "With --tasks: also fit the average of the tasks as a task."
)
ChancesOpt = typer.Option(
    None,
    "--chances",
    help="With --tasks: a table of each task's chance accuracy (columns task, chance; "
    "or LLM Foundry's 'Eval Task', 'Random baseline' in percent); 1 - chance with "
    "--link exp. Tasks it lacks take --chance; the average takes the mean.",
)
OnlyOpt = typer.Option(
    None, "--only", help="With --tasks: comma-separated task names to keep."
)
OutputOpt = typer.Option(..., "-o", "--output", help="Where to save the fit (JSON).")
FitOpt = typer.Option(..., "--fit", help="A fit saved by `scalinglab task fit`.")
SeedOpt = typer.Option(
    0, "--seed", help="Seed of the joint bootstrap and interval noise."
)


def _options(N, D, run, link, chance, floor, law, link_rows, bootstrap, seed) -> dict:
    return {
        "floor": one_of(floor, "--floor", ("free", "chance")),
        "N": N,
        "D": D,
        "run": run,
        "link": one_of(link, "--link", _LINKS),
        "chance": chance,
        "law": law,
        "link_rows": one_of(link_rows, "--link-rows", ("all", "final")),
        "bootstrap": bootstrap,
        "seed": seed,
    }


@task_app.command("fit")
def fit_cmd(
    data: Path = DataArg,
    N: str = NCol,
    D: str = DCol,
    task_loss: str = TaskLossOpt,
    metric: str | None = MetricOpt,
    run: str | None = RunCol,
    link: str = LinkOpt,
    chance: float | None = ChanceOpt,
    floor: str = FloorOpt,
    law: str = LawOpt,
    link_rows: str = LinkRowsOpt,
    tasks: str | None = TasksOpt,
    only: str | None = OnlyOpt,
    average: bool = AverageOpt,
    chances: Path | None = ChancesOpt,
    bootstrap: int = bootstrap_option(1000, "Joint run-bootstrap replicates.", 20),
    seed: int = SeedOpt,
    output: Path = OutputOpt,
    plot: Path | None = PlotOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Fit step 1 (N, D) -> task loss on final checkpoints and step 2 task loss -> metric.

    Example: scalinglab task fit ladder.csv --N N --D D --run run --task-loss bpb
    --metric acc --chance 0.25 -o hellaswag.json
    """
    from ..downstream import fit_task

    options = _options(N, D, run, link, chance, floor, law, link_rows, bootstrap, seed)
    if tasks is None:
        if metric is None or only or chances or average:
            raise ScalinglabError(
                "give --metric COLUMN, or --tasks GLOB for many tasks (--only, "
                "--chances and --average need --tasks)."
            )
        with progress_bar(not json_out, "task fit (joint bootstrap)") as progress:
            fits = {
                metric: fit_task(
                    data,
                    task_loss=task_loss,
                    metric=metric,
                    **options,
                    progress=progress,
                )
            }
        payload = fits[metric].to_dict()
    else:
        names = [t.strip() for t in only.split(",") if t.strip()] if only else None
        with progress_bar(not json_out, "task fit (joint bootstraps)") as progress:
            fits = _fit_many(
                data, tasks, task_loss, names, average, chances, options, progress
            )
        payload = {
            "format": MULTI_FORMAT,
            "tasks": {k: f.to_dict() for k, f in fits.items()},
        }
    output.write_text(json.dumps(jsonable(payload), allow_nan=False))
    if plot is not None:
        _plot_first(fits, data, plot, many=tasks is not None)
    if json_out:
        summary = {name: _fit_json(f) for name, f in fits.items()}
        print_json(
            (next(iter(summary.values())) if tasks is None else {"tasks": summary})
            | {"saved": str(output)}
        )
        return
    for task in fits.values():
        console().print(task.summary(), markup=False, highlight=False)
    err_console().print(f"[dim]fit saved to {output}[/dim]")


def _fit_many(
    data, tasks, task_loss, only, average, chances, options, progress
) -> dict:
    """One fit per task the glob matches (and their average), each at its chance."""
    from ..downstream._data import load_frame
    from ..downstream.many import (
        AVERAGE,
        fit_tasks,
        match_tasks,
        read_chances,
        task_chances,
        with_average,
    )

    frame, _ = load_frame(data)
    pairs = match_tasks(frame.columns, tasks, task_loss, only)
    table = read_chances(chances) if chances is not None else {}
    error = options["link"] == "exp"
    levels = task_chances(pairs, table, default=options["chance"], error=error)
    if average:
        frame, pairs, levels[AVERAGE] = with_average(frame, pairs, levels)
    return fit_tasks(frame, pairs, chances=levels, progress=progress, **options)


def _plot_first(fits: dict, data: Path, path: Path, *, many: bool) -> None:
    """Step 1, step 2 and the chain of the (first) task in one figure."""
    from ..plot.downstream import task_figure

    task = next(iter(fits.values()))
    if many:
        err_console().print(f"[dim]--plot shows the first task, {task.task}[/dim]")
    save_plot(task_figure(task, data), path)


def _fit_json(task) -> dict:
    from ..fit.intervals import percentile_interval

    def block(params, names, draws):
        low, high = percentile_interval(draws, 0.95)
        return {
            "params": params,
            "ci95": {n: [float(a), float(b)] for n, a, b in zip(names, low, high)},
        }

    return {
        "task": task.task,
        "link": task.link,
        "chance": task.chance,
        "step1": {"law": task.step1.law.name}
        | block(task.step1.params, task.step1.law.param_names, task.draws1),
        "step2": block(task.link_params, task.link_law.param_names, task.draws2),
        "rows": task.rows,
        "task_loss_range": list(task.x_range),
        "notes": [d.message for d in task.notes],
    }


def _load_fits(path: Path) -> tuple[dict, bool]:
    from ..downstream import load_task_fit
    from ..downstream.chain import load_task_fit_dict

    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as why:
        raise ScalinglabError(f"cannot read task fit {path}: {why}") from None
    if isinstance(data, dict) and data.get("format") == MULTI_FORMAT:
        return {k: load_task_fit_dict(v, path) for k, v in data["tasks"].items()}, True
    task = load_task_fit(path)
    return {task.task: task}, False


@task_app.command("predict")
def predict_cmd(
    fit: Path = FitOpt,
    N: str = typer.Option(..., "--N", help="Parameters of the planned run, e.g. 7e9."),
    D: str = typer.Option(
        ..., "--D", help="Training tokens of the planned run, e.g. 4T."
    ),
    level: float = LevelOpt,
    plot: Path | None = PlotOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Predict the metric and task loss of a planned run, with joint intervals.

    Example: scalinglab task predict --fit hellaswag.json --N 7e9 --D 4e12 --json
    """
    fits, multi = _load_fits(fit)
    n, d = quantity(N, "--N"), quantity(D, "--D")
    found = {name: _prediction(task, n, d, level) for name, task in fits.items()}
    if plot is not None:
        _plot_prediction(fits, plot, n, d, level, many=multi)
    if json_out:
        print_json({"tasks": found} if multi else next(iter(found.values())))
        return
    pct = round(100 * level)
    table = new_table(
        f"Predicted at N={n:.3g}, D={d:.3g}",
        ["task", "metric", f"{pct}% interval", "task loss", f"{pct}% interval"],
    )
    for name, p in found.items():
        table.add_row(
            name,
            f"{p['metric']:.4f}",
            "[{:.4f}, {:.4f}]".format(*p["ci95"]["metric"]),
            f"{p['task_loss']:.4f}",
            "[{:.4f}, {:.4f}]".format(*p["ci95"]["task_loss"]),
        )
    console().print(table)
    # The (N, D) range warnings are the same for every task: each is printed once.
    for message in dict.fromkeys(m for p in found.values() for m in p["warnings"]):
        err_console().print(f"[yellow]warning:[/yellow] {message}")


def _plot_prediction(fits: dict, path: Path, n: float, d: float, level, *, many):
    """The chained prediction of the (first) task at (n, d), intervals as bands."""
    from ..plot.downstream import prediction_figure

    task = next(iter(fits.values()))
    if many:
        err_console().print(f"[dim]--plot shows the first task, {task.task}[/dim]")
    save_plot(prediction_figure(task, N=n, D=d, level=level), path)


def _prediction(task, n: float, d: float, level: float) -> dict:
    point = task.predict(N=n, D=d)
    interval = task.predict_interval(level, N=n, D=d)
    return {
        "task": task.task,
        "N": n,
        "D": d,
        "metric": float(point["metric"]),
        "task_loss": float(point["task_loss"]),
        "ci95": {k: [float(v[0]), float(v[1])] for k, v in interval.items()},
        "level": level,
        "warnings": [w.message for w in task.warnings_at(N=n, D=d)],
    }


@task_app.command("validate")
def validate_cmd(
    data: Path = DataArg,
    holdout: str = typer.Option(
        ..., "--holdout", help="Held-out runs, e.g. 'N >= 3e9' (N or D; >=, >, <=, <)."
    ),
    N: str = NCol,
    D: str = DCol,
    task_loss: str = TaskLossOpt,
    metric: str = typer.Option(
        ..., "--metric", help="Column with the metric in [0, 1]."
    ),
    run: str | None = RunCol,
    link: str = LinkOpt,
    chance: float | None = ChanceOpt,
    floor: str = FloorOpt,
    law: str = LawOpt,
    link_rows: str = LinkRowsOpt,
    bootstrap: int = bootstrap_option(1000, "Joint run-bootstrap replicates.", 20),
    seed: int = SeedOpt,
    level: float = LevelOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Fit on the runs --holdout keeps, predict the final checkpoint of each held-out run.

    Example: scalinglab task validate ladder.csv --run run --task-loss bpb --metric acc
    --chance 0.25 --holdout 'N >= 3e9'
    """
    from ..downstream.validate import validate_task

    options = _options(N, D, run, link, chance, floor, law, link_rows, bootstrap, seed)
    found = validate_task(
        data,
        holdout=holdout,
        task_loss=task_loss,
        metric=metric,
        level=level,
        **options,
    )
    if json_out:
        print_json({"rows": found["rows"], "scores": found["scores"]})
        return
    console().print(_validation_table(found, f"{metric}: held out {holdout}", level))
    for line in _validation_lines(found["scores"], level):
        console().print(line)


_SINGLE = {"single_step": "single-step (N, D)", "compute_only": "single-step C"}


def _validation_table(found: dict, title: str, level: float):
    """One row per held-out run: actual, two-step with interval, single-step variants."""
    pct = round(100 * level)
    singles = [k for k in _SINGLE if k in found["scores"]]
    table = new_table(
        title,
        ["run", "N", "D", "actual", "two-step", f"{pct}% interval", "covered"]
        + [_SINGLE[k] for k in singles],
    )
    for r in found["rows"]:
        table.add_row(
            r["run"],
            f"{r['N']:.3g}",
            f"{r['D']:.3g}",
            f"{r['metric']:.4f}",
            f"{r['predicted']:.4f}",
            "[{:.4f}, {:.4f}]".format(*r["interval"]),
            "yes" if r["covered"] else "no",
            *(f"{r[k]:.4f}" for k in singles),
        )
    return table


def _validation_lines(s: dict, level: float) -> list[str]:
    """The mean errors of the two-step prediction and of each single-step variant."""
    first = (
        f"two-step: mean abs error {s['abs_error']:.4f}, relative "
        f"{100 * s['rel_error']:.2f}%, task-loss relative "
        f"{100 * s['task_loss_rel_error']:.2f}%, {round(100 * level)}% coverage "
        f"{s['coverage']:.2f} over {s['held_out_runs']} runs"
    )
    lines = [first]
    for key, label in _SINGLE.items():
        if key in s:
            lines.append(
                f"{label}: mean abs error {s[key]['abs_error']:.4f}, relative "
                f"{100 * s[key]['rel_error']:.2f}%"
            )
    if len(lines) == 1:
        lines.append("single-step variants: only with --link sigmoid")
    return lines


@loss2loss_app.command("fit")
def loss2loss_fit_cmd(
    data: Path = DataArg,
    x: str = typer.Option(
        ..., "--x", help="Column with the loss to predict from (L_x)."
    ),
    y: str = typer.Option(..., "--y", help="Column with the loss to predict (L_y)."),
    N: str = NCol,
    D: str = DCol,
    run: str | None = RunCol,
    law: str = typer.Option(
        "chinchilla", "--law", help="Scaling law of each loss for E_x and E_y."
    ),
    bootstrap: int = bootstrap_option(1000, "Joint run-bootstrap replicates.", 20),
    seed: int = SeedOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Fit L_y = K (L_x - E_x)^kappa + E_y, E_x and E_y from each loss's own law of N, D.

    Example: scalinglab loss2loss fit sweep.csv --x "eval/c4_val/CrossEntropyLoss"
    --y "eval/starcoder_val/CrossEntropyLoss" --N params --D tokens --json
    """
    from ..downstream.loss2loss import fit_loss2loss

    found = fit_loss2loss(
        data, x=x, y=y, N=N, D=D, run=run, law=law, bootstrap=bootstrap, seed=seed
    )
    if json_out:
        print_json(found.to_dict())
        return
    table = new_table(f"{y} from {x}", ["param", "value", "95% interval"])
    intervals = found.conf_int()
    for name, value in found.params.items():
        ci = intervals.get(name)
        shown = "[{:.4g}, {:.4g}]".format(*ci) if ci else "held (own scaling fit)"
        table.add_row(name, f"{value:.4g}", shown)
    console().print(table)


observational_app = sub_app("observational")


@observational_app.command("fit")
def observational_fit_cmd(
    data: Path = DataArg,
    family: str = typer.Option(..., "--family", help="Column with the model family."),
    compute: str = typer.Option(..., "--compute", help="Column with training compute."),
    target: str = typer.Option(..., "--target", help="Benchmark column to predict."),
    benchmarks: str = typer.Option(
        ...,
        "--benchmarks",
        help="Comma-separated benchmark columns for the capability.",
    ),
    k: int = typer.Option(1, "--k", min=1, max=3, help="Principal components (1-3)."),
    chance: float = typer.Option(0.0, "--chance", help="The target at chance (floor)."),
    holdout_compute: str | None = typer.Option(
        None,
        "--holdout-compute",
        help="Fit the sigmoid on models below this compute; score the rest.",
    ),
    bootstrap: int = bootstrap_option(200, "Bootstrap replicates over models."),
    seed: int = SeedOpt,
    json_out: bool = JsonOpt,
) -> None:
    """PCA capability of each model, the target as a sigmoid of it, capability per family
    as a line in log compute.

    Example: scalinglab observational fit scores.csv --family "Model Family" --compute
    "FLOPs (1E21)" --target GSM8K --benchmarks "MMLU,ARC-C,HellaSwag,Winograd,TruthfulQA"
    --holdout-compute 84
    """
    import numpy as np

    from ..downstream._data import load_frame
    from ..downstream.observational import fit_observational

    frame, _ = load_frame(data)
    names = [b.strip() for b in benchmarks.split(",") if b.strip()]
    cut = quantity(holdout_compute, "--holdout-compute")
    below = None
    if cut is not None:
        if compute not in frame.columns:
            raise ScalinglabError(f"column {compute!r} is not in the table.")
        below = (frame[compute].to_numpy(float) < cut).tolist()
    found = fit_observational(
        frame,
        benchmarks=names,
        target=target,
        family=family,
        compute=compute,
        k=k,
        chance=chance,
        bootstrap=bootstrap,
        seed=seed,
        fit_rows=below,
    )
    payload = found.to_dict()
    if cut is not None:
        held = frame[(frame[compute] >= cut)].dropna(subset=[*names, target])
        error = found.predict_from_scores(held[names].to_numpy(float)) - held[target]
        payload["holdout"] = {
            "compute_at_least": cut,
            "models": len(held),
            "mean_abs_error": float(np.mean(np.abs(error))),
            "max_abs_error": float(np.max(np.abs(error))),
        }
    if json_out:
        print_json(payload)
        return
    table = new_table(f"{target} from {k} capability component(s)", ["param", "value"])
    for name, value in found.link.params.items():
        table.add_row(name, f"{value:.4g}")
    console().print(table)
    console().print(
        "explained variance "
        + ", ".join(f"{v:.3f}" for v in found.explained)
        + f"; models {found.models}; family lines {len(found.families)}"
    )
    if cut is not None:
        h = payload["holdout"]
        console().print(
            f"held out compute >= {cut:g}: {h['models']} models, mean |error| "
            f"{h['mean_abs_error']:.4f}, max {h['max_abs_error']:.4f}"
        )
