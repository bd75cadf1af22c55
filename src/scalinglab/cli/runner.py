"""CLI: ``plan ladder``, ``plan isoflop``, ``plan sweep``, ``run``, ``status``, ``export``, ``demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from ..errors import ScalinglabError
from ..units import parse_quantity, parse_range
from ._app import app, sub_app
from ._common import print_json
from ._options import JsonOpt, flag

plan_app = sub_app("plan")

_OUTPUT = typer.Option(
    None, "-o", "--output", help="Plan file to write (.json or .yaml)."
)
_JSON = JsonOpt
_SEED = typer.Option(0, "--seed", help="Training seed of every run.")
_LR_SCALE = typer.Option(
    1.0,
    "--lr-scale",
    help="Multiply the preset's learning rate (presets come from much larger models).",
)
_SCHEDULE = typer.Option(
    "cosine",
    "--schedule",
    help="Learning-rate schedule: cosine, wsd, or constant (with --optimizer schedulefree).",
)
_OPTIMIZER = typer.Option(
    "adamw",
    "--optimizer",
    help="adamw, or schedulefree (schedule-free AdamW, the schedulefree extra; "
    "with --schedule constant).",
)
_CORPUS = typer.Option(
    "shakespeare",
    "--corpus",
    help="Training text: shakespeare, or a .txt file or folder of your own.",
)
_PARAMETRIZATION = typer.Option(
    "standard",
    "--parametrization",
    help="standard, or mup: the learning rate tuned at --base-width transfers across widths.",
)
_BASE_WIDTH = typer.Option(
    64, "--base-width", help="muP: the d_model at which muP equals the standard model."
)
_NOISE = typer.Option(
    0,
    "--noise-microbatches",
    help="k >= 2: split each batch into k microbatches and log the gradient noise "
    "scale per step (columns noise_scale, grad_sq, grad_trace; see critical-batch "
    "--noise-scale). 0: off.",
)
_NEW_STUDY = flag(
    "--new-study",
    "If STUDY holds another plan's study, run this plan in the first of "
    "STUDY-2, STUDY-3, ... that is free or holds this plan (nothing is deleted).",
)


@plan_app.command("ladder")
def plan_ladder(
    N: str = typer.Option(
        "1e5..1e6", "--N", help="Parameter range LOW..HIGH, e.g. 1e6..3e7 or 1M..30M."
    ),
    sizes: int = typer.Option(
        4, "--sizes", help="Model sizes, log-spaced over the N range."
    ),
    tokens_per_param: str = typer.Option(
        "10,20,40", "--tokens-per-param", help="Comma-separated D/N ratios."
    ),
    hparams: str = typer.Option(
        "steplaw",
        "--hparams",
        help="Learning-rate and batch-size law: steplaw or deepseek.",
    ),
    seed: int = _SEED,
    lr_scale: float = _LR_SCALE,
    schedule: str = _SCHEDULE,
    cooldowns: Optional[str] = typer.Option(
        None,
        "--cooldowns",
        help="With --schedule wsd: cooldown fractions, e.g. 0.1,0.2; one constant-LR trunk per "
        "size, one cooldown branch per ratio and fraction started from its snapshot.",
    ),
    corpus: str = _CORPUS,
    parametrization: str = _PARAMETRIZATION,
    base_width: int = _BASE_WIDTH,
    optimizer: str = _OPTIMIZER,
    noise_microbatches: int = _NOISE,
    output: Optional[Path] = _OUTPUT,
    json_out: bool = _JSON,
) -> None:
    """Plan a ladder: SIZES model sizes x each tokens-per-parameter ratio.

    Example: scalinglab plan ladder --N 1e6..3e7 --sizes 6 --tokens-per-param 5,10,20,40 -o plan.json
    """
    from ..plan import ladder

    plan = ladder(
        N_range=parse_range(N, name="--N"),
        sizes=sizes,
        tokens_per_param=_numbers(tokens_per_param, "--tokens-per-param"),
        cooldowns=_numbers(cooldowns, "--cooldowns") if cooldowns else (),
        hparams=hparams,
        seed=seed,
        lr_scale=lr_scale,
        schedule=schedule,
        corpus=corpus,
        parametrization=parametrization,
        base_width=base_width,
        optimizer=optimizer,
        noise_microbatches=noise_microbatches,
    )
    _save_and_show(plan, output, json_out)


@plan_app.command("isoflop")
def plan_isoflop(
    budgets: str = typer.Option(
        "1e13..1e15", "--budgets", help="Compute range LOW..HIGH in FLOPs (C = 6ND)."
    ),
    n_budgets: int = typer.Option(
        3, "--n-budgets", help="Budgets, log-spaced over the range."
    ),
    points: int = typer.Option(5, "--points", help="Model sizes per budget."),
    hparams: str = typer.Option(
        "steplaw",
        "--hparams",
        help="Learning-rate and batch-size law: steplaw or deepseek.",
    ),
    seed: int = _SEED,
    lr_scale: float = _LR_SCALE,
    schedule: str = _SCHEDULE,
    corpus: str = _CORPUS,
    parametrization: str = _PARAMETRIZATION,
    base_width: int = _BASE_WIDTH,
    optimizer: str = _OPTIMIZER,
    noise_microbatches: int = _NOISE,
    output: Optional[Path] = _OUTPUT,
    json_out: bool = _JSON,
) -> None:
    """Plan an IsoFLOP grid: POINTS model sizes at each of N_BUDGETS compute budgets.

    Example: scalinglab plan isoflop --budgets 1e14..1e16 --points 7 -o plan.json
    """
    from ..plan import isoflop_grid

    plan = isoflop_grid(
        budgets=parse_range(budgets, name="--budgets"),
        n_budgets=n_budgets,
        points=points,
        hparams=hparams,
        seed=seed,
        lr_scale=lr_scale,
        schedule=schedule,
        corpus=corpus,
        parametrization=parametrization,
        base_width=base_width,
        optimizer=optimizer,
        noise_microbatches=noise_microbatches,
    )
    _save_and_show(plan, output, json_out)


@plan_app.command("sweep")
def plan_sweep(
    N: str = typer.Option(..., "--N", help="Target parameter counts, e.g. 1e6,4e6."),
    D: str = typer.Option(
        "20x",
        "--D",
        help="Training tokens (2e7,8e7) or ratios D/N ending in x (20x or 10x,40x).",
    ),
    lr: str = typer.Option(
        "0.25x..4x:5",
        "--lr",
        help="Learning rates: LOW..HIGH:COUNT log-spaced (3e-4..3e-2:7), a list, or multiples "
        "of the preset's (0.25x..4x:5).",
    ),
    bs: str = typer.Option(
        "1x",
        "--bs",
        help="Batch sizes in sequences (16..256:5), or multiples of the preset's "
        "rounded to powers of two (0.5x..2x:3).",
    ),
    wd: Optional[str] = typer.Option(
        None,
        "--wd",
        help="AdamW weight decays, e.g. 0.01..1:5 (default: the trainer's 0.1).",
    ),
    hparams: str = typer.Option(
        "steplaw", "--hparams", help="Preset the x grids centre on."
    ),
    seed: int = _SEED,
    lr_scale: float = _LR_SCALE,
    schedule: str = _SCHEDULE,
    corpus: str = _CORPUS,
    parametrization: str = _PARAMETRIZATION,
    base_width: int = _BASE_WIDTH,
    optimizer: str = _OPTIMIZER,
    noise_microbatches: int = _NOISE,
    output: Optional[Path] = _OUTPUT,
    json_out: bool = _JSON,
) -> None:
    """Plan an lr x batch (x weight decay) grid per model size; then `scalinglab run` it and
    `scalinglab hparams fit STUDY`.

    Example: scalinglab plan sweep --N 1e6,4e6 --D 20x --lr 3e-4..3e-2:7 --bs 16..256:5 -o sweep.json
    """
    from ..plan.sweep import parse_grid, sweep

    lengths = _lengths(D)
    plan = sweep(
        _numbers(N, "--N"),
        **lengths,
        lr=parse_grid(lr, "--lr"),
        batch=parse_grid(bs, "--bs"),
        weight_decay=parse_grid(wd, "--wd") if wd else None,
        hparams=hparams,
        seed=seed,
        lr_scale=lr_scale,
        schedule=schedule,
        corpus=corpus,
        parametrization=parametrization,
        base_width=base_width,
        optimizer=optimizer,
        noise_microbatches=noise_microbatches,
    )
    _save_and_show(plan, output, json_out)


def _lengths(text: str) -> dict[str, tuple[float, ...]]:
    """``"20x"`` -> tokens_per_param; ``"2e7,8e7"`` -> D."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    ratios = [p.endswith("x") for p in parts]
    if any(ratios) and not all(ratios):
        raise ScalinglabError(f"--D mixes ratios (20x) and token counts; got {text!r}.")
    if all(ratios) and parts:
        return {"tokens_per_param": _numbers(",".join(p[:-1] for p in parts), "--D")}
    return {"D": _numbers(text, "--D")}


