"""Structured warnings about a fit: what looks wrong and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from ..laws.base import Law


@dataclass(frozen=True)
class Diagnostic:
    """One finding. ``code`` is stable for machines, ``message`` is for people."""

    code: str
    message: str
    severity: str = "warning"  # "warning" | "info"
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Diagnostic:
        return cls(
            data["code"],
            data["message"],
            data.get("severity", "warning"),
            data.get("details", {}),
        )


def at_bounds(
    law: Law, params: dict[str, float], tolerance: float = 0.01
) -> list[Diagnostic]:
    """Free parameters within ``tolerance`` (relative) of a finite bound.

    Relative to the narrower of the parameter's range and the bound's magnitude
    (for a bound of 0: the range, or 1 when unbounded on the other side).
    """
    found = []
    for p in law.free_params:
        value = params[p.name]
        width = p.upper - p.lower
        for side, bound in (("lower", p.lower), ("upper", p.upper)):
            if not np.isfinite(bound):
                continue
            if p.log and bound == 0:
                near = value < 1e-6
            else:
                # Relative to the bound's own magnitude when that is below the range (beta =
                # 0.022 is 22x its lower bound 0.001, not at it, though within 1% of [0.001, 5]).
                scale = width if np.isfinite(width) else max(abs(bound), 1.0)
                if bound != 0:
                    scale = min(scale, max(abs(bound), abs(value)))
                near = abs(value - bound) <= tolerance * scale
            if near:
                found.append(
                    Diagnostic(
                        "at_bound",
                        f"{p.name} = {value:.6g} is at its {side} bound {bound:g}; the optimum may lie "
                        f"outside it. Widen the bound (--bound {p.name}=LOW,HIGH) or fix the parameter.",
                        details={
                            "param": p.name,
                            "side": side,
                            "bound": bound,
                            "value": value,
                        },
                    )
                )
    return found


def not_converged(converged: bool, gradient: float) -> list[Diagnostic]:
    if converged:
        return []
    return [
        Diagnostic(
            "not_converged",
            "the optimizer stopped away from a stationary point: one more Gauss-Newton "
            f"step would still lower the objective by a fraction {gradient:.3g} (converged "
            "means at most 1e-10); treat the parameters with care, or try more starts or "
            "a fixed parameter.",
            details={"gradient": gradient},
        )
    ]


def few_runs(n_runs: int, n_free: int) -> list[Diagnostic]:
    if n_runs >= n_free + 2:
        return []
    return [
        Diagnostic(
            "few_runs",
            f"{n_runs} runs for {n_free} free parameters (want at least {n_free + 2}); the fit is "
            "barely determined. Add runs or fix parameters (e.g. --fix E=1.7).",
            details={"n_runs": n_runs, "n_free": n_free},
        )
    ]


def collinear_ratio(
    inputs: dict[str, np.ndarray], spread_limit: float = np.log(2.0)
) -> list[Diagnostic]:
    """All runs at (nearly) one tokens-per-parameter ratio: alpha and beta can't be separated."""
    if "N" not in inputs or "D" not in inputs:
        return []
    ratio = np.log(inputs["D"] / inputs["N"])
    spread = float(ratio.max() - ratio.min())
    if spread >= spread_limit:
        return []
    middle = float(np.exp(np.median(ratio)))
    return [
        Diagnostic(
            "collinear_ratio",
            f"all runs have nearly one tokens-per-parameter ratio (D/N within a factor "
            f"{np.exp(spread):.2f} of {middle:.3g}); the N and D exponents can't be separated. "
            "Add runs at other ratios or fix one exponent.",
            details={
                "tokens_per_param": middle,
                "spread_factor": float(np.exp(spread)),
            },
        )
    ]


def single_level(inputs: dict[str, np.ndarray], rtol: float = 1e-3) -> list[Diagnostic]:
    """An input with (nearly) one value, e.g. one model size: its exponent is not identified."""
    found = []
    for name, values in inputs.items():
        values = np.asarray(values, dtype=float)
        if values.size > 1 and np.ptp(values) <= rtol * np.max(np.abs(values)):
            found.append(
                Diagnostic(
                    "single_level",
                    f"every run has {name} = {np.median(values):.4g}; the law's dependence on {name} "
                    f"is not identified by this data. Add runs at other values of {name} or fix "
                    "the parameters of its term.",
                    details={"input": name, "value": float(np.median(values))},
                )
            )
    return found


