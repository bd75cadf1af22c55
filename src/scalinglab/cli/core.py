"""``fit``, ``predict``, ``optimal`` and ``laws``: the core loop from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer

from ..errors import ScalinglabError
from ..fit import fit as fit_law
from ..fit import load_fit
from ..laws import all_laws, get_law
from . import decide
from ._app import app
from ._common import console, new_table, print_json, progress_bar, save_plot
from ._options import (
    COpt,
    DataArg,
    DOpt,
    InputOpt,
    JsonOpt,
    LevelOpt,
    LossOpt,
    NKindOpt,
    NOpt,
    PlotOpt,
    RunOpt,
    bootstrap_option,
    flag,
    flops_per_token,
    one_of,
    parse_assignments,
    parse_bounds,
    parse_inputs,
    parse_quantities,
)


def read_columns(
    data: Path, N, D, C, loss, run, U, N_kind, dropna: bool = False, **options
):
    """The run table with the user's column mapping (shared by commands that read runs)."""
    from ..data import read_runs  # pandas: only commands that read a run table pay it

    return read_runs(
        data,
        N=N,
        D=D,
        C=C,
        loss=loss,
        run=run,
        U=U,
        N_kind=N_kind,
        dropna=dropna,
        **options,
    )


@app.command()
def fit(
    data: Path = DataArg,
    law: str = typer.Option(
        "chinchilla",
        help="Law name (see `scalinglab laws`), a formula string, or 'auto': the "
        "registered law that extrapolated best on these runs (rolling origin by C); "
        "chinchilla unless another beats it in 95% of run resamples.",
    ),
    N: Optional[str] = NOpt,
    D: Optional[str] = DOpt,
    C: Optional[str] = COpt,
    loss: Optional[str] = LossOpt,
    run: Optional[str] = RunOpt,
    U: Optional[str] = typer.Option(
        None, "--U", help="Column with unique tokens (data_constrained law)."
    ),
    N_kind: str = NKindOpt,
    input: Optional[list[str]] = InputOpt,
    domains: Optional[str] = typer.Option(
        None,
        "--domains",
        help="With --law mixing: the columns holding each domain's proportion, "
        'e.g. "academic,prose,dialogue" (the last is the reference domain).',
    ),
    loss_unit: str = typer.Option(
        "nats",
        "--loss-unit",
        help="Unit of the loss column; one containing 'normalized' (e.g. "
        "unigram_normalized, for tao2024) accepts losses <= 0.",
    ),
    dropna: bool = flag(
        "--dropna", "Drop rows with a missing value (and say how many)."
    ),
    objective: Optional[str] = typer.Option(
        None,
        help="huber, msle, mse or asymmetric (default: the law's own; huber on log-loss "
        "for all but laws of negative losses such as tao2024, which use mse).",
    ),
    delta: Optional[float] = typer.Option(
        None, help="Huber delta (default 1e-3) or asymmetric penalty."
    ),
    bootstrap: int = bootstrap_option(1000, "Bootstrap replicates over runs; 0 skips."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    extrapolation: str = typer.Option(
        "rolling",
        help="'rolling': widen prediction intervals beyond the data by the law's measured "
        "extrapolation error (rolling-origin refits); 'none': bootstrap and run scatter only.",
    ),
    average: bool = flag(
        "--average",
        "With --law auto: stack the candidate laws weighted by inverse median held-out "
        "error; intervals include the spread between laws.",
    ),
    fix: Optional[list[str]] = typer.Option(
        None, "--fix", help="Hold a parameter: NAME=VALUE (repeatable)."
    ),
    bound: Optional[list[str]] = typer.Option(
        None, "--bound", help="Bound a parameter: NAME=LOW,HIGH."
    ),
    output: Optional[Path] = typer.Option(
        None, "-o", "--output", help="Save the fit (JSON) here."
    ),
    plot: Optional[Path] = PlotOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Fit a scaling law with bootstrap intervals and diagnostics.

    Example: scalinglab fit runs.csv --law chinchilla --N params --D tokens --loss loss -o runs.chinchilla.json
    """
    extrapolation = one_of(extrapolation, "--extrapolation", ("rolling", "none"))
    inputs = parse_inputs(input)
    law = _with_domains(law, domains)
    needs = {"N", "D"} if law == "auto" else set(get_law(law, inputs=inputs).inputs)
    runs = read_columns(
        data,
        N,
        D,
        C,
        loss,
        run,
        U,
        N_kind,
        dropna,
        needs_compute=bool({"D", "C"} & needs),
        needs_N="N" in needs,
        loss_unit=loss_unit,
    ).with_inputs(inputs | _domain_columns(law, domains))
    with progress_bar(not as_json and bootstrap > 0, "bootstrap") as progress:
        result, choice = _fit_or_choose(
            law,
            inputs,
            runs,
            average,
            objective=objective,
            delta=delta,
            bootstrap=bootstrap,
            seed=seed,
            fixed=parse_assignments(fix, "--fix"),
            bounds=parse_bounds(bound),
            progress=progress,
            extrapolation=None if extrapolation == "none" else extrapolation,
        )
    if output is not None:
        result.save(output)
    if plot is not None:
        from ..plot.fit import fit_figure

        save_plot(fit_figure(result, runs), plot)
    if as_json:
        print_json(
            _fit_payload(result, choice) | {"saved": str(output) if output else None}
        )
        return
    out = console()
    if choice is not None:
        _print_choice(choice)
    out.print(result.summary() if not average else _weights_table(result))
    for note in runs.notes:
        out.print(f"[dim]data: {note}[/dim]")
    if output is not None:
        out.print(f"saved fit to {output}")


def _with_domains(law: str, domains: str | None) -> str:
    """``--law mixing --domains a,b,c`` -> ``mixing(a,b,c)``: the columns are the law's inputs."""
    if domains is None:
        return law
    if law != "mixing":
        raise ScalinglabError(
            f"--domains names the proportion columns of --law mixing; got --law {law}."
        )
    from ..laws.mixing import mixing_law

    return mixing_law([d.strip() for d in domains.split(",")]).name  # checks the names


def _domain_columns(law: str, domains: str | None) -> dict[str, str]:
    """Each domain column as a law input of the same name (checked by ``with_inputs``)."""
    return {} if domains is None else {name: name for name in get_law(law).inputs}


def _fit_or_choose(law: str, inputs: dict, runs, average: bool, **options):
    """The fit of ``law``, or with ``law == "auto"`` the best-extrapolating law's fit
    (``--average``: the stacked laws) and the ranking (``analysis.autolaw``)."""
    if law != "auto":
        if average:
            raise ScalinglabError(
                "--average stacks the candidates of --law auto; add it."
            )
        return fit_law(get_law(law, inputs=inputs), runs, **options), None
    if options["fixed"] or options["bounds"]:
        raise ScalinglabError(
            "--fix and --bound name one law's parameters; with --law auto the law is "
            "not known in advance. Fit the chosen law by name to fix or bound it."
        )
    if average:
        from ..analysis.lawaverage import fit_average

        stacked = fit_average(runs, **options)
        return stacked, stacked.choice
    from ..analysis.autolaw import fit_best

    return fit_best(runs, **options)


def _weights_table(stacked):
    table = new_table("--average: laws fitted on every run, weights", ["law", "weight"])
    for f, w in zip(stacked.fits, stacked.weights):
        table.add_row(f.law.name, f"{w:.3f}")
    return table


def _fit_payload(result, choice) -> dict:
    """The fit's JSON; with --law auto, ``law`` is the chosen name and ``ranking`` the candidates."""
    payload = result.to_dict()
    if choice is None or payload["law"] == "average":
        return payload
    selection = choice.to_dict()
    return payload | {
        "law": choice.law,
        "law_description": payload["law"],
        "ranking": selection.pop("ranking"),
        "law_selection": selection,
    }


def _print_choice(choice) -> None:
    table = new_table(
        f"--law auto: laws ranked by rolling-origin extrapolation error "
        f"({choice.folds} folds over {choice.levels} compute levels)",
        ["law", "error per decade", "median |rel error|", "predictions"],
    )
    for c in choice.ranking:
        scored = c.error is None
        table.add_row(
            c.law,
            f"{c.holdout_error:.2%}" if scored else "not scored",
            f"{c.median_error:.2%}" if scored else "",
            str(c.n_heldout),
        )
    console().print(table)
    margin = "" if choice.margin is None else f", margin {choice.margin:+.0%}"
    confidence = (
        ""
        if choice.confidence is None
        else f", {choice.ranking[0].law} beat it in {choice.confidence:.0%} of run "
        "resamples"
    )
    console().print(
        f"chosen: {choice.law} (default {choice.default}{confidence}{margin}; "
        "fitted on every run below)"
    )
    for note in choice.notes:
        console().print(f"[yellow]{note}[/yellow]")


def _inputs_from_options(
    law_inputs, given: dict[str, Optional[str]], at: list[str] | None
) -> dict:
    values = {
        k: parse_quantities(v, f"--{k}") for k, v in given.items() if v is not None
    }
    values.update({k: [v] for k, v in parse_assignments(at, "--at").items()})
    unknown = [name for name in values if name not in law_inputs]
    if unknown:
        raise ScalinglabError(
            f"this law takes {', '.join(law_inputs)}; {', '.join(unknown)} is not one of "
            "them (drop it or fit a law that uses it)."
        )
    missing = [name for name in law_inputs if name not in values]
    if missing:
        raise ScalinglabError(
            f"this law needs {', '.join(law_inputs)}; give {', '.join('--' + m for m in missing)} "
            "(or --at NAME=VALUE)."
        )
    return {k: values[k] for k in law_inputs}


@app.command()
def predict(
    fit_file: Path = typer.Option(
        ..., "--fit", help="A fit saved with `scalinglab fit -o`."
    ),
    N: Optional[str] = typer.Option(
        None, "--N", help="Parameters, e.g. 7e9 or 7B (comma list allowed)."
    ),
    D: Optional[str] = typer.Option(None, "--D", help="Training tokens, e.g. 2T."),
    C: Optional[str] = typer.Option(None, "--C", help="Training FLOPs (laws of C)."),
    U: Optional[str] = typer.Option(
        None, "--U", help="Unique tokens (data_constrained)."
    ),
    at: Optional[list[str]] = typer.Option(
        None, "--at", help="Other law inputs: NAME=VALUE."
    ),
    level: float = LevelOpt,
    plot: Optional[Path] = PlotOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Predict the loss of a planned run, with an interval when the fit has bootstrap draws.

    Example: scalinglab predict --fit runs.chinchilla.json --N 7e9 --D 2e12
    """
    result = _load_fit_or_average(fit_file)
    needed = result.inputs if hasattr(result, "fits") else result.law.inputs
    inputs = _inputs_from_options(needed, {"N": N, "D": D, "C": C, "U": U}, at)
    from ..analysis.prediction import interval_key, level_text, prediction_table

    table = prediction_table(result, inputs, level=level)
    if plot is not None:
        if hasattr(result, "fits"):
            raise ScalinglabError(
                "--plot draws one law's fit; it does not apply to an average."
            )
        from ..plot.fit import prediction_figure

        save_plot(prediction_figure(result, table["rows"], level=level), plot)
    if as_json:
        print_json(
            table
            if len(table["rows"]) > 1
            else table["rows"][0] | {"diagnostics": table["diagnostics"]}
        )
        return
    _print_rows(
        f"prediction ({level_text(level)} interval for a new run)",
        table["rows"],
        ["loss"],
        interval_key(level),
    )
    _print_diagnostics(table["diagnostics"])


@app.command()
def optimal(
    compute: Optional[str] = typer.Option(
        None,
        "--compute",
        help="Budget(s) in FLOPs, e.g. 1e24 or 1e21,1e24 (training + inference with --inference-tokens).",
    ),
    fit_file: Optional[Path] = typer.Option(None, "--fit", help="A saved fit."),
    preset: Optional[str] = typer.Option(
        None, "--preset", help="A published law, e.g. besiroglu2024."
    ),
    flops: Optional[str] = typer.Option(
        None,
        "--flops-per-token",
        help="Cost model in N, e.g. '6*N + 2e9' (default 6*N).",
    ),
    U: Optional[str] = typer.Option(
        None, "--U", help="Unique tokens available (data_constrained laws)."
    ),
    at: Optional[list[str]] = typer.Option(
        None,
        "--at",
        help="Hold another input of the law at a value: NAME=VALUE (repeatable), e.g. "
        "a column a formula took with --input.",
    ),
    level: float = LevelOpt,
    plot: Optional[Path] = PlotOpt,
    as_json: bool = JsonOpt,
    target_loss: Optional[float] = decide.TargetLossOpt,
    inference_tokens: Optional[str] = decide.InferenceTokensOpt,
    inference_flops: Optional[str] = decide.InferenceFlopsOpt,
    unique_tokens: Optional[str] = decide.UniqueTokensOpt,
    max_params: Optional[str] = decide.MaxParamsOpt,
    max_tokens: Optional[str] = decide.MaxTokensOpt,
    cost: Optional[str] = decide.CostOpt,
    hardware: Optional[str] = decide.HardwareOpt,
    gpu_hours: Optional[str] = decide.GpuHoursOpt,
    dollars: Optional[str] = decide.DollarsOpt,
) -> None:
    """Compute-optimal N*, D*, loss and tokens per parameter for a budget; with lifetime options
    (--inference-tokens, --target-loss, --unique-tokens, caps, --cost) the lifetime optimum.

    Example: scalinglab optimal --preset besiroglu2024 --compute 1e24 --inference-tokens 2e12
    """
    source = _fit_or_preset(fit_file, preset)
    lifetime = dict(
        target_loss=target_loss,
        inference_tokens=inference_tokens,
        inference_flops=inference_flops,
        unique_tokens=unique_tokens,
        max_params=max_params,
        max_tokens=max_tokens,
        cost=cost,
        hardware=hardware,
        gpu_hours=gpu_hours,
        dollars=dollars,
    )
    if decide.wants_lifetime(**lifetime):
        if plot is not None:
            raise ScalinglabError(
                "--plot draws the compute-optimal frontier of a budget; "
                "it does not apply to the lifetime options."
            )
        return decide.run_lifetime(
            source, compute, flops, level, as_json, **lifetime, U=U
        )
    if compute is None:
        raise ScalinglabError(
            "give --compute FLOPs (or --target-loss for the cheapest model reaching a loss)."
        )
    budgets = parse_quantities(compute, "--compute")
    fixed = {"U": float(parse_quantities(U, "--U")[0])} if U else {}
    fixed |= parse_assignments(at, "--at")
    allocation = source.optimal(
        budgets if budgets.size > 1 else budgets[0],
        flops_per_token=flops_per_token(flops),
        level=level,
        **fixed,
    )
    payload = allocation.to_dict()
    if plot is not None:
        from ..plot.fit import frontier_figure

        save_plot(frontier_figure(source, budgets), plot)
    if as_json:
        print_json(
            payload
            if budgets.size == 1
            else {
                "budgets": _split(payload, budgets.size),
                "diagnostics": payload["diagnostics"],
            }
        )
        return
    from ..analysis.prediction import level_text

    level_note = (
        f", {level_text(level)} intervals" if allocation.ci95 is not None else ""
    )
    _print_rows(
        f"compute-optimal allocation ({allocation.method}, {allocation.cost_model}{level_note})",
        _split(payload, budgets.size),
        ["compute", "N", "D", "tokens_per_param", "loss"],
    )
    _print_diagnostics(payload["diagnostics"])


def _load_fit_or_average(path: Path):
    """A saved fit, or a saved ``--law auto --average`` (told apart by its format key)."""
    import json

    from ..analysis.lawaverage import AVERAGE_FORMAT, load_average

    try:
        kind = json.loads(Path(path).read_text()).get("format")
    except (OSError, ValueError, AttributeError):
        kind = None  # load_fit names what is wrong with the file
    return load_average(path) if kind == AVERAGE_FORMAT else load_fit(path)


def _fit_or_preset(fit_file: Optional[Path], preset: Optional[str]):
    if (fit_file is None) == (preset is None):
        raise ScalinglabError(
            "give exactly one of --fit FILE or --preset NAME (see `scalinglab laws --presets`)."
        )
    if fit_file is not None:
        return load_fit(fit_file)
    from ..laws.presets import get_preset

    return get_preset(preset)


def _split(payload: dict, count: int) -> list[dict]:
    """One row per budget; a single budget's payload holds scalars."""
    rows = []
    for i in range(count):
        row = {
            k: np.atleast_1d(payload[k])[i]
            for k in ("compute", "N", "D", "loss", "tokens_per_param")
        }
        if "ci95" in payload:
            row["ci95"] = {
                k: [np.atleast_1d(lo)[i], np.atleast_1d(hi)[i]]
                for k, (lo, hi) in payload["ci95"].items()
            }
        rows.append(row)
    return rows


def _print_rows(
    title: str, rows: list[dict], columns: list[str], key: str = "ci95"
) -> None:
    """One row per prediction or budget; a quantity with an interval (``key``) shows it beside the value."""
    names = columns + [k for k in rows[0] if k not in columns and k != key]
    table = new_table(title, names)
    for row in rows:
        table.add_row(*(_cell(row, name, key) for name in names))
    console().print(table)


def _print_diagnostics(diagnostics: list[dict]) -> None:
    for d in diagnostics:
        console().print(f"[yellow]{d['message']}[/yellow]")


def _cell(row: dict, name: str, key: str) -> str:
    value = row.get(name)
    text = (
        f"{value:.4g}"
        if isinstance(value, float)
        else str(value if value is not None else "")
    )
    ci = row.get(key)
    interval = (
        ci.get(name) if isinstance(ci, dict) else (ci if name == "loss" else None)
    )
    return f"{text} [{interval[0]:.4g}, {interval[1]:.4g}]" if interval else text


@app.command("laws")
def list_laws(
    presets: bool = flag("--presets", "List published presets instead."),
    as_json: bool = JsonOpt,
) -> None:
    """List the registered laws (formula, inputs, parameters) or the published presets.

    Example: scalinglab laws --presets
    """
    if presets:
        from ..laws.presets import PRESETS

        rows = [p.describe() for p in PRESETS.values()]
    else:
        rows = [law.describe() for law in all_laws()]
    if as_json:
        print_json({"presets" if presets else "laws": rows})
        return
    columns = (
        ["name", "law", "source", "params"]
        if presets
        else ["name", "formula", "inputs", "params"]
    )
    table = new_table(
        "published presets" if presets else "laws", columns, justify="left"
    )
    for row in rows:
        if presets:
            params = ", ".join(f"{k}={v:.4g}" for k, v in row["params"].items())
            table.add_row(row["name"], row["law"], row["source"], params)
        else:
            params = ", ".join(p["name"] for p in row["params"])
            table.add_row(row["name"], row["formula"], ", ".join(row["inputs"]), params)
    console().print(table)