@app.command("run")
def run(
    plan: Path = typer.Argument(..., help="Plan file from `scalinglab plan ...`."),
    study: Path = typer.Option(
        ..., "--study", help="Study directory (created, or resumed if it exists)."
    ),
    executor: str = typer.Option(
        "local", "--executor", help="local (process pool), ray, or slurm (submitit)."
    ),
    executor_options: Optional[str] = typer.Option(
        None,
        "--executor-options",
        help="slurm: submitit parameters as JSON or KEY=VALUE,..., e.g. "
        "slurm_partition=gpu,gpus_per_node=1,timeout_min=120 (cluster=local: local jobs).",
    ),
    address: Optional[str] = typer.Option(
        None,
        "--address",
        help="Ray address: auto or ray://host:10001 (default: start a local Ray).",
    ),
    command: Optional[str] = typer.Option(
        None,
        "--command",
        help="Your own trainer, e.g. 'python train.py --layers {n_layer} --metrics {metrics_path}'.",
    ),
    workers: Optional[int] = typer.Option(
        None, "--workers", help="Concurrent runs (local executor; default: the cores)."
    ),
    threads: Optional[int] = typer.Option(
        None, "--threads", help="CPU threads per run (default: cores // workers)."
    ),
    checkpoint_every: Optional[int] = typer.Option(
        None,
        "--checkpoint-every",
        help="Steps between checkpoints (default: steps // 10).",
    ),
    new_study: bool = _NEW_STUDY,
    json_out: bool = _JSON,
) -> None:
    """Run every unfinished run of PLAN into the study; rerun the same command to resume.

    The study stores each run's full config (plan fields, trainer settings or
    --command). Resuming with a plan that changes a stored run (learning rate,
    steps, seed, corpus, shape, schedule, trainer...) or drops one exits 1,
    naming each run and field, and changes nothing; use a new --study or
    --new-study. A plan that only adds runs extends the study.

    Example: scalinglab run plan.json --study runs/ladder --executor local
    """
    from ..run.sweep import run_study

    if new_study:
        study = _free_study(plan, study, command)
    try:
        report = run_study(
            plan,
            study,
            executor=executor,
            address=address,
            command=command,
            workers=workers,
            threads=threads,
            checkpoint_every=checkpoint_every,
            progress=not json_out,
            executor_options=_executor_options(executor_options),
        )
    except KeyboardInterrupt:
        typer.echo(
            f"interrupted: rerun `scalinglab run {plan} --study {study}` to resume.",
            err=True,
        )
        raise typer.Exit(130)
    _show_report(report, json_out)


