"""All three Chinchilla approaches on one run table, side by side.

1. the envelope of loss against compute (:mod:`.envelope`);
2. IsoFLOP profiles (:mod:`.isoflop`);
3. the parametric law ``L = E + A N^-alpha + B D^-beta``, whose allocation
   exponents are ``a = beta / (alpha + beta)`` and ``b = alpha / (alpha + beta)``.

Each approach the data allows reports a, b and tokens per parameter at chosen
budgets, with 95% intervals; an approach the data does not allow is listed
with the reason. Two approaches *disagree* on a quantity when their intervals
do not overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ScalinglabError
from ..fit.api import fit
from ..fit.bootstrap import offset_progress
from ..fit.intervals import percentile_interval
from .envelope import envelope, usable_rows
from .isoflop import DEFAULT_WINDOW, isoflop

__all__ = ["ApproachEstimate", "ApproachComparison", "chinchilla_approaches"]

DEFAULT_BUDGETS = (1e21, 1e23, 1e25)


@dataclass(frozen=True)
class ApproachEstimate:
    """One approach's a, b and tokens per parameter (each value with a 95% interval)."""

    name: str
    a: float
    a_ci95: tuple[float, float]
    b: float
    b_ci95: tuple[float, float]
    budgets: tuple[float, ...]
    tokens_per_param: tuple[float, ...]
    tokens_per_param_ci95: tuple[tuple[float, float], ...]
    detail: dict

    def to_dict(self) -> dict:
        return {
            "a": {"value": self.a, "ci95": list(self.a_ci95)},
            "b": {"value": self.b, "ci95": list(self.b_ci95)},
            "tokens_per_param": [
                {"C": c, "value": v, "ci95": list(ci)}
                for c, v, ci in zip(
                    self.budgets, self.tokens_per_param, self.tokens_per_param_ci95
                )
            ],
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ApproachComparison:
    """Estimates by approach, approaches skipped (with why) and disagreements."""

    estimates: tuple[ApproachEstimate, ...]
    skipped: dict[str, str]
    disagreements: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "approaches": {e.name: e.to_dict() for e in self.estimates},
            "skipped": dict(self.skipped),
            "disagreements": list(self.disagreements),
        }


def _from_powers(name: str, result, budgets, detail: dict) -> ApproachEstimate:
    ratio, (low, high) = result.tokens_per_param(budgets)
    return ApproachEstimate(
        name=name,
        a=result.a.exponent,
        a_ci95=result.a.ci95,
        b=result.b.exponent,
        b_ci95=result.b.ci95,
        budgets=tuple(float(c) for c in budgets),
        tokens_per_param=tuple(float(v) for v in ratio),
        tokens_per_param_ci95=tuple(
            (float(lo), float(hi)) for lo, hi in zip(low, high)
        ),
        detail=detail,
    )


def _parametric(
    final, budgets, bootstrap: int, seed: int, progress
) -> ApproachEstimate:
    result = fit("chinchilla", final, bootstrap=bootstrap, seed=seed, progress=progress)
    d = result.draws_by_name()
    a_draws = d["beta"] / (d["alpha"] + d["beta"])
    p = result.params
    a = p["beta"] / (p["alpha"] + p["beta"])
    a_ci = percentile_interval(a_draws, 0.95)
    allocation = result.optimal(np.asarray(budgets, dtype=float))
    low, high = allocation.ci95["tokens_per_param"]
    return ApproachEstimate(
        name="parametric",
        a=float(a),
        a_ci95=a_ci,
        b=float(1 - a),
        b_ci95=(1 - a_ci[1], 1 - a_ci[0]),
        budgets=tuple(float(c) for c in budgets),
        tokens_per_param=tuple(float(v) for v in allocation.tokens_per_param),
        tokens_per_param_ci95=tuple(
            (float(lo), float(hi)) for lo, hi in zip(low, high)
        ),
        detail={
            "params": result.params,
            "ci95": result.conf_int(),
            "diagnostics": [x.message for x in result.diagnostics],
        },
    )


