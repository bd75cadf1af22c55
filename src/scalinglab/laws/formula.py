"""User-defined laws from a formula string, e.g. ``"E + A*N**-alpha + B*D**-beta"``.

The formula is parsed with :mod:`ast` and only a whitelist is accepted: numbers,
names, ``+ - * / **``, unary minus and calls to ``exp, log, sqrt, minimum,
maximum``. Anything else (attributes, subscripts, comparisons, ``^``, other
functions) raises :class:`~scalinglab.errors.ScalinglabError`.

Which names are inputs
----------------------
A name is an **input** when it is a run-table column: ``N`` (parameters),
``D`` (tokens), ``C`` (FLOPs), ``U`` (unique tokens), ``step``, or the generic
``x``. ``M`` (tokens per parameter) is also an input, computed as ``D/N``, so a
law that uses ``M`` takes ``N`` and ``D`` from the run table. Pass
``inputs=("N", "P")`` to name other columns. **Every other name is a
parameter**, with defaults chosen by its name:

- ``E``, ``E0``, ``E_...``, ``L0``, ``L_inf`` (irreducible loss): positive,
  optimised in log space, start grid exp(-1..1).
- Greek-letter names, alone or with a suffix (``alpha``, ``beta_D``, ``eta2``):
  exponents in [0, 3], start grid 0, 0.5, ..., 2.
- everything else (``A``, ``B``, ``N_c``, ``k``): positive scales in log
  space, start grid exp(0, 5, ..., 25).

These are the Chinchilla replication's grids, so the Chinchilla formula gets
the same 4,500 starts as the built-in law. Override any of them by name with
``bounds=``, ``init=``, ``fixed=`` or ``grid=``; a lower bound below zero
switches a parameter to linear space.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
from dataclasses import replace
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from ..errors import ScalinglabError
from ._grids import EXPONENT_GRID, LOG_E_GRID, LOG_SCALE_GRID
from .base import Law, make_law

INPUT_NAMES = ("N", "D", "C", "U", "M", "x", "step")
FUNCTIONS: dict[str, Callable] = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "minimum": np.minimum,
    "maximum": np.maximum,
}
GREEK = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa mu nu xi omicron rho sigma "
    "tau upsilon phi chi psi omega".split()
)
MAX_STARTS = 20_000

_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Call,
    *_OPERATORS,
)
_LHS = re.compile(r"^\s*(?:L|loss)\s*=(?!=)")


def formula_law(
    text: str,
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    init: Mapping[str, float] | None = None,
    fixed: Mapping[str, float] | None = None,
    grid: Mapping[str, Sequence[float]] | None = None,
    inputs: Iterable[str] | None = None,
    extra_inputs: Iterable[str] = (),
    name: str | None = None,
) -> Law:
    """Build a :class:`~scalinglab.laws.Law` from a formula string.

    Parameters
    ----------
    text : the right-hand side, e.g. ``"E + A*N**-alpha + B*D**-beta"``; a leading
        ``"L ="`` is allowed. Use ``**`` for powers.
    bounds, init, fixed, grid : per-parameter overrides by name: ``(lower, upper)``,
        a start value, a value to hold, or start-grid values (natural units).
    inputs : names that are run-table columns; default: those of the formula found in
        ``N, D, C, U, M, x, step`` (``M`` is computed as ``D/N``).
    extra_inputs : further names of the formula that are inputs besides the default
        ones, e.g. ``("P",)`` for a column of parallel streams (the CLI's
        ``--input P=streams``); ignored when ``inputs`` is given.
    name : the law's name; defaults to the formula text.

    Returns
    -------
    Law
        With ``published=False`` and ``source`` set to the formula text, so a saved
        fit can rebuild it with ``get_law(source)``.

    Raises
    ------
    ScalinglabError
        Syntax errors, anything outside the whitelist, a formula with no input or
        no parameter, overrides for names the formula does not have.

    Examples
    --------
    >>> law = formula_law("E + A*N**-alpha", bounds={"alpha": (0, 1)})
    >>> law.inputs, law.param_names
    (('N',), ('E', 'A', 'alpha'))
    >>> float(law.predict({"E": 1.5, "A": 100.0, "alpha": 0.5}, N=1e4))
    2.5
    """
    expression = _strip_lhs(text)
    tree = _parse(expression)
    names = _names_in_order(tree)
    input_names = _input_names(names, inputs, expression, tuple(extra_inputs))
    param_names = [n for n in names if n not in input_names]
    if not param_names:
        raise ScalinglabError(
            f"formula {expression!r} has no parameters to fit; every name in it is an input."
        )
    settings = {p: _default_settings(p) for p in param_names}
    _apply_overrides(
        settings, param_names, bounds=bounds, init=init, fixed=fixed, grid=grid
    )
    _thin_grids(settings, MAX_STARTS)
    law_inputs = _law_inputs(input_names)
    function = _compile(tree, law_inputs, param_names, derive_M="M" in input_names)
    law = make_law(
        function,
        settings,
        name=name or expression,
        formula=f"L = {expression}",
        reference="user-defined formula",
        published=False,
    )
    return replace(law, source=expression)


# -- parsing ----------------------------------------------------------------


def _strip_lhs(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ScalinglabError(
            f'a formula must be a non-empty string such as "E + A*N**-alpha"; got {text!r}.'
        )
    return _LHS.sub("", text, count=1).strip()


def _parse(expression: str) -> ast.Expression:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as err:
        raise ScalinglabError(
            f"cannot parse formula {expression!r}: {err.msg} at column {err.offset}. "
            'Write it in Python syntax, e.g. "E + A*N**-alpha + B*D**-beta".'
        ) from None
    for node in ast.walk(tree):
        _check_node(node, expression)
    return tree


def _check_node(node: ast.AST, expression: str) -> None:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):
        raise ScalinglabError(
            f"formula {expression!r} uses '^'; write powers as '**' (N**-alpha)."
        )
    if isinstance(node, ast.Attribute):
        raise ScalinglabError(
            f"formula {expression!r} uses {ast.unparse(node)!r}; call functions by their bare names "
            f"({', '.join(FUNCTIONS)})."
        )
    if not isinstance(node, _ALLOWED):
        raise ScalinglabError(
            f"formula {expression!r} contains {ast.unparse(node)!r} ({type(node).__name__}), which "
            "formulas do not allow; use numbers, names, + - * / **, and "
            f"{', '.join(FUNCTIONS)}."
        )
    if isinstance(node, ast.Constant) and (
        isinstance(node.value, bool) or not isinstance(node.value, (int, float))
    ):
        raise ScalinglabError(
            f"formula {expression!r} contains the constant {node.value!r}; only numbers are allowed."
        )
    if isinstance(node, ast.Call):
        _check_call(node, expression)


def _check_call(node: ast.Call, expression: str) -> None:
    called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
    if called not in FUNCTIONS:
        raise ScalinglabError(
            f"formula {expression!r} calls {called!r}; the functions allowed are {', '.join(FUNCTIONS)}."
        )
    arity = 2 if called in ("minimum", "maximum") else 1
    if node.keywords or len(node.args) != arity:
        raise ScalinglabError(
            f"formula {expression!r}: {called}() takes {arity} positional argument{'s' * (arity > 1)}; "
            f"got {ast.unparse(node)!r}."
        )


def _names_in_order(tree: ast.Expression) -> list[str]:
    """Names in order of first appearance (left to right), function names excluded."""
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    found = [
        n for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called
    ]
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    names = list(dict.fromkeys(n.id for n in found))
    clash = [n for n in names if n in FUNCTIONS]
    if clash:
        raise ScalinglabError(
            f"{clash[0]!r} is a function; call it as {clash[0]}(...), not as a name."
        )
    return names


def _input_names(
    names: list[str],
    inputs: Iterable[str] | None,
    expression: str,
    extra: tuple[str, ...] = (),
) -> list[str]:
    absent = [n for n in extra if n not in names]
    if absent:
        raise ScalinglabError(
            f"inputs {absent} do not appear in formula {expression!r}; its names are "
            f"{', '.join(names)}. Use the input's name in the formula (e.g. --input P=streams "
            "for a formula in P)."
        )
    if inputs is not None:
        chosen = [str(n) for n in inputs]
        missing = [n for n in chosen if n not in names]
        if missing:
            raise ScalinglabError(
                f"inputs {missing} do not appear in formula {expression!r}; its names are {', '.join(names)}."
            )
        return [n for n in names if n in chosen]
    found = [n for n in names if n in INPUT_NAMES or n in extra]
    if not found:
        raise ScalinglabError(
            f"formula {expression!r} uses no input column; inputs are the names {', '.join(INPUT_NAMES)} "
            "(or pass inputs=[...] to name others)."
        )
    return found


def _law_inputs(input_names: list[str]) -> list[str]:
    """Run-table columns the law needs: M is replaced by N and D (M = D/N)."""
    if "M" not in input_names:
        return list(input_names)
    return list(dict.fromkeys(["N", "D", *(n for n in input_names if n != "M")]))


# -- parameters -------------------------------------------------------------


def _kind(name: str) -> str:
    if name in ("E", "E0", "L0", "L_inf", "Linf", "E_inf") or name.startswith("E_"):
        return "irreducible"
    stem = re.split(r"[_0-9]", name, maxsplit=1)[0].lower()
    return "exponent" if stem in GREEK else "scale"


def _default_settings(name: str) -> dict:
    kind = _kind(name)
    if kind == "irreducible":
        return dict(init=1.0, lower=0.0, log=True, grid=LOG_E_GRID)
    if kind == "exponent":
        return dict(init=0.5, lower=0.0, upper=3.0, grid=EXPONENT_GRID)
    return dict(init=100.0, lower=0.0, log=True, grid=LOG_SCALE_GRID)


def _apply_overrides(
    settings: dict, names: list[str], **overrides: Mapping | None
) -> None:
    for kind, given in overrides.items():
        unknown = sorted(set(given or {}) - set(names))
        if unknown:
            raise ScalinglabError(
                f"{kind}= names {unknown}, which the formula does not have as parameters; "
                f"its parameters are {', '.join(names)}."
            )
    for name, (low, high) in (overrides["bounds"] or {}).items():
        _set_bounds(settings[name], name, float(low), float(high))
    for name, values in (overrides["grid"] or {}).items():
        settings[name]["grid"] = tuple(float(v) for v in values)
    for name, value in (overrides["init"] or {}).items():
        settings[name].update(init=float(value), grid=None)
    for name, value in (overrides["fixed"] or {}).items():
        s = settings[name]
        s.update(init=float(value), fixed=True, grid=None)
        s["lower"], s["upper"] = (
            min(s.get("lower", -math.inf), value),
            max(s.get("upper", math.inf), value),
        )
        if s.get("log") and value <= 0:
            s["log"] = False


def _set_bounds(s: dict, name: str, low: float, high: float) -> None:
    if not low < high:
        raise ScalinglabError(
            f"bounds for {name!r} must be (lower, upper) with lower < upper; got ({low}, {high})."
        )
    if s.get("log") and low < 0:
        s["log"] = False
    s.update(lower=low, upper=high, init=float(np.clip(s["init"], low, high)))
    inside = tuple(g for g in s.get("grid") or () if low <= g <= high)
    if len(inside) < 2 and math.isfinite(low) and math.isfinite(high):
        inside = (
            tuple(np.geomspace(low, high, 5))
            if s.get("log") and low > 0
            else tuple(np.linspace(low, high, 5))
        )
    s["grid"] = inside or None


def _thin_grids(settings: dict, limit: int) -> None:
    """Halve the longest start grids until their product is at most ``limit``."""
    while math.prod(len(s.get("grid") or (0,)) for s in settings.values()) > limit:
        longest = max(settings.values(), key=lambda s: len(s.get("grid") or ()))
        longest["grid"] = tuple(longest["grid"][::2])


# -- evaluation -------------------------------------------------------------


def _compile(
    tree: ast.Expression, law_inputs: list[str], params: list[str], derive_M: bool
) -> Callable:
    code = compile(tree, "<formula>", "eval")
    namespace = {"__builtins__": {}, **FUNCTIONS}

    def formula(*args, **values):
        local = dict(zip(law_inputs, args))
        if derive_M:
            local["M"] = local["D"] / local["N"]
        local.update(values)
        return eval(code, namespace, local)  # the tree passed the whitelist in _parse

    positional = [
        inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for n in law_inputs
    ]
    keyword = [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY) for p in params]
    formula.__signature__ = inspect.Signature(positional + keyword)
    return formula