@app.command("status")
def status(
    study: Path = typer.Argument(..., help="Study directory."),
    json_out: bool = _JSON,
) -> None:
    """Show each run of a study: state, progress and final loss.

    Example: scalinglab status runs/ladder --json
    """
    from ..run.export import study_status

    payload = study_status(study)
    if json_out:
        return print_json(payload)
    _console().print(_status_table(payload))


@app.command("export")
def export(
    study: Path = typer.Argument(..., help="Study directory."),
    output: Path = typer.Option(
        ..., "-o", "--output", help="File to write: .csv, .tsv or .parquet."
    ),
    curves: bool = flag("--curves", "Every metric row instead of one row per run."),
    json_out: bool = _JSON,
) -> None:
    """Write the run table (N, D, C, loss, run and the plan's columns) that `fit` reads.

    Example: scalinglab export runs/ladder -o runs.csv && scalinglab fit runs.csv
    """
    from ..run.export import export_study

    summary = export_study(study, output, curves=curves)
    if json_out:
        return print_json(summary)
    what = "metric rows" if curves else "runs"
    typer.echo(f"wrote {summary.rows} {what} to {summary.path}")
    if summary.left_out:
        typer.echo(
            f"left out {len(summary.left_out)} unfinished run(s); `scalinglab run` finishes them."
        )


