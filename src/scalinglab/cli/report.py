"""``report``: one self-contained HTML page a team can read, share and print."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from ..errors import ScalinglabError
from ._app import app
from ._common import print_json, progress_bar
from ._options import (
    COpt,
    DOpt,
    JsonOpt,
    LossOpt,
    NKindOpt,
    NOpt,
    RunOpt,
    SeedOpt,
    WhereOpt,
    parse_assignments,
    parse_quantities,
)


@app.command()
def report(
    data: Path = typer.Argument(
        ...,
        help="Run table (CSV, TSV, Parquet, JSONL, JSON) or a study "
        "folder made by `scalinglab run`.",
        show_default=False,
    ),
    output: Path = typer.Option(..., "-o", "--output", help="HTML file to write."),
    N: str | None = NOpt,
    D: str | None = DOpt,
    C: str | None = COpt,
    loss: str | None = LossOpt,
    run: str | None = RunOpt,
    N_kind: str = NKindOpt,
    where: str | None = WhereOpt,
    law: str = typer.Option(
        "chinchilla",
        "--law",
        help="Law(s) to fit and compare, comma-separated, "
        "e.g. chinchilla,overtraining.",
    ),
    compute: str | None = typer.Option(
        None,
        "--compute",
        help="Budgets for the compute-optimal "
        "table, e.g. 1e23,1e24 (default: the next decades).",
    ),
    target: list[str] | None = typer.Option(
        None,
        "--target",
        help="A planned run to predict, e.g. N=7e9,D=2e12 (repeatable).",
    ),
    bootstrap: int = typer.Option(
        1000, "--bootstrap", min=1, help="Bootstrap replicates per fit."
    ),
    validation_bootstrap: int = typer.Option(
        200,
        "--validation-bootstrap",
        min=1,
        help="Bootstrap replicates of each refit without the largest runs (validation, "
        "comparison).",
    ),
    seed: int = SeedOpt,
    holdout: float = typer.Option(
        0.2,
        "--holdout-top",
        min=0.01,
        max=0.9,
        help="Share of rows held out to validate extrapolation: the largest N first "
        "(the largest C on an IsoFLOP grid).",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Fit, validate and compare laws, then write one offline HTML report with every figure.

    Example: scalinglab report runs.csv --N params --D tokens --loss loss --law chinchilla,overtraining -o report.html
    """
    from ..report import load_runs, write_report

    runs, warned, study = load_runs(
        data, N=N, D=D, C=C, loss=loss, run=run, N_kind=N_kind
    )
    runs = runs.query(where) if where else runs
    options = _options(
        law, target, compute, bootstrap, validation_bootstrap, seed, holdout
    )
    command = _command(data, output, runs.mapping, where, law, compute, target, options)
    with _steps(enabled=not as_json) as step:
        written = write_report(
            output,
            runs,
            read_warnings=warned,
            study=study,
            command=command,
            progress=step,
            **options,
        )
    if as_json:
        return print_json(written.to_dict())
    typer.echo(f"wrote {written.path}", err=True)


def _split(text: str, option: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise ScalinglabError(
            f"{option} needs at least one name, e.g. {option} chinchilla; got {text!r}."
        )
    return names


def _target(text: str) -> dict[str, float]:
    """``"N=7e9,D=2e12"`` -> ``{"N": 7e9, "D": 2e12}``."""
    return parse_assignments(_split(text, "--target"), "--target")


def _options(
    law, target, compute, bootstrap, validation_bootstrap, seed, holdout
) -> dict:
    """The keyword arguments of :func:`scalinglab.report.write_report` from the options."""
    return {
        "laws": _split(law, "--law"),
        "targets": [_target(t) for t in target or []],
        "compute": tuple(parse_quantities(compute, "--compute")) if compute else (),
        "bootstrap": bootstrap,
        "validation_bootstrap": validation_bootstrap,
        "seed": seed,
        "holdout": holdout,
    }


def _command(data, output, mapping, where, law, compute, target, options) -> str:
    """The command line that rebuilds this report (column options as resolved)."""
    parts = ["scalinglab", "report", str(data), "-o", str(output)]
    for name in ("N", "D", "C", "loss", "run"):
        if name in mapping:
            parts += [f"--{name}", mapping[name]]
    parts += ["--where", where] if where else []
    parts += ["--law", law] + (["--compute", compute] if compute else [])
    for t in target or []:
        parts += ["--target", t]
    for name in ("bootstrap", "validation_bootstrap", "seed", "holdout"):
        flag = "--holdout-top" if name == "holdout" else "--" + name.replace("_", "-")
        parts += [flag, str(options[name])]
    return " ".join(_quote(part) for part in parts)


def _quote(arg: str) -> str:
    """Shell quoting a reader can read: a query with single quotes goes in double quotes."""
    if "'" in arg and not any(c in arg for c in '"$`\\!'):
        return f'"{arg}"'
    return shlex.quote(arg)


@contextmanager
def _steps(enabled: bool) -> Iterator[Callable[[str], None] | None]:
    """The shared progress bar (:func:`~scalinglab.cli._common.progress_bar`) counting
    the report's steps and naming the current one; off with --json or when stderr is
    not a terminal."""
    from ..report.build import STEPS

    with progress_bar(enabled, "report", delay=0.0) as bar:
        if bar is None:
            yield None
            return
        yield lambda name: bar(STEPS.index(name), len(STEPS), label=f"report: {name}")