def chinchilla_approaches(
    runs,
    *,
    budgets: Sequence[float] = DEFAULT_BUDGETS,
    checkpoints: str | None = None,
    profile: str = "parabola",
    window: float | None = DEFAULT_WINDOW,
    rtol: float = 0.05,
    bootstrap: int = 200,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> ApproachComparison:
    """Run approaches 1-3 on a :class:`~scalinglab.data.RunTable` and compare them.

    Parameters
    ----------
    runs : the run table (checkpoints allowed; see ``checkpoints``).
    budgets : compute values at which tokens per parameter is reported.
    checkpoints : which rows the envelope may use (``"final"``, ``"all"`` or a
        column; see :func:`~scalinglab.analysis.envelope.usable_rows`).
        Approaches 2 and 3 use the final row of each run.
    profile, window, rtol : IsoFLOP options (see :func:`~scalinglab.analysis.isoflop.isoflop`).
    bootstrap, seed : replicates and seed for every approach's intervals.
    progress : called as ``progress(done, total)`` with bootstrap replicates done by
        the envelope and the parametric fit together.

    Returns
    -------
    ApproachComparison
    """
    budgets = np.asarray(budgets, dtype=float)
    final = runs.final()
    estimates, skipped = [], {}
    try:
        mask = usable_rows(runs, checkpoints)
        env = envelope(
            *(runs.array(k) for k in ("N", "D", "C", "loss")),
            runs.frame["run"].to_numpy(),
            usable=mask,
            bootstrap=bootstrap,
            seed=seed,
            progress=offset_progress(progress, 0, 2 * bootstrap),
        )
        estimates.append(
            _from_powers("envelope", env, budgets, {"notes": list(env.notes)})
        )
    except ScalinglabError as err:
        skipped["envelope"] = str(err)
    try:
        iso = isoflop(
            *(final.array(k) for k in ("N", "D", "C", "loss")),
            rtol=rtol,
            profile=profile,
            window=window,
            draws=max(bootstrap, 200),
            seed=seed,
        )
        used = sum(b.used for b in iso.budgets)
        estimates.append(
            _from_powers(
                "isoflop",
                iso,
                budgets,
                {"budgets_used": used, "notes": list(iso.notes)},
            )
        )
    except ScalinglabError as err:
        skipped["isoflop"] = str(err)
    try:
        part = offset_progress(progress, bootstrap, 2 * bootstrap)
        estimates.append(_parametric(final, budgets, bootstrap, seed, part))
    except ScalinglabError as err:
        skipped["parametric"] = str(err)
    if progress is not None:  # the end, also when an approach was skipped
        progress(2 * bootstrap, 2 * bootstrap)
    return ApproachComparison(
        tuple(estimates), skipped, tuple(_disagreements(estimates))
    )


def _apart(x: tuple[float, float], y: tuple[float, float]) -> bool:
    return bool(x[1] < y[0] or y[1] < x[0])


def _disagreements(estimates: Sequence[ApproachEstimate]) -> list[str]:
    out = []
    for e, f in combinations(estimates, 2):
        if _apart(e.a_ci95, f.a_ci95):
            out.append(
                f"a: {e.name} {e.a:.3f} [{e.a_ci95[0]:.3f}, {e.a_ci95[1]:.3f}] vs {f.name} "
                f"{f.a:.3f} [{f.a_ci95[0]:.3f}, {f.a_ci95[1]:.3f}]: intervals do not overlap"
            )
        for c, x, y, vx, vy in zip(
            e.budgets,
            e.tokens_per_param_ci95,
            f.tokens_per_param_ci95,
            e.tokens_per_param,
            f.tokens_per_param,
        ):
            if _apart(x, y):
                out.append(
                    f"tokens per parameter at C={c:.3g}: {e.name} {vx:.3g} vs {f.name} {vy:.3g}: "
                    "intervals do not overlap"
                )
    return out