@app.command("demo")
def demo(
    study: Optional[Path] = typer.Option(
        None,
        "--study",
        help="Study directory, resumed if it exists (default: scalinglab-demo, or scalinglab-demo-quick).",
    ),
    plot: Optional[Path] = typer.Option(
        None, "--plot", help="Figure file (default: STUDY/demo.png)."
    ),
    quick: bool = flag(
        "--quick", "A tiny ladder (about a minute) instead of about ten."
    ),
    workers: Optional[int] = typer.Option(
        None, "--workers", help="Concurrent runs (default: the cores)."
    ),
    seed: int = typer.Option(0, "--seed", help="Training and bootstrap seed."),
    new_study: bool = _NEW_STUDY,
    json_out: bool = _JSON,
) -> None:
    """Plan, train and fit a small ladder on this CPU, then predict its largest run.

    Fits the Chinchilla law (--quick: loss in tokens alone, the law its ladder
    supports) on every run but the largest model size, predicts the held-out runs,
    and prints predicted vs actual loss with a 95% interval.

    Example: scalinglab demo --plot demo.png
    """
    from ..run.demo import DEFAULT_STUDY, demo_plan, run_demo

    if new_study:
        plan = demo_plan(quick=quick, seed=seed)
        study = _free_study(plan, study or DEFAULT_STUDY["quick" if quick else "full"])
    result = run_demo(
        study, plot=plot, quick=quick, workers=workers, seed=seed, progress=not json_out
    )
    if json_out:
        return print_json(result)
    _console().print(result.as_text(), markup=False, highlight=False)


# -- display helpers ---------------------------------------------------------------------


def _console() -> Console:
    console = Console()
    # Piped output: rich would squeeze the tables into 80 columns and cut the numbers.
    return console if console.is_terminal else Console(width=160)


def _numbers(text: str, name: str) -> tuple[float, ...]:
    parts = [p for p in str(text).split(",") if p.strip()]
    if not parts:
        raise ScalinglabError(
            f"{name} needs comma-separated numbers such as 5,10,20; got {text!r}."
        )
    return tuple(parse_quantity(p, name=name) for p in parts)


def _save_and_show(plan: Any, output: Path | None, json_out: bool) -> None:
    from ..plan import save_plan

    if output is not None:
        save_plan(plan, output)
    if json_out:
        return print_json({"path": str(output) if output else None, **plan.to_dict()})
    _console().print(_plan_table(plan))
    typer.echo(_cost_line(plan))
    for warning in plan.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if output is not None:
        typer.echo(f"wrote {len(plan.runs)} runs to {output}")


