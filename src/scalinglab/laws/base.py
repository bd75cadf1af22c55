"""The law contract: a plain numpy function plus named, bounded parameters.

A law's function takes its inputs positionally and its parameters by keyword::

    def chinchilla(N, D, *, E, A, B, alpha, beta):
        return E + A / N**alpha + B / D**beta

Every parameter arrives as an array of shape ``(S, 1)`` (S parameter sets) and
every input as shape ``(n,)``, so one call evaluates S candidate fits on n
points at once. Plain numpy broadcasting gives that for free; the fitting
engine relies on it to screen thousands of starts in one evaluation.
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

import numpy as np

from ..errors import ScalinglabError

Inputs = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Param:
    """One named parameter.

    Parameters
    ----------
    name : parameter name, as in the law's signature.
    init : default starting value (natural units).
    lower, upper : bounds in natural units (inclusive).
    fixed : held at ``init`` during fitting.
    log : optimise ``log(value)``; for positive scale parameters this gives
        the log-sum-exp parameterisation of additive laws.
    grid : starting values screened by the multi-start search (natural units).
    """

    name: str
    init: float
    lower: float = -np.inf
    upper: float = np.inf
    fixed: bool = False
    log: bool = False
    grid: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not self.lower <= self.init <= self.upper:
            raise ScalinglabError(
                f"parameter {self.name!r}: init {self.init} is outside its bounds "
                f"[{self.lower}, {self.upper}]."
            )
        if self.log and self.lower < 0:
            raise ScalinglabError(
                f"parameter {self.name!r} is optimised in log space, so its lower bound "
                f"must be >= 0; got {self.lower}."
            )

    def to_fit_space(self, value: np.ndarray | float) -> np.ndarray:
        return np.log(value) if self.log else np.asarray(value, dtype=float)

    def from_fit_space(self, theta: np.ndarray) -> np.ndarray:
        if not self.log:
            return theta
        with np.errstate(over="ignore"):
            return np.exp(theta)

    def fit_bounds(self) -> tuple[float, float]:
        if self.log:
            low = np.log(self.lower) if self.lower > 0 else -np.inf
            return low, np.log(self.upper) if np.isfinite(self.upper) else np.inf
        return self.lower, self.upper

    def starts(self) -> tuple[float, ...]:
        return self.grid if (self.grid and not self.fixed) else (self.init,)


@dataclass(frozen=True)
class Law:
    """A scaling law: a vectorised function of named inputs and parameters.

    Use :func:`make_law` to build one from a function; use :meth:`fix` and
    :meth:`bound` to hold or constrain parameters by name (lmfit style).
    """

    name: str
    function: Callable[..., np.ndarray] = field(repr=False)
    inputs: tuple[str, ...]
    params: tuple[Param, ...]
    formula: str
    reference: str = ""
    published: bool = True
    log_jacobian: Callable[..., np.ndarray] | None = field(default=None, repr=False)
    source: str | None = None  # formula text for user-defined laws (to rebuild on load)
    # Closed-form compute-optimal N under C = 6 N D: optimum(C, **params) -> N, if one exists.
    optimum: Callable[..., np.ndarray] | None = field(default=None, repr=False)
    # Default fitting objective: "huber" works on log-loss, so a law of losses that
    # can be negative (unigram-normalised) names a linear-space one such as "mse".
    objective: str = "huber"

    def __str__(self) -> str:
        return self.name

    # -- parameters -------------------------------------------------------
    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def free_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if not p.fixed)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ScalinglabError(
            f"law {self.name!r} has no parameter {name!r}; its parameters are "
            f"{', '.join(self.param_names)}."
        )

    def fix(self, **values: float) -> "Law":
        """Return a copy with the named parameters held at the given values."""
        return self._replace_params(
            {k: dict(init=float(v), fixed=True) for k, v in values.items()}, widen=True
        )

    def bound(self, **bounds: tuple[float, float]) -> "Law":
        """Return a copy with new ``(lower, upper)`` bounds for the named parameters."""
        changes = {}
        for name, (low, high) in bounds.items():
            init = float(np.clip(self.param(name).init, low, high))
            changes[name] = dict(lower=float(low), upper=float(high), init=init)
        return self._replace_params(changes)

    def with_init(self, **values: float) -> "Law":
        """Return a copy whose named parameters start (only) from the given values."""
        return self._replace_params(
            {k: dict(init=float(v), grid=None) for k, v in values.items()}
        )

    def _replace_params(self, changes: dict[str, dict], widen: bool = False) -> "Law":
        for name in changes:
            self.param(name)
        params = []
        for p in self.params:
            change = dict(changes.get(p.name, {}))
            if widen and "init" in change:
                change["lower"] = min(p.lower, change["init"])
                change["upper"] = max(p.upper, change["init"])
            params.append(replace(p, **change))
        return replace(self, params=tuple(params))

    # -- evaluation -------------------------------------------------------
    def evaluate(self, inputs: Inputs, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Evaluate on ``inputs`` (arrays of shape (n,)) for parameter arrays of shape (S, 1)."""
        args = [np.asarray(inputs[name], dtype=float) for name in self.inputs]
        return self.function(*args, **values)

    def predict(
        self, params: Mapping[str, float], **inputs: np.ndarray | float
    ) -> np.ndarray:
        """Predict for one parameter set; inputs broadcast against each other."""
        missing = [name for name in self.inputs if name not in inputs]
        if missing:
            raise ScalinglabError(
                f"law {self.name!r} needs inputs {', '.join(self.inputs)}; missing {', '.join(missing)}."
            )
        arrays = np.broadcast_arrays(
            *(np.asarray(inputs[n], dtype=float) for n in self.inputs)
        )
        shape = arrays[0].shape
        flat = {n: a.ravel() for n, a in zip(self.inputs, arrays)}
        values = {k: np.array([[float(params[k])]]) for k in self.param_names}
        return np.asarray(self.evaluate(flat, values), dtype=float).reshape(shape)

    def start_grid(self) -> np.ndarray:
        """Cartesian product of the free parameters' starting values, in fit space, shape (S, P)."""
        free = self.free_params
        axes = [p.to_fit_space(np.asarray(p.starts(), dtype=float)) for p in free]
        grid = np.array(list(itertools.product(*axes)), dtype=float).reshape(
            -1, len(free)
        )
        low, high = self.fit_bounds()
        return np.clip(grid, low, high)

    def fit_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        bounds = np.array(
            [p.fit_bounds() for p in self.free_params], dtype=float
        ).reshape(-1, 2)
        return bounds[:, 0], bounds[:, 1]

    def unpack(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Free fit-space vectors (S, P) to natural parameter arrays of shape (S, 1)."""
        theta = np.atleast_2d(theta)
        values, column = {}, 0
        for p in self.params:
            if p.fixed:
                values[p.name] = np.full((theta.shape[0], 1), p.init)
            else:
                values[p.name] = p.from_fit_space(theta[:, column : column + 1])
                column += 1
        return values

    def pack(self, values: Mapping[str, float]) -> np.ndarray:
        """Natural parameter values to the free fit-space vector (P,)."""
        return np.array(
            [p.to_fit_space(float(values[p.name])) for p in self.free_params]
        )

    def describe(self) -> dict:
        """JSON-safe description: name, formula, inputs, parameters with bounds."""
        return {
            "name": self.name,
            "formula": self.formula,
            "inputs": list(self.inputs),
            "reference": self.reference,
            "published": self.published,
            "params": [
                {
                    "name": p.name,
                    "init": p.init,
                    "lower": p.lower,
                    "upper": p.upper,
                    "fixed": p.fixed,
                    "log": p.log,
                }
                for p in self.params
            ],
        }


def make_law(
    function: Callable[..., np.ndarray],
    params: Mapping[str, dict] | None = None,
    *,
    name: str | None = None,
    formula: str | None = None,
    reference: str = "",
    published: bool = True,
    log_jacobian: Callable[..., np.ndarray] | None = None,
    optimum: Callable[..., np.ndarray] | None = None,
    objective: str = "huber",
) -> Law:
    """Build a :class:`Law` from a function ``f(*inputs, *, **params)``.

    Positional arguments name the inputs (run-table columns); keyword-only
    arguments name the parameters. ``params`` gives each parameter's settings
    (``init``, ``lower``, ``upper``, ``log``, ``grid``, ``fixed``); ``objective``
    is the law's default fitting objective.
    """
    signature = inspect.signature(function)
    inputs = tuple(
        n
        for n, p in signature.parameters.items()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )
    names = [n for n, p in signature.parameters.items() if p.kind == p.KEYWORD_ONLY]
    settings = dict(params or {})
    unknown = set(settings) - set(names)
    if unknown:
        raise ScalinglabError(
            f"settings given for unknown parameters {sorted(unknown)}."
        )
    built = tuple(Param(n, **{"init": 1.0, **settings.get(n, {})}) for n in names)
    doc = (function.__doc__ or "").strip().splitlines()
    return Law(
        name=name or function.__name__,
        function=function,
        inputs=inputs,
        params=built,
        formula=formula or (doc[0] if doc else function.__name__),
        reference=reference,
        published=published,
        log_jacobian=log_jacobian,
        optimum=optimum,
        objective=objective,
    )