def outliers(
    residuals: np.ndarray,
    row_numbers: np.ndarray | None = None,
    convention: str = "1-based",
    threshold: float = 4.0,
    *,
    n_params: int = 0,
) -> list[Diagnostic]:
    """Points whose residual is more than ``threshold`` robust standard deviations from the median.

    The standard deviation is :func:`residual_scale` of a fit with ``n_params`` free
    parameters, the run scatter its prediction intervals carry.
    ``row_numbers`` gives each point's row as the user sees it in the source (the run
    table's ``row_numbers``, which survive filtering and ``dropna``); ``convention``
    says what they count. Without them, points are numbered by position from 1.
    """
    scale = residual_scale(residuals, n_params)
    if scale == 0:
        return []
    z = (residuals - np.median(residuals)) / scale
    found = np.flatnonzero(np.abs(z) > threshold)
    if found.size == 0:
        return []
    numbers = (
        np.arange(1, len(residuals) + 1)
        if row_numbers is None
        else np.asarray(row_numbers)
    )
    rows = [_plain(numbers[i]) for i in found]
    shown = ", ".join(str(r) for r in rows[:10])
    return [
        Diagnostic(
            "outliers",
            f"{found.size} point(s) lie more than {threshold:g} robust SDs from the fit "
            f"(rows {shown}{'...' if found.size > 10 else ''}, {convention}); check them for bad runs.",
            details={
                "rows": rows,
                "row_convention": convention,
                "z": [float(z[i]) for i in found],
            },
        )
    ]


def _plain(value):
    """A row label as a plain int when it is an integer, else its text (JSON-safe either way)."""
    return int(value) if isinstance(value, (int, np.integer)) else str(value)


def weakly_identified(distinct: int, agreeing: int, refined: int) -> list[Diagnostic]:
    if distinct <= 1:
        return []
    return [
        Diagnostic(
            "multiple_optima",
            f"{refined - agreeing}/{refined} refined starts reached a different optimum with a "
            "near-equal objective: parameters are weakly identified.",
            severity="info",
            details={
                "distinct_optima": distinct,
                "agreeing": agreeing,
                "refined": refined,
            },
        )
    ]


def extrapolation_not_estimated(reason: str) -> list[Diagnostic]:
    """Prediction intervals beyond the data carry the bootstrap only."""
    return [
        Diagnostic(
            "extrapolation_not_estimated",
            f"extrapolation error not estimated ({reason.rstrip('.')}); prediction intervals beyond the fitted "
            "range reflect resampling only and are likely too narrow.",
            severity="info",
        )
    ]


def shape_drift(note: str | None) -> list[Diagnostic]:
    """The rolling-origin folds err more the more data they had: intervals beyond the
    data miss a drift that continues (see ExtrapolationError.shape_note)."""
    return [] if note is None else [Diagnostic("shape_drift", note)]


def bootstrap_failures(failed: int, total: int) -> list[Diagnostic]:
    """Replicates that did not converge, left out of every interval (they bias it)."""
    if failed == 0:
        return []
    return [
        Diagnostic(
            "bootstrap_not_converged",
            f"{failed}/{total} bootstrap replicates did not meet the tolerances; they are "
            "left out of the intervals.",
            severity="info" if failed < 0.05 * total else "warning",
            details={"failed": failed, "total": total},
        )
    ]


def interval_excludes_estimate(
    estimates: dict[str, float], intervals: dict[str, tuple[float, float]], what: str
) -> list[Diagnostic]:
    """Intervals that do not contain their own point estimate: a biased or broken
    bootstrap distribution (e.g. replicates stuck at another optimum)."""
    missed = {
        name: (float(low), float(high))
        for name, (low, high) in intervals.items()
        if not low <= estimates[name] <= high
    }
    if not missed:
        return []
    shown = "; ".join(
        f"{name} {estimates[name]:.4g} outside [{low:.4g}, {high:.4g}]"
        for name, (low, high) in missed.items()
    )
    return [
        Diagnostic(
            "interval_excludes_estimate",
            f"the {what} interval does not contain its own estimate ({shown}): the "
            "bootstrap distribution is biased or the fit is weakly identified; do not "
            "trust these intervals (try more runs, fix a parameter, or --objective).",
            details={"what": what, "missed": {k: list(v) for k, v in missed.items()}},
        )
    ]