def _executor_options(text: str | None) -> dict[str, Any] | None:
    """``'{"a": 1}'`` or ``"a=1,b=gpu"`` -> dict; values are JSON scalars where they parse."""
    import json

    if not text:
        return None
    if text.lstrip().startswith("{"):
        try:
            return dict(json.loads(text))
        except ValueError as error:
            raise ScalinglabError(
                f"--executor-options is not valid JSON: {error}"
            ) from error
    options: dict[str, Any] = {}
    for item in (p for p in text.split(",") if p.strip()):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not key:
            raise ScalinglabError(
                f"--executor-options expects KEY=VALUE,... or JSON; got {item!r}."
            )
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    return options


def _cost_line(plan: Any) -> str:
    if "C_exact_total" in plan.settings:  # cooldown branches: trunks plus cooldowns
        s = plan.settings
        return (
            f"total cost: {s['C_exact_total']:.4g} FLOPs counting every matrix product "
            f"(trunks plus cooldowns); every (N, D) from scratch: "
            f"{s['C_exact_rungs_from_scratch']:.4g} (ratio {s['compute_ratio']:.3f}); every "
            f"branch from scratch: {s['C_exact_from_scratch']:.4g}"
        )
    exact = sum(r.C_exact for r in plan.runs)
    six_nd = sum(r.C for r in plan.runs)
    tokens = sum(r.D for r in plan.runs)
    return (
        f"total cost: {exact:.4g} FLOPs counting every matrix product (6ND: {six_nd:.4g}), "
        f"{tokens:.4g} training tokens over {len(plan.runs)} runs"
    )


def _plan_table(plan: Any) -> Table:
    table = Table(title=f"plan: {len(plan.runs)} runs")
    for name in (
        "run",
        "layers",
        "d_model",
        "heads",
        "N",
        "D",
        "D/N",
        "C",
        "lr",
        "batch",
        "steps",
    ):
        table.add_column(name, justify="left" if name == "run" else "right")
    decays = any(getattr(r, "weight_decay", None) is not None for r in plan.runs)
    if decays:
        table.add_column("wd", justify="right")
    for r in plan.runs:
        wd = (_g(r.weight_decay),) if decays else ()
        table.add_row(
            r.run_id,
            str(r.shape.n_layer),
            str(r.shape.d_model),
            str(r.shape.n_head),
            _g(r.N),
            _g(r.D),
            f"{r.D / r.N:.3g}",
            _g(r.C),
            f"{r.lr:.3g}",
            _g(r.batch_tokens),
            str(r.steps),
            *wd,
        )
    return table


def _status_table(payload: dict[str, Any]) -> Table:
    counts = ", ".join(f"{n} {state}" for state, n in payload["counts"].items())
    table = Table(title=f"{payload['study']}: {payload['total']} runs ({counts})")
    for name in ("run", "N", "D", "state", "progress", "final loss"):
        table.add_column(name, justify="left" if name in ("run", "state") else "right")
    for r in payload["runs"]:
        progress = (
            ""
            if r["progress"] is None
            else f"{r['step'] or 0}/{r['steps']} ({r['progress']:.0%})"
        )
        loss = "" if r["final_loss"] is None else f"{r['final_loss']:.4f}"
        table.add_row(r["run_id"], _g(r["N"]), _g(r["D"]), r["state"], progress, loss)
    return table


def _free_study(plan: Any, study: Path, command: str | None = None) -> Path:
    from ..run.sweep import free_study_dir

    chosen = free_study_dir(plan, study, command=command)
    if chosen != study:
        typer.echo(
            f"{study} holds another plan's study; running in {chosen}.", err=True
        )
    return chosen


def _show_report(report: Any, json_out: bool) -> None:
    if json_out:
        print_json(report)
    else:
        typer.echo(
            f"{report.study_dir}: {report.finished}/{report.total} runs finished "
            f"({report.ran} now, {report.skipped} before); {report.rows_added} metric rows added."
        )
        if report.added:
            typer.echo(
                f"added {len(report.added)} new run(s): {', '.join(report.added)}"
            )
        for run_id, error in report.failed.items():
            typer.echo(f"run {run_id} failed: {error}", err=True)
    if report.failed:
        raise typer.Exit(1)


def _g(value: Any) -> str:
    return "" if value is None else f"{float(value):.3g}"
