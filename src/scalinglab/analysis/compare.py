"""Recipe comparison: the compute multiplier of one recipe over a baseline.

Each group of runs (a recipe) is fitted with the same law. Its compute-optimal
frontier ``L*(C)`` is the law's loss at the optimal allocation (a law of C
alone is its own frontier). The compute multiplier of group g at compute C is

.. math:: m_g(C) = C_b / C, \\quad L^*_{base}(C_b) = L^*_g(C),

how much more compute the baseline needs to reach the loss g reaches with C
(m > 1: g is better). If g is the baseline with every parameter count scaled
by s and every token count by t, ``m = s t`` at every budget. The token saving
at a target loss compares the tokens each recipe's compute-optimal run needs
to reach it.

Intervals come from a paired bootstrap when the groups share a design (the
same set of (N, D) runs): one resample of design points is applied to every
group, so design noise cancels in the ratio. Otherwise each group is
resampled over its own runs. Each replicate is refitted by the shared run
bootstrap (:func:`scalinglab.fit.bootstrap.bootstrap`), warm-started at the
group's fit; replicates that do not converge are left out of the intervals
(and counted in a note).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import InputError, ScalinglabError
from ..fit.api import fit
from ..fit.bootstrap import bootstrap as run_bootstrap
from ..fit.bootstrap import offset_progress
from ..fit.engine import Problem
from ..fit.intervals import percentile_interval
from ..fit.objectives import get_objective
from ..laws.base import Law
from ..laws.registry import get_law
from ..report._display import Display
from ..units import plain
from .optimal import optimal_N

__all__ = ["Comparison", "GroupComparison", "frontier_loss", "multiplier", "compare"]

_GRID = 400
_REACH = 1e3  # the baseline frontier is tabulated this factor beyond the data's compute
_SAME_BUDGET = (
    1e-6  # budgets closer than this (relative) to the median compute are the median
)


@dataclass(frozen=True)
class GroupComparison:
    """One group against the baseline.

    ``multiplier`` and ``ci95`` are at ``C_median``; ``budgets`` lists them at
    each budget; ``trend`` is d log m / d log C (> 0: the advantage grows with
    scale); ``token_ratio`` is baseline tokens / group tokens at ``target_loss``.
    """

    group: str
    C_median: float
    multiplier: float
    ci95: tuple[float, float]
    budgets: tuple[dict, ...]
    trend: float
    trend_ci95: tuple[float, float]
    verdict: str
    target_loss: float
    token_ratio: float | None
    token_ratio_ci95: tuple[float, float] | None
    n_runs: int

    def to_dict(self) -> dict:
        saving = None if self.token_ratio is None else 1.0 - 1.0 / self.token_ratio
        return {
            "value": self.multiplier,
            "ci95": list(self.ci95),
            "C": self.C_median,
            "budgets": list(self.budgets),
            "trend": {
                "value": self.trend,
                "ci95": list(self.trend_ci95),
                "verdict": self.verdict,
            },
            "target_loss": self.target_loss,
            "token_ratio": self.token_ratio,
            "token_ratio_ci95": None
            if self.token_ratio_ci95 is None
            else list(self.token_ratio_ci95),
            "token_saving": saving,
            "n_runs": self.n_runs,
        }


@dataclass(frozen=True, eq=False)
class Comparison(Display):
    """The outcome of :func:`compare`: one :class:`GroupComparison` per non-baseline group."""

    law: str
    group_column: str
    baseline: str
    groups: tuple[GroupComparison, ...]
    fits: dict = field(repr=False)
    pairing: str = "independent"
    replicates: int = 0
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "law": self.law,
            "group": self.group_column,
            "baseline": self.baseline,
            "pairing": self.pairing,
            "replicates": self.replicates,
            "multiplier": {g.group: g.to_dict() for g in self.groups},
            "fits": {
                k: {"params": v.params, "n_runs": v.n_runs}
                for k, v in self.fits.items()
            },
            "notes": list(self.notes),
        }


def frontier_loss(law: Law, values: dict[str, np.ndarray], C: np.ndarray) -> np.ndarray:
    """Compute-optimal loss L*(C) for parameter arrays ``values`` (each (S, 1)): shape (S, k)."""
    C = np.asarray(C, dtype=float)
    if tuple(law.inputs) == ("C",):
        with np.errstate(all="ignore"):
            out = law.function(C[None, :], **values)
        return np.broadcast_to(
            out, (next(iter(values.values())).shape[0], C.size)
        ).copy()
    N, _ = optimal_N(law, values, C)
    D = C[None, :] / (6.0 * N)
    with np.errstate(all="ignore"):
        return np.asarray(law.function(N, D, **values), dtype=float), N, D


def _frontier(law, values, C, chunk: int = 16):
    """L*(C) for every parameter row, in chunks of rows to bound the numeric search's memory."""
    S = next(iter(values.values())).shape[0]
    parts = []
    for start in range(0, S, chunk):
        part = {k: v[start : start + chunk] for k, v in values.items()}
        out = frontier_loss(law, part, C)
        parts.append(out if isinstance(out, np.ndarray) else out[0])
    return np.concatenate(parts, axis=0)


