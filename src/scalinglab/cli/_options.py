"""Options shared by CLI commands (the run-table columns, --json, --plot, ...) and their parsing."""

from __future__ import annotations

import ast
from collections.abc import Callable

import numpy as np
import typer

from ..errors import ScalinglabError
from ..units import parse_quantity

DataArg = typer.Argument(
    ..., help="Run table: CSV, TSV, Parquet, JSONL or JSON.", show_default=False
)


def flag(name: str, help: str) -> typer.models.OptionInfo:
    """A boolean flag shown in --help as ``--name`` alone (no ``<bool>`` value to type)."""
    return typer.Option(False, name, metavar="", help=help)


def _check_level(value: float) -> float:
    if not 0 < value < 1:
        raise typer.BadParameter(f"must be between 0 and 1 (e.g. 0.9); got {value:g}.")
    return value


def bootstrap_option(
    default: int, help: str, minimum: int = 0
) -> typer.models.OptionInfo:
    """``--bootstrap N``: replicates, at least ``minimum`` (a usage error, exit 2, below it)."""
    return typer.Option(default, "--bootstrap", min=minimum, help=help)


def one_of(value: str, option: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else an error naming the option and the choices."""
    if value not in choices:
        listed = " or ".join(repr(c) for c in choices)
        raise ScalinglabError(f"{option} must be {listed}; got {value!r}.")
    return value


JsonOpt = flag("--json", "Print one JSON object instead of tables.")
LevelOpt = typer.Option(
    0.95, "--level", callback=_check_level, help="Interval level, between 0 and 1."
)
NOpt = typer.Option(None, "--N", help="Column with parameters (default N or an alias).")
DOpt = typer.Option(None, "--D", help="Column with training tokens.")
COpt = typer.Option(None, "--C", help="Column with training FLOPs.")
LossOpt = typer.Option(None, "--loss", help="Column with the loss.")
RunOpt = typer.Option(
    None, "--run", help="Column naming the run of each row (checkpoints)."
)
NKindOpt = typer.Option(
    "unknown", "--N-kind", help="How N is counted: total, non_embedding, active."
)
WhereOpt = typer.Option(
    None,
    "--where",
    help="Keep only rows matching a pandas query, e.g. \"dataset == 'rw'\".",
)
PlotOpt = typer.Option(None, "--plot", help="Save a figure here (.png or .svg).")
SeedOpt = typer.Option(0, help="Seed of the bootstrap draws.")


InputOpt = typer.Option(
    None,
    "--input",
    help="A law input read from any column: NAME=COLUMN, e.g. P=streams (repeatable). "
    "A formula takes NAME as an input; a registered law must name it among its inputs.",
)


def parse_inputs(items: list[str] | None) -> dict[str, str]:
    """``["P=streams"]`` -> ``{"P": "streams"}`` (law input name -> run-table column)."""
    inputs: dict[str, str] = {}
    for item in items or []:
        name, sep, column = (part.strip() for part in item.partition("="))
        if not sep or not name.isidentifier() or not column:
            raise ScalinglabError(
                f"--input expects NAME=COLUMN with NAME a name the law uses "
                f"(e.g. --input P=streams); got {item!r}."
            )
        if inputs.get(name, column) != column:
            raise ScalinglabError(
                f"--input {name} is given twice ({inputs[name]!r} and {column!r}); keep one."
            )
        inputs[name] = column
    return inputs


def parse_assignments(items: list[str] | None, option: str) -> dict[str, float]:
    """``["E=1.7", "alpha=0.3"]`` -> ``{"E": 1.7, "alpha": 0.3}``."""
    values = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ScalinglabError(
                f"{option} expects NAME=VALUE (e.g. {option} E=1.7); got {item!r}."
            )
        values[name.strip()] = parse_quantity(value, name=f"{option} {name.strip()}")
    return values


def parse_bounds(items: list[str] | None) -> dict[str, tuple[float, float]]:
    """``["alpha=0,1"]`` -> ``{"alpha": (0.0, 1.0)}``."""
    bounds = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        parts = value.split(",")
        if not sep or len(parts) != 2:
            raise ScalinglabError(
                f"--bound expects NAME=LOW,HIGH (e.g. --bound alpha=0,1); got {item!r}."
            )
        low, high = (parse_quantity(p, name=f"--bound {name}") for p in parts)
        if not low < high:
            raise ScalinglabError(
                f"--bound {name}: LOW must be below HIGH; got {value!r}."
            )
        bounds[name.strip()] = (low, high)
    return bounds


def parse_quantities(text: str, name: str) -> np.ndarray:
    """``"1e21,1e24"`` or ``"3e23"`` -> array of floats."""
    return np.array(
        [parse_quantity(part, name=name) for part in text.split(",") if part.strip()]
    )


_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
)


def flops_per_token(
    expression: str | None,
) -> Callable[[np.ndarray], np.ndarray] | None:
    """A cost model such as ``"6*N + 6*1.2e9"``: training FLOPs per token as a function of N."""
    if expression is None:
        return None
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise ScalinglabError(
            f"--flops-per-token: cannot parse {expression!r}; use e.g. '6*N + 2e9'."
        ) from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED) or (
            isinstance(node, ast.Name) and node.id != "N"
        ):
            raise ScalinglabError(
                f"--flops-per-token may use only N, numbers and + - * / **; got {expression!r}."
            )
    code = compile(tree, "<flops-per-token>", "eval")
    return lambda N: eval(code, {"__builtins__": {}}, {"N": N})
