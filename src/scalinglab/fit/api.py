"""``fit(law, runs)``: the one entry point every law and every analysis uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from .._version import __version__
from ..errors import FitDidNotConverge, InputError, ScalinglabError
from ..laws.base import Law
from ..laws.registry import get_law
from . import diagnostics as diag
from .bootstrap import bootstrap as run_bootstrap
from .engine import Problem, predictions, refine, screen
from .extrapolation import estimate as estimate_extrapolation
from .extrapolation import scale_column
from .objectives import get_objective
from .result import FitResult

DEFAULT_REFINE = 16


def fit(
    law: str | Law,
    runs: Any,
    *,
    objective: str | None = None,
    delta: float | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    weights: np.ndarray | None = None,
    fixed: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    init: Mapping[str, float] | None = None,
    refine_starts: int = DEFAULT_REFINE,
    strict: bool = False,
    extrapolation: str | None = "rolling",
    progress: Callable[[int, int], None] | None = None,
) -> FitResult:
    """Fit a scaling law to runs.

    Parameters
    ----------
    law : a registered law name (``scalinglab laws``), a formula string, or a :class:`Law`.
    runs : a :class:`~scalinglab.data.RunTable`, a path or DataFrame (read with
        :func:`~scalinglab.data.read_runs` defaults), or a dict of arrays with the
        law's inputs and ``loss`` (and optionally ``run``).
    objective : None (default: the law's own, ``law.objective``, else "huber"), "huber"
        (delta 1e-3 on log-loss residuals, summed), "msle",
        "mse" or "asymmetric" (over-predictions weighted ``delta`` times, default 4).
    bootstrap : replicates of the run-level bootstrap (0 skips it).
    seed : seeds the bootstrap; the fit itself is deterministic.
    weights : per-point weights (default 1).
    fixed, bounds, init : hold, bound or start parameters by name.
    refine_starts : how many of the best screened starts are refined.
    strict : raise :class:`FitDidNotConverge` instead of warning.
    extrapolation : ``"rolling"`` (default, with a bootstrap) estimates how the law's log
        error grows per decade beyond the fitted range from rolling-origin refits on the
        data, and widens prediction intervals beyond the range by it
        (:mod:`scalinglab.fit.extrapolation`); None leaves intervals to the bootstrap.
    progress : called as ``progress(done, total)`` during the bootstrap.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import numpy as np, scalinglab as sl
    >>> N, D = np.meshgrid([1e7, 1e8, 1e9], [1e9, 1e10, 1e11])
    >>> L = 1.7 + 400 * N**-0.34 + 410 * D**-0.28
    >>> result = sl.fit("chinchilla", {"N": N.ravel(), "D": D.ravel(), "loss": L.ravel()}, bootstrap=0)
    >>> round(result.params["alpha"], 4)
    0.34
    """
    law = _resolve_law(law, fixed, bounds, init)
    table = _as_table(runs, law)
    problem = _build_problem(law, table, objective or law.objective, delta, weights)
    starts, chosen = _screen(problem, refine_starts)
    best = _refine(problem, chosen, screened=len(starts))
    residuals = (predictions(problem, best.theta[None]) - problem.observed)[0]
    found = _diagnostics(problem, table, best, residuals)
    draws = None
    if bootstrap > 0:
        draws, failed = _bootstrap(
            problem, best.theta, table, bootstrap, seed, progress
        )
        found += diag.bootstrap_failures(failed, bootstrap)
    spread = None
    if bootstrap > 0 and extrapolation is not None:
        spread, note = _extrapolation_error(
            problem, table, extrapolation, best.theta, starts, residuals
        )
        found += note
    settings = {
        "bootstrap": int(bootstrap),
        "seed": int(seed),
        "weights": "given" if weights is not None else "uniform",
        "extrapolation": extrapolation if bootstrap > 0 else None,
    }
    result = _result(problem, table, best, residuals, found, draws, spread, settings)
    if strict and not result.converged:
        raise FitDidNotConverge(f"{law.name} did not converge", result)
    return result


@dataclass(frozen=True)
class _Best:
    """The best refined start and how many of the refined starts agree with it."""

    theta: np.ndarray  # fit space, (P,)
    objective: float
    converged: bool
    gradient: float
    agreeing: int
    distinct: int
    refined: int
    screened: int


def _resolve_law(law: str | Law, fixed, bounds, init) -> Law:
    """The law by name, formula or instance, with the caller's bounds, starts and fixed values."""
    law = _configure(get_law(law), fixed, bounds, init)
    if not law.free_params:
        raise ScalinglabError(
            f"every parameter of {law.name!r} is fixed; nothing to fit."
        )
    return law


def _build_problem(law: Law, table, objective, delta, weights) -> Problem:
    """The law's inputs and the losses from the run table, the objective and point weights."""
    inputs = {name: table.array(name) for name in law.inputs}
    target = table.array("loss")
    point_weights = _point_weights(weights, target.size)
    return Problem(law, inputs, target, get_objective(objective, delta), point_weights)


def _screen(problem: Problem, refine_starts: int) -> tuple[np.ndarray, np.ndarray]:
    """The law's start grid and its ``refine_starts`` best starts by objective."""
    starts = problem.law.start_grid()
    order = np.argsort(screen(problem, starts), kind="stable")[: max(1, refine_starts)]
    return starts, starts[order]


def _refine(problem: Problem, chosen: np.ndarray, *, screened: int) -> _Best:
    """Refine the chosen starts together; the best one, or an error when none is finite."""
    refined = refine(problem, chosen)
    best = int(np.argmin(refined.objective))
    if not np.isfinite(refined.objective[best]):
        raise ScalinglabError(
            f"{problem.law.name}: every start gave a non-finite objective; check that the "
            "losses are positive and the law can reach them, or give starting values with init=."
        )
    agreeing, distinct = _agreement(refined, best)
    return _Best(
        theta=refined.theta[best],
        objective=float(refined.objective[best]),
        converged=bool(refined.converged[best]),
        gradient=float(refined.gradient[best]),
        agreeing=agreeing,
        distinct=distinct,
        refined=len(chosen),
        screened=screened,
    )


def _params(law: Law, theta: np.ndarray) -> dict[str, float]:
    """Natural parameter values by name from a fit-space vector."""
    return {k: float(v[0, 0]) for k, v in law.unpack(theta[None]).items()}


def _bootstrap(problem: Problem, theta, table, replicates: int, seed: int, progress):
    """Draws of the converged run-bootstrap replicates (replicates, params) in
    ``law.param_names`` order (None if none converged), and how many did not converge."""
    reps = run_bootstrap(
        problem,
        theta,
        table.runs(),
        replicates=replicates,
        seed=seed,
        progress=progress,
    )
    # Non-converged replicates bias the intervals (they stop short of their optimum).
    values = problem.law.unpack(reps.theta[reps.converged])
    draws = np.column_stack([values[name][:, 0] for name in problem.law.param_names])
    return (draws if len(draws) else None), int((~reps.converged).sum())


def _diagnostics(problem: Problem, table, best: _Best, residuals) -> list:
    """Warnings about the optimum itself: convergence, bounds, design, outliers, optima."""
    law, inputs = problem.law, problem.inputs
    return (
        diag.not_converged(best.converged, best.gradient)
        + diag.at_bounds(law, _params(law, best.theta))
        + diag.few_runs(_n_runs(table), len(law.free_params))
        + diag.collinear_ratio(inputs)
        + diag.single_level(inputs)
        + diag.outliers(
            residuals,
            table.row_numbers,
            table.row_convention,
            n_params=len(law.free_params),
        )
        + diag.weakly_identified(best.distinct, best.agreeing, best.refined)
    )


def _n_runs(table) -> int:
    """Distinct runs in the table (checkpoints of one run count once)."""
    return int(table.runs().max()) + 1


def _result(problem, table, best: _Best, residuals, found, draws, spread, settings):
    """Assemble the frozen result; ``settings`` carries the bootstrap and weight options."""
    law = problem.law
    return FitResult(
        law=law,
        params=_params(law, best.theta),
        objective=best.objective,
        objective_spec=problem.objective,
        converged=best.converged,
        gradient=best.gradient,
        n_points=int(problem.target.size),
        n_runs=_n_runs(table),
        diagnostics=tuple(found),
        draws=draws,
        residual_scale=diag.residual_scale(residuals, len(law.free_params)),
        input_ranges={
            k: (float(v.min()), float(v.max())) for k, v in problem.inputs.items()
        },
        settings={
            "objective": problem.objective.to_dict(),
            "bootstrap": settings["bootstrap"],
            "seed": settings["seed"],
            "starts_screened": best.screened,
            "starts_refined": best.refined,
            "starts_agreeing": best.agreeing,
            "weights": settings["weights"],
            "extrapolation": settings["extrapolation"],
        },
        provenance={
            **table.provenance(),
            "law": law.describe(),
            "version": __version__,
        },
        extrapolation_error=spread,
    )


def _extrapolation_error(problem, table, method, theta, starts, residuals):
    """The rolling-origin extrapolation error, or None and an info diagnostic saying why not."""
    if method != "rolling":
        raise ScalinglabError(
            f"extrapolation must be 'rolling' or None (--extrapolation none); got {method!r}."
        )
    law = problem.law
    by = scale_column(set(table.frame.columns), law.inputs)
    log_residuals = (
        residuals if problem.objective.space == "log" else residuals / problem.target
    )
    try:
        if by is None:
            raise ScalinglabError(
                f"the law's inputs ({', '.join(law.inputs)}) have no scale column"
            )
        spread = estimate_extrapolation(
            problem,
            theta,
            starts,
            table.array(by),
            by=by,
            scatter=diag.residual_scale(log_residuals, len(law.free_params)),
        )
    except ScalinglabError as why:
        return None, diag.extrapolation_not_estimated(str(why))
    return spread, diag.shape_drift(spread.shape_note)


def _configure(law: Law, fixed, bounds, init) -> Law:
    if bounds:
        law = law.bound(**bounds)
    if init:
        law = law.with_init(**init)
    if fixed:
        law = law.fix(**fixed)
    return law


def _point_weights(weights, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ScalinglabError(
            f"weights must be {n} finite values >= 0; got shape {w.shape}."
        )
    return w


def _agreement(refined, best: int, rtol: float = 1e-6) -> tuple[int, int]:
    """How many refined starts reached the best optimum, and how many distinct near-equal optima exist."""
    f = refined.objective
    near = np.isfinite(f) & (f <= f[best] * (1 + rtol) + 1e-15)
    same = near & np.all(
        np.abs(refined.theta - refined.theta[best])
        <= 1e-3 * (1 + np.abs(refined.theta[best])),
        axis=1,
    )
    return int(same.sum()), int(1 + (near & ~same).any())


def _as_table(runs: Any, law: Law):
    from ..data import RunTable, read_runs

    if isinstance(runs, RunTable):
        table = runs
    elif isinstance(runs, Mapping):
        table = _table_from_arrays(runs, law)
    else:
        table = read_runs(runs)
    for name in (*law.inputs, "loss"):
        if not table.has(name):
            raise InputError(
                f"law {law.name!r} needs column {name!r}, which the run table lacks; its columns are "
                f"{', '.join(map(str, table.frame.columns))}. Map it with --{name} COLUMN.",
                source=table.source,
            )
    return table


def _table_from_arrays(arrays: Mapping[str, Any], law: Law):
    import pandas as pd

    from ..data import read_runs

    frame = pd.DataFrame({k: np.ravel(np.asarray(v)) for k, v in arrays.items()})
    # A law of N without D or C (e.g. N and parallel streams P) has no compute column.
    if "N" in law.inputs and ("D" in frame or "C" in frame):
        extra = {
            name: name
            for name in ("D", "C", "U")
            if name in frame and name in law.inputs
        }
        run = {"run": "run"} if "run" in frame else {}
        numbered = frame.set_axis(
            pd.RangeIndex(1, len(frame) + 1)
        )  # rows 1-based, as users count
        return read_runs(numbered, N="N", loss="loss", **extra, **run)
    return _generic_table(frame, law)


def _generic_table(frame, law: Law):
    """A run table for a law whose inputs are not run-table columns (e.g. ``x``): values are
    checked to be finite, every point is its own run unless ``run`` is given."""
    from ..data import RunTable
    from ..data.conventions import Conventions

    for name in (*law.inputs, "loss"):
        if name not in frame:
            continue
        values = frame[name].to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            rows = ", ".join(str(i + 1) for i in bad[:5])
            raise InputError(
                f"column {name!r} has {bad.size} non-finite values (rows {rows}); "
                "drop or fix them before fitting.",
                source="<arrays>",
            )
    frame = frame.copy()
    frame["run"] = (
        frame["run"].astype(str)
        if "run" in frame
        else np.arange(len(frame)).astype(str)
    )
    identity = {name: name for name in frame.columns}
    return RunTable(frame, "<arrays>", identity, Conventions())