def multiplier(
    law: Law,
    base: dict[str, np.ndarray],
    other: dict[str, np.ndarray],
    C: np.ndarray,
    *,
    span: tuple[float, float],
) -> np.ndarray:
    """m(C) = C_b / C with L*_base(C_b) = L*_other(C), per parameter row: shape (S, k).

    The baseline frontier is tabulated on a log grid (400 points) over ``span``
    widened by 1e3 each way and inverted by log-log interpolation (relative
    accuracy about 1e-4); targets beyond it give inf (the baseline cannot reach
    that loss within the grid) or 0.
    """
    C = np.asarray(C, dtype=float)
    grid = np.geomspace(span[0] / _REACH, span[1] * _REACH, _GRID)
    base_L = np.log(_frontier(law, base, grid))
    target = np.log(_frontier(law, other, C))
    logC = np.log(grid)
    out = np.empty(target.shape)
    for s in range(target.shape[0]):
        curve = np.minimum.accumulate(
            base_L[s]
        )  # the frontier never rises with compute
        ok = np.isfinite(curve)
        if ok.sum() < 2:
            out[s] = np.nan
            continue
        x, y = logC[ok][::-1], curve[ok][::-1]
        needed = np.interp(target[s], y, x, left=np.inf, right=-np.inf)
        out[s] = np.exp(needed) / C
    return out