def extrapolation(
    ranges: dict[str, tuple[float, float]], inputs: dict[str, np.ndarray]
) -> list[Diagnostic]:
    """Inputs outside the fitted range, with how far (in factors of the range's edge)."""
    found = []
    for name, (low, high) in ranges.items():
        if name not in inputs:
            continue
        values = np.asarray(inputs[name], dtype=float)
        top, bottom = float(np.max(values)), float(np.min(values))
        if top > high * (1 + 1e-9):
            found.append(
                Diagnostic(
                    "extrapolation",
                    f"{name} = {top:.3g} is {top / high:.3g}x the largest fitted {name} ({high:.3g}); "
                    "the interval adds the law's measured extrapolation error when the fit has one, but no "
                    "interval foresees a change of regime.",
                    details={
                        "input": name,
                        "value": top,
                        "fitted_max": high,
                        "factor": top / high,
                    },
                )
            )
        if bottom < low * (1 - 1e-9):
            found.append(
                Diagnostic(
                    "extrapolation",
                    f"{name} = {bottom:.3g} is {low / bottom:.3g}x below the smallest fitted {name} ({low:.3g}).",
                    details={
                        "input": name,
                        "value": bottom,
                        "fitted_min": low,
                        "factor": low / bottom,
                    },
                )
            )
    return found


# Huber's proposal 2 clips standardized residuals at HUBER_K sds (MASS::hubers' default).
HUBER_K = 1.5


def residual_scale(residuals: np.ndarray, n_params: int, k: float = HUBER_K) -> float:
    """Robust SD of a fit's residuals: Huber's proposal 2 with a degrees-of-freedom correction.

    The scale ``s`` solves

    .. math::

        \\sum_i \\psi_k(r_i / s)^2 = (n - p)\\, E[\\psi_k(Z)^2],
        \\qquad \\psi_k(u) = \\max(-k, \\min(k, u)),

    with ``Z`` standard normal, so it is consistent for normal errors, robust to a few
    bad runs (their residuals count at most ``k s``), and, like ``RSS / (n - p)``,
    accounts for the ``p`` fitted parameters pulling the residuals in. The MAD it
    replaces was 0.88 sigma on 40 points with 3 parameters and 0.92 sigma on 72 with
    5 (a Huber fit with delta 1e-3 at 1% noise is nearly an L1 fit, which sets ``p``
    residuals near zero); this estimate is 0.97 and 0.99 sigma there (100 fits
    each, at k = 1.345 and at k = 2).

    Parameters
    ----------
    residuals : the fit's residuals (about zero: the fit's level is a parameter).
    n_params : free parameters of the fit (``p``).
    k : clipping point in SDs.

    Returns
    -------
    float
        The scale; 0.0 when the residuals are all zero or ``n <= p`` (no scatter to
        measure: the fit interpolates its points).

    References
    ----------
    Huber, P. J. (1981). Robust Statistics, section 6.4 (proposal 2); statsmodels'
    ``robust.scale.HuberScale`` uses the same ``n - p`` normalisation.

    Examples
    --------
    >>> r = np.random.default_rng(0).normal(0.0, 0.01, 2000)
    >>> round(residual_scale(r, 3) / 0.01, 1)
    1.0
    """
    r = np.asarray(residuals, dtype=float)
    df = r.size - n_params
    scale = float(np.sqrt(np.mean(r**2))) if r.size else 0.0
    if df <= 0 or scale == 0.0:
        return 0.0
    normal = NormalDist()
    tail = 1.0 - normal.cdf(k)
    expected = (1.0 - 2.0 * tail) - 2.0 * k * normal.pdf(k) + 2.0 * k * k * tail
    for _ in range(200):  # the fixed-point iteration converges monotonically
        clipped = np.clip(r / scale, -k, k)
        new = scale * float(np.sqrt(np.sum(clipped**2) / (df * expected)))
        if abs(new - scale) <= 1e-12 * scale:
            break
        scale = new
    return new
