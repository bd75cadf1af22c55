"""Decisions on the command line: lifetime options of ``optimal``, ``frontier``, ``testtime``."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import ScalinglabError
from ._app import app, sub_app
from ._common import console as stdout_console
from ._common import print_json, save_plot
from ._options import JsonOpt, PlotOpt, flops_per_token, parse_quantities

TargetLossOpt = typer.Option(
    None,
    "--target-loss",
    help="Cheapest (N, D) reaching this loss (instead of --compute).",
)
InferenceTokensOpt = typer.Option(
    None,
    "--inference-tokens",
    help="Lifetime inference tokens served, e.g. 2e12 (Sardana et al.).",
)
InferenceFlopsOpt = typer.Option(
    None, "--inference-flops-per-token", help="Inference cost in N (default '2*N')."
)
UniqueTokensOpt = typer.Option(
    None,
    "--unique-tokens",
    help="Unique tokens available; repetition is priced (Muennighoff et al.).",
)
MaxParamsOpt = typer.Option(None, "--max-params", help="Largest N allowed, e.g. 70B.")
MaxTokensOpt = typer.Option(
    None, "--max-tokens", help="Most training tokens allowed, e.g. 15T."
)
CostOpt = typer.Option(
    None,
    "--cost",
    help="Hardware: 'gpus=1024,peak=989e12,mfu=0.4,price=2.5' (overrides --hardware).",
)
HardwareOpt = typer.Option(
    None, "--hardware", help="Hardware profile: a100, h100, h200."
)
GpuHoursOpt = typer.Option(
    None, "--gpu-hours", help="Total budget in GPU-hours (needs hardware)."
)
DollarsOpt = typer.Option(
    None, "--dollars", help="Total budget in dollars (needs hardware)."
)


def _table(title: str):
    """A rich table titled on the left (rich is imported only when a table prints)."""
    from rich.table import Table

    return Table(title=title, title_justify="left")


def wants_lifetime(**options) -> bool:
    """Whether ``optimal`` was given any lifetime, data-limit or cost option."""
    return any(v is not None for v in options.values())


def run_lifetime(
    source,
    compute: str | None,
    flops: str | None,
    level: float,
    as_json: bool,
    **options,
) -> None:
    """``optimal`` with lifetime options: solve, then print JSON or a table."""
    from ..decide.lifetime import lifetime_optimum

    unique = options.pop("U")
    if unique is not None and options["unique_tokens"] is None:
        options["unique_tokens"] = unique  # --U of data_constrained: the same quantity
    hardware = _hardware(options.pop("cost"), options.pop("hardware"))
    budget = _budget(
        compute, options.pop("gpu_hours"), options.pop("dollars"), hardware
    )
    target = options.pop("target_loss")
    demand = _demand(flops, **options)
    best = lifetime_optimum(
        source, budget=budget, target_loss=target, demand=demand, level=level
    )
    payload = best.to_dict() | _cost_payload(hardware, best)
    if as_json:
        print_json(payload)
        return
    _print_lifetime(payload)


def _hardware(cost: str | None, profile: str | None):
    if cost is None and profile is None:
        return None
    from ..decide.hardware import parse_cost

    return parse_cost(cost, base=profile)


def _budget(compute, gpu_hours, dollars, hardware) -> float | None:
    given = [v for v in (compute, gpu_hours, dollars) if v is not None]
    if len(given) > 1:
        raise ScalinglabError("give one budget: --compute, --gpu-hours or --dollars.")
    if compute is not None:
        values = parse_quantities(compute, "--compute")
        if values.size != 1:
            raise ScalinglabError(
                f"lifetime optima take one budget; got {values.size}. Use `scalinglab frontier` to sweep."
            )
        return float(values[0])
    if not given:
        return None
    if hardware is None:
        raise ScalinglabError(
            "--gpu-hours and --dollars need --hardware NAME or --cost '...'."
        )
    hours = None if gpu_hours is None else parse_quantities(gpu_hours, "--gpu-hours")[0]
    money = None if dollars is None else parse_quantities(dollars, "--dollars")[0]
    return hardware.flops(gpu_hours=hours, dollars=money)


def _demand(
    flops, *, inference_tokens, inference_flops, unique_tokens, max_params, max_tokens
):
    from ..decide.lifetime import Demand, two_n

    def one(text, name):
        return None if text is None else float(parse_quantities(text, name)[0])

    serve = _inference_cost(inference_flops) if inference_flops else two_n
    return Demand(
        inference_tokens=one(inference_tokens, "--inference-tokens") or 0.0,
        train_flops_per_token=flops_per_token(flops),
        inference_flops_per_token=serve,
        unique_tokens=one(unique_tokens, "--unique-tokens"),
        max_params=one(max_params, "--max-params"),
        max_tokens=one(max_tokens, "--max-tokens"),
    )


def _inference_cost(expression: str):
    try:
        return flops_per_token(expression)
    except ScalinglabError as error:  # the shared parser names the training option
        message = str(error).replace("--flops-per-token", "--inference-flops-per-token")
        raise ScalinglabError(message) from None


def _cost_payload(hardware, best) -> dict:
    if hardware is None:
        return {}
    parts = {
        "train": best.train_flops,
        "inference": best.inference_flops,
        "total": best.total_flops,
        "saving": best.saving_flops,
    }
    note = "inference is priced at the training MFU and price of the same hardware"
    return {
        "hardware": hardware.describe(),
        "costs": {k: hardware.costs(v) for k, v in parts.items()},
        "notes": [*best.notes, note],
    }


def _print_lifetime(payload: dict) -> None:
    from ..decide.lifetime import QUANTITIES

    console = stdout_console()
    what = (
        "lowest loss for the budget"
        if payload["form"] == "budget"
        else "cheapest to the target loss"
    )
    table = _table(title=f"lifetime optimum ({what})")
    for column in (
        "quantity",
        "optimum",
        "95% interval",
        "Chinchilla-optimal, same loss",
    ):
        table.add_column(column, justify="right")
    ci, twin = payload["ci95"] or {}, payload["chinchilla"]
    for name in QUANTITIES:
        interval = ci.get(name)
        shown = f"[{interval[0]:.4g}, {interval[1]:.4g}]" if interval else ""
        table.add_row(name, f"{payload[name]:.4g}", shown, _fmt(twin.get(name)))
    console.print(table)
    console.print(
        f"saving vs Chinchilla-optimal: {payload['saving_flops']:.4g} FLOPs "
        f"({100 * payload['saving_fraction']:.1f}%)"
    )
    if payload["epochs"] is not None:
        console.print(f"epochs over the unique tokens: {payload['epochs']:.3g}")
    for part, cost in payload.get("costs", {}).items():
        console.print(
            f"{part}: {cost['gpu_hours']:.4g} GPU-hours, {cost['wall_hours']:.4g} h wall-clock, "
            f"${cost['dollars']:.4g}"
        )
    for note in payload["notes"]:
        console.print(f"[dim]note: {note}[/dim]")


def _fmt(value) -> str:
    return "" if value is None else f"{value:.4g}"


testtime_app = sub_app("testtime")


@testtime_app.command("fit")
def testtime_fit(
    samples: Path = typer.Argument(
        ..., help="Sample results: CSV, TSV, Parquet, JSONL or JSON."
    ),
    problem: str | None = typer.Option(
        None, "--problem", help="Column naming the problem."
    ),
    correct: str | None = typer.Option(
        None, "--correct", help="Column of 0/1 per attempt."
    ),
    n: str | None = typer.Option(None, "--n", help="Column of attempts per problem."),
    c: str | None = typer.Option(
        None, "--c", help="Column of correct attempts per problem."
    ),
    model: str | None = typer.Option(
        None, "--model", help="Column naming the model (one fit each)."
    ),
    k: str = typer.Option(
        "1,10,100,1000", "--k", help="Sample counts to report, e.g. 1,10,1000."
    ),
    bootstrap: int = typer.Option(
        1000, help="Problem resamples for the intervals; 0 skips."
    ),
    seed: int = typer.Option(0, help="Seed of the resampling."),
    as_json: bool = JsonOpt,
    plot: Path | None = PlotOpt,
) -> None:
    """pass@k (unbiased), the law -log pass@k = a k^-b and a Beta forecast for large k.

    Example: scalinglab testtime fit samples.csv --problem problem --model model --correct correct
    """
    from ..decide.testtime import fit_testtime
    from ..io.samples import read_samples

    sets = read_samples(
        samples, problem=problem, correct=correct, n=n, c=c, model=model
    )
    ks = parse_quantities(k, "--k")
    fits = [
        (s.model, fit_testtime(s.n, s.c, k=ks, bootstrap=bootstrap, seed=seed))
        for s in sets
    ]
    rows = [
        {"model": name} | fit.to_dict() if name is not None else fit.to_dict()
        for name, fit in fits
    ]
    if plot is not None:
        from ..plot.decide import testtime_figure

        save_plot(testtime_figure(fits), plot)
    if as_json:
        print_json(rows[0] if len(rows) == 1 else {"models": rows})
        return
    _print_testtime(rows)


def _print_testtime(rows: list[dict]) -> None:
    console = stdout_console()
    for row in rows:
        name = f"{row['model']}: " if "model" in row else ""
        p, b = row["params"], row["beta"]
        table = _table(
            title=f"{name}-log pass@k = {p['a']:.4g} k^-{p['b']:.4g};  p ~ Beta({b['alpha']:.3g}, "
            f"{b['beta']:.3g});  {row['n_problems']} problems, n >= {row['samples_per_problem']}",
        )
        for column in ("k", "observed", "law", "Beta forecast"):
            table.add_column(column, justify="right")
        for r in row["pass_at_k"]:
            table.add_row(
                str(r["k"]),
                *(
                    _with_ci(r[key], r[f"{key}_ci95"])
                    for key in ("observed", "law", "beta_forecast")
                ),
            )
        console.print(table)


def _with_ci(value, interval) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" + (
        f" [{interval[0]:.4g}, {interval[1]:.4g}]" if interval else ""
    )


@app.command()
def frontier(
    fit_file: Path | None = typer.Option(None, "--fit", help="A saved fit."),
    preset: str | None = typer.Option(
        None, "--preset", help="A published law, e.g. besiroglu2024."
    ),
    inference_tokens: str = typer.Option(
        "0", "--inference-tokens", help="Inference demands, e.g. 0,1e11,1e12,1e13."
    ),
    compute: str | None = typer.Option(
        None, "--compute", help="Total FLOP budget(s), e.g. 1e23 or 1e21,1e23."
    ),
    target_loss: str | None = typer.Option(
        None, "--target-loss", help="Target loss(es), e.g. 2.1."
    ),
    flops: str | None = typer.Option(
        None, "--flops-per-token", help="Training cost in N (default 6*N)."
    ),
    inference_flops: str | None = InferenceFlopsOpt,
    unique_tokens: str | None = UniqueTokensOpt,
    max_params: str | None = MaxParamsOpt,
    max_tokens: str | None = MaxTokensOpt,
    level: float = typer.Option(0.95, help="Interval level."),
    as_json: bool = JsonOpt,
    plot: Path | None = PlotOpt,
) -> None:
    """Lifetime optima as inference demand or budget varies: table and figure.

    Example: scalinglab frontier --preset besiroglu2024 --target-loss 2.1 --inference-tokens 0,1e11,1e12,1e13 --plot f.svg
    """
    from ..decide.frontier import lifetime_frontier
    from .core import _fit_or_preset

    source = _fit_or_preset(fit_file, preset)
    demand = _demand(
        flops,
        inference_tokens=None,
        inference_flops=inference_flops,
        unique_tokens=unique_tokens,
        max_params=max_params,
        max_tokens=max_tokens,
    )
    result = lifetime_frontier(
        source,
        inference_tokens=parse_quantities(inference_tokens, "--inference-tokens"),
        budgets=None if compute is None else parse_quantities(compute, "--compute"),
        target_losses=None
        if target_loss is None
        else parse_quantities(target_loss, "--target-loss"),
        demand=demand,
        level=level,
    )
    if plot is not None:
        from ..plot.decide import frontier_figure

        save_plot(frontier_figure(result, source), plot)
    print_json(result.to_dict()) if as_json else _print_frontier(result.to_dict())


def _print_frontier(payload: dict) -> None:
    console = stdout_console()
    table = _table(
        title=f"lifetime frontier over {payload['axis'].replace('_', ' ')}",
    )
    columns = (
        "inference_tokens",
        "budget",
        "N",
        "D",
        "tokens_per_param",
        "loss",
        "total_flops",
        "saving_fraction",
    )
    shown = [c for c in columns if any(row[c] is not None for row in payload["rows"])]
    for column in shown:
        table.add_column(column.replace("_", " "), justify="right")
    for row in payload["rows"]:
        ci = row["ci95"] or {}
        table.add_row(*(_with_ci(row[c], ci.get(c)) for c in shown))
    console.print(table)
    for note in payload["notes"]:
        console.print(f"[dim]note: {note}[/dim]")


@testtime_app.command("optimal")
def testtime_optimal(
    fit_file: Path | None = typer.Option(
        None, "--fit", help="A saved fit of a law of N and D."
    ),
    preset: str | None = typer.Option(
        None, "--preset", help="A published law, e.g. besiroglu2024."
    ),
    budget: str = typer.Option(
        ..., "--budget", help="Total FLOPs: training plus all sampling."
    ),
    queries: str = typer.Option(
        ..., "--queries", help="Answers served over the model's life."
    ),
    task: str = typer.Option(
        ..., "--task", help="'L50=2.1,scale=0.1,concentration=0.8[,floor=0,ceiling=1]'."
    ),
    tokens_per_sample: str = typer.Option(
        "1000", "--tokens-per-sample", help="Tokens per sample."
    ),
    k_max: int = typer.Option(
        10_000, "--k-max", help="Largest samples per query considered."
    ),
    level: float = typer.Option(0.95, help="Interval level."),
    as_json: bool = JsonOpt,
    plot: Path | None = PlotOpt,
) -> None:
    """N, D and samples per query k together for training plus Q queries (T^2).

    Example: scalinglab testtime optimal --fit t2.json --budget 1e24 --queries 1e9 --task L50=2.1,scale=0.1,concentration=0.8
    """
    from ..decide.t2 import TaskModel, t2_optimum
    from ._options import parse_assignments
    from .core import _fit_or_preset

    fields = parse_assignments(task.split(","), "--task")
    model = TaskModel(**_task_fields(fields))
    best = t2_optimum(
        _fit_or_preset(fit_file, preset),
        model,
        budget=_one(budget, "--budget"),
        queries=_one(queries, "--queries"),
        tokens_per_sample=_one(tokens_per_sample, "--tokens-per-sample"),
        k_max=k_max,
        level=level,
    )
    if plot is not None:
        from ..plot.decide import t2_figure

        save_plot(t2_figure(best), plot)
    print_json(best.to_dict()) if as_json else _print_t2(best.to_dict())


def _task_fields(fields: dict) -> dict:
    allowed = ("L50", "scale", "concentration", "floor", "ceiling")
    unknown = set(fields) - set(allowed)
    missing = {"L50", "scale", "concentration"} - set(fields)
    if unknown or missing:
        raise ScalinglabError(
            f"--task takes {', '.join(allowed)} (the first three required); "
            f"{'unknown ' + ', '.join(sorted(unknown)) if unknown else 'missing ' + ', '.join(sorted(missing))}."
        )
    return fields


def _one(text: str, name: str) -> float:
    values = parse_quantities(text, name)
    if values.size != 1:
        raise ScalinglabError(f"{name} takes one value; got {text!r}.")
    return float(values[0])


def _print_t2(payload: dict) -> None:
    console = stdout_console()
    table = _table(
        title=f"train-to-test optimum: k = {payload['k']} samples per query, "
        f"pass@k = {payload['pass_at_k']:.4g}",
    )
    for column in (
        "",
        "T^2 optimum",
        "one sample per query",
        "compute-optimal (no test time)",
    ):
        table.add_column(column, justify="right")
    ci = payload["ci95"] or {}
    for name in ("N", "D", "tokens_per_param", "loss"):
        value = _with_ci(payload[name], ci.get(name))
        table.add_row(
            name,
            value,
            _fmt(payload["one_sample"][name]),
            _fmt(payload["chinchilla"][name]),
        )
    console.print(table)
    console.print(
        f"over-training: {payload['overtraining']:.3g}x the compute-optimal tokens per parameter; "
        f"one sample per query gives pass@1 = {payload['one_sample']['pass_at_1']:.4g}"
    )
    for note in payload["notes"]:
        console.print(f"[dim]note: {note}[/dim]")