def compare(
    law: str | Law,
    runs,
    group: str,
    baseline: str,
    *,
    budgets: Sequence[float] | None = None,
    target_loss: float | None = None,
    bootstrap: int = 500,
    seed: int = 0,
    objective: str = "huber",
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Fit each group of ``runs`` and compare it with ``baseline`` by compute multiplier.

    Parameters
    ----------
    law : a law of (N, D) with a compute-optimal allocation, or a law of C alone.
    runs : a :class:`~scalinglab.data.RunTable` with column ``group``.
    group : column naming the recipe of each run.
    baseline : the value of ``group`` to compare against.
    budgets : compute values for the per-budget multipliers (default: 5 log-spaced
        across the data and the median compute).
    target_loss : loss at which tokens are compared (default: the baseline's
        frontier loss at the median compute).
    bootstrap : replicates of the (paired) run bootstrap.
    seed : seeds the bootstrap.
    objective : passed to :func:`scalinglab.fit`.
    progress : called as ``progress(done, total)`` with bootstrap replicates done over
        all groups.

    Returns
    -------
    Comparison
    """
    law = get_law(law)
    labels = _labels(runs, group, baseline)
    if target_loss is not None and not (np.isfinite(target_loss) and target_loss > 0):
        raise ScalinglabError(
            f"the target loss (--target-loss) must be finite and > 0; got {plain(target_loss)}."
        )
    if bootstrap < 20:
        raise ScalinglabError(
            f"compare needs bootstrap >= 20 for its intervals; got {bootstrap}."
        )
    tables = {g: runs.subset(labels == g) for g in np.unique(labels)}
    fits = {
        g: fit(law, t, objective=objective, bootstrap=0, seed=seed)
        for g, t in tables.items()
    }
    index, pairing = _resampling_units(tables, baseline)
    draws, failed = {}, {}
    for i, g in enumerate(tables):
        # One seed for every group when paired: the same design points are drawn for all.
        group_seed = seed if pairing.startswith("paired") else seed + i
        part = offset_progress(progress, i * bootstrap, len(tables) * bootstrap)
        draws[g], failed[g] = _refit(
            fits[g], tables[g], index[g], bootstrap, group_seed, part
        )
    C_all = runs.array("C")
    span = (float(C_all.min()), float(C_all.max()))
    C_med = float(np.median(C_all))
    grid = _budget_grid(budgets, span, C_med)
    point = {
        g: {k: np.array([[v]]) for k, v in f.params.items()} for g, f in fits.items()
    }
    if target_loss is None:
        target_loss = float(_frontier(law, point[baseline], np.array([C_med]))[0, 0])
    results = [
        _group(
            law,
            g,
            point,
            draws,
            baseline,
            grid,
            C_med,
            span,
            target_loss,
            len(tables[g].frame["run"].unique()),
        )
        for g in tables
        if g != baseline
    ]
    return Comparison(
        law=law.name,
        group_column=group,
        baseline=baseline,
        groups=tuple(results),
        fits=fits,
        pairing=pairing,
        replicates=bootstrap,
        notes=tuple(_notes(results, fits, failed, bootstrap)),
    )


def _labels(runs, group: str, baseline: str) -> np.ndarray:
    if not runs.has(group):
        raise InputError(
            f"there is no group column {group!r}; columns: {', '.join(map(str, runs.frame.columns))}.",
            source=runs.source,
        )
    labels = runs.frame[group].astype(str).to_numpy()
    found = sorted(set(labels))
    if str(baseline) not in found:
        raise InputError(
            f"baseline {baseline!r} is not a value of {group!r}; its values are {', '.join(found)}.",
            source=runs.source,
            column=group,
        )
    if len(found) < 2:
        raise InputError(
            f"column {group!r} has one value; nothing to compare.", source=runs.source
        )
    return labels


def _budget_grid(budgets, span, C_med: float) -> np.ndarray:
    """The budgets of the table, sorted, with the median compute in it exactly once.

    The default is 5 log-spaced budgets across the data; one of them can equal
    the median compute up to rounding (4.8e18 on a 7-size x 5-ratio design).
    """
    grid = np.asarray(
        budgets if budgets is not None else np.geomspace(*span, 5), dtype=float
    )
    if np.any(~np.isfinite(grid)) or np.any(grid <= 0):
        raise ScalinglabError(
            f"budgets must be finite and > 0 FLOPs; got {plain(grid)}."
        )
    grid = grid[np.abs(grid / C_med - 1.0) > _SAME_BUDGET]
    return np.unique(np.append(grid, C_med))


def _design_keys(table) -> list[tuple]:
    """One key per run: its N and largest D, rounded to 3 significant digits in log."""
    frame = table.frame
    last = frame.sort_values("D", kind="stable").groupby("run", sort=False).tail(1)
    order = {r: i for i, r in enumerate(frame["run"].drop_duplicates())}
    keys = [None] * len(order)
    for run, n, d in zip(last["run"], last["N"], last["D"]):
        keys[order[run]] = (round(float(np.log10(n)), 3), round(float(np.log10(d)), 3))
    return keys


def _resampling_units(tables: dict, baseline: str) -> tuple[dict, str]:
    """The unit each point is resampled with, per group: its design point when every
    group has the same (N, D) runs (paired), else its run (independent)."""
    keys = {g: _design_keys(t) for g, t in tables.items()}
    shared = sorted(set(keys[baseline]))
    paired = all(len(set(k)) == len(k) and sorted(k) == shared for k in keys.values())
    if not paired:
        return {g: t.runs() for g, t in tables.items()}, "independent"
    position = {k: i for i, k in enumerate(shared)}
    index = {
        g: np.array([position[k] for k in keys[g]])[t.runs()] for g, t in tables.items()
    }
    return index, "paired by design (same N, D runs in every group)"


def _refit(result, table, units: np.ndarray, replicates: int, seed: int, progress):
    """Bootstrap refits of one group's fit: parameter arrays (R, 1), NaN where a replicate
    did not converge, and how many did not."""
    law = result.law
    spec = result.objective_spec
    problem = Problem(
        law,
        {n: table.array(n) for n in law.inputs},
        table.array("loss"),
        get_objective(spec.name, spec.delta),
        np.ones(len(table)),
    )
    reps = run_bootstrap(
        problem,
        law.pack(result.params),
        units,
        replicates=replicates,
        seed=seed,
        progress=progress,
    )
    bad = ~(reps.converged & np.isfinite(reps.objective))
    values = law.unpack(reps.theta)
    return {k: np.where(bad[:, None], np.nan, v) for k, v in values.items()}, int(
        bad.sum()
    )


def _group(law, g, point, draws, baseline, grid, C_med, span, target_loss, n_runs):
    m_hat = multiplier(law, point[baseline], point[g], grid, span=span)[0]
    m_reps = multiplier(law, draws[baseline], draws[g], grid, span=span)
    low, high = _log_interval(m_reps)
    i = int(np.flatnonzero(grid == C_med)[0])
    rows = tuple(
        {"C": float(c), "value": float(v), "ci95": [float(lo), float(hi)]}
        for c, v, lo, hi in zip(grid, m_hat, low, high)
    )
    trend, trend_reps = _trend(grid, m_hat), np.array([_trend(grid, r) for r in m_reps])
    t_low, t_high = percentile_interval(trend_reps)
    ratio, ratio_ci = _token_ratio(law, point, draws, baseline, g, target_loss, span)
    return GroupComparison(
        group=g,
        C_median=C_med,
        multiplier=float(m_hat[i]),
        ci95=(float(low[i]), float(high[i])),
        budgets=rows,
        trend=trend,
        trend_ci95=(float(t_low), float(t_high)),
        verdict=_verdict(t_low, t_high),
        target_loss=target_loss,
        token_ratio=ratio,
        token_ratio_ci95=ratio_ci,
        n_runs=n_runs,
    )


def _log_interval(reps: np.ndarray):
    with np.errstate(all="ignore"):
        logs = np.log(reps)
    # Infinite multipliers (the baseline never reaches the loss) are unbounded ends.
    low, high = percentile_interval(logs)
    return np.exp(low), np.exp(high)


def _trend(grid: np.ndarray, m: np.ndarray) -> float:
    """Least-squares slope of log m against log C (nan if any multiplier is not finite)."""
    with np.errstate(all="ignore"):
        y = np.log(m)
    if grid.size < 2 or not np.all(np.isfinite(y)):
        return float("nan")
    return float(np.polyfit(np.log(grid), y, 1)[0])


def _verdict(low: float, high: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "undetermined"
    if low > 0:
        return "grows with scale"
    if high < 0:
        return "shrinks with scale"
    return "constant within its interval"


def _token_ratio(law, point, draws, baseline, g, target, span):
    """Baseline tokens / group tokens of the compute-optimal runs reaching ``target``."""
    if "D" not in law.inputs:
        return None, None

    def tokens(values):
        grid = np.geomspace(span[0] / _REACH, span[1] * _REACH, _GRID)
        L, _, D = frontier_loss(law, values, grid)
        out = np.empty(L.shape[0])
        for s in range(L.shape[0]):
            curve = np.minimum.accumulate(L[s])
            ok = np.isfinite(curve) & np.isfinite(D[s])
            if ok.sum() < 2 or target < curve[ok].min():
                out[s] = np.nan
                continue
            logD = np.interp(
                np.log(target), np.log(curve[ok][::-1]), np.log(D[s][ok][::-1])
            )
            out[s] = np.exp(logD)
        return out

    ratio = tokens(point[baseline])[0] / tokens(point[g])[0]
    reps = tokens(draws[baseline]) / tokens(draws[g])
    if not np.isfinite(ratio) or np.isfinite(reps).sum() < 2:
        return (float(ratio) if np.isfinite(ratio) else None), None
    low, high = percentile_interval(reps)
    return float(ratio), (low, high)


def _notes(results, fits, failed: dict, replicates: int) -> list[str]:
    notes = []
    for g, f in fits.items():
        notes += [f"{g}: {d.message}" for d in f.diagnostics]
        if failed[g]:
            notes.append(
                f"{g}: {failed[g]}/{replicates} bootstrap refits did not converge; "
                "they are left out of the intervals."
            )
    for r in results:
        if not np.isfinite(r.ci95[1]):
            notes.append(
                f"{r.group}: in some replicates the baseline never reaches this group's loss "
                "(its asymptote is higher): the upper end of the interval is unbounded."
            )
    return notes
