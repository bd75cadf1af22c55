"""Chinchilla approach 2: IsoFLOP profiles.

Runs are grouped by compute budget. Within each budget the loss is fitted as a
polynomial in ``x = log N`` (a parabola, as Hoffmann et al. do, or a cubic,
which follows the asymmetric profile ``A e^{-alpha x} + B' e^{beta x}`` that a
parabola cannot when alpha != beta). The minimum of that profile is the
budget's compute-optimal N, with an interval from parametric draws of the
polynomial coefficients (their least-squares covariance). A minimum outside
the sampled N (not bracketed) or a profile that curves the wrong way is
flagged and left out of the second stage.

With ``profile="porian"`` the minimum is found as Porian et al. do: an Akima
interpolation of log loss in log N over all sampled N, minimised on a fine
grid, with its interval and point estimate (the median) from redrawing every
loss with the seed-to-seed noise ``noise`` (their "seed noise" bootstrap).

The second stage fits ``log N_opt = log k_N + a log C`` and
``log D_opt = log k_D + b log C``. Its interval refits the line to one draw of
every budget's optimum per replicate (stage 1), plus, when the optima scatter
about the line more than stage 1 explains, a normal draw of that excess
scatter (a random-effects meta-regression, method of moments). Resampling the
budgets on top of the stage-1 draws, as this module did before, counted the
same noise twice: 100% coverage at 1.6x the needed width in
tests/calibration/test_isoflop.py.

References
----------
Hoffmann et al. 2022, arXiv 2203.15556, section 3.2 (approach 2).
Porian et al. 2024, arXiv 2406.19146, appendix (isoFLOP interpolation and
seed-noise bootstrap; code: formll/resolving-scaling-law-discrepancies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError, ScalinglabError
from ..fit.intervals import percentile_interval

__all__ = [
    "BudgetProfile",
    "PowerFit",
    "IsoFlopResult",
    "group_budgets",
    "tokens_per_param",
    "fit_profile",
    "isoflop",
]

PROFILES = {"parabola": 2, "cubic": 3, "porian": None}
LEVEL = 0.95
DEFAULT_WINDOW = 10.0
# Porian et al.'s seed-to-seed sd of the final loss on RefinedWeb (0.01 on OWT2).
PORIAN_NOISE = 0.002
# Their interpolation grid: 25 points per interval between sampled N.
PORIAN_GRID = 25


@dataclass(frozen=True)
class BudgetProfile:
    """The fitted loss profile at one compute budget and its minimum.

    ``N_opt``, ``D_opt`` and ``loss_opt`` are the profile's minimum; ``ci95``
    holds their 95% intervals. ``used`` is False when the minimum was not
    bracketed by the sampled N, the profile curves the wrong way, or too few
    points were given; ``flags`` says which. ``coefficients`` are those of the
    polynomial in ``log N - centre``.
    """

    C: float
    n_points: int
    N_range: tuple[float, float]
    N_opt: float
    D_opt: float
    loss_opt: float
    ci95: dict[str, tuple[float, float]]
    coefficients: tuple[float, ...]
    centre: float
    profile: str
    bracketed: bool
    used: bool
    flags: tuple[str, ...]
    log_N_draws: np.ndarray = field(repr=False)
    log_D_draws: np.ndarray = field(repr=False)
    log_D_slope: float = field(default=float("nan"), repr=False)

    def to_dict(self) -> dict:
        return {
            "C": self.C,
            "N_opt": self.N_opt,
            "D_opt": self.D_opt,
            "loss_opt": self.loss_opt,
            "ci95": {k: list(v) for k, v in self.ci95.items()},
            "n_points": self.n_points,
            "N_range": list(self.N_range),
            "profile": self.profile,
            "coefficients": list(self.coefficients),
            "centre_log_N": self.centre,
            "bracketed": self.bracketed,
            "used": self.used,
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class PowerFit:
    """``y = coefficient * C**exponent`` with a 95% interval on the exponent.

    ``draws`` are (replicates, 2) rows of (log coefficient, exponent); NaN where
    a replicate was degenerate, so that draws of fits on the same replicates pair.
    """

    exponent: float
    coefficient: float
    ci95: tuple[float, float]
    n_budgets: int
    draws: np.ndarray = field(repr=False)

    def predict(self, C: np.ndarray | float) -> np.ndarray:
        return self.coefficient * np.asarray(C, dtype=float) ** self.exponent

    def to_dict(self) -> dict:
        return {
            "value": self.exponent,
            "ci95": list(self.ci95),
            "coefficient": self.coefficient,
            "n_budgets": self.n_budgets,
        }


@dataclass(frozen=True, eq=False)
class IsoFlopResult:
    """The outcome of :func:`isoflop`: per-budget optima and the exponents a, b."""

    budgets: tuple[BudgetProfile, ...]
    a: PowerFit
    b: PowerFit
    profile: str
    notes: tuple[str, ...]

    def tokens_per_param(self, C) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """D_opt / N_opt at ``C`` from the two power laws, with a 95% interval."""
        return tokens_per_param(self.a, self.b, C)

    def to_dict(self) -> dict:
        return {
            "approach": "isoflop",
            "profile": self.profile,
            "budgets": [b.to_dict() for b in self.budgets],
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "notes": list(self.notes),
        }


def tokens_per_param(
    a: PowerFit, b: PowerFit, C
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """D_opt / N_opt = (k_D / k_N) C^(b - a) and its 95% interval from paired draws."""
    logC = np.log(np.atleast_1d(np.asarray(C, dtype=float)))
    point = np.log(b.coefficient / a.coefficient) + (b.exponent - a.exponent) * logC
    n = min(len(a.draws), len(b.draws))
    da, db = a.draws[:n], b.draws[:n]
    reps = (db[:, :1] - da[:, :1]) + (db[:, 1:] - da[:, 1:]) * logC[None, :]
    low, high = percentile_interval(reps, LEVEL)
    return np.exp(point), (np.exp(low), np.exp(high))


def group_budgets(C: np.ndarray, *, rtol: float = 0.05) -> np.ndarray:
    """Budget label per row: sorted values of C split where a gap exceeds ``rtol``.

    Exact budgets (a column of a few distinct values) group trivially; digitised
    or measured compute within ``rtol`` of its neighbour joins its group.
    """
    C = np.asarray(C, dtype=float)
    order = np.argsort(C, kind="stable")
    gaps = np.diff(np.log(C[order])) > np.log1p(rtol)
    labels = np.empty(C.size, dtype=np.int64)
    labels[order] = np.concatenate([[0], np.cumsum(gaps)])
    return labels


def _design(x: np.ndarray, degree: int) -> np.ndarray:
    return np.vander(x, degree + 1, increasing=True)


def fit_profile(
    x: np.ndarray, y: np.ndarray, degree: int
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares polynomial ``y = sum c_k x^k`` and the covariance of ``c``.

    The covariance is ``s^2 (X^T X)^-1`` with ``s^2`` the residual variance on
    ``n - degree - 1`` degrees of freedom.
    """
    X = _design(x, degree)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    dof = x.size - degree - 1
    resid = y - X @ coef
    s2 = float(resid @ resid) / dof if dof > 0 else np.nan
    cov = s2 * np.linalg.pinv(X.T @ X)
    return coef, cov


def _minimum(coef: np.ndarray) -> np.ndarray:
    """x of the local minimum of each polynomial row of ``coef`` (R, degree+1); NaN if none."""
    if coef.shape[1] == 3:
        c1, c2 = coef[:, 1], coef[:, 2]
        with np.errstate(all="ignore"):
            return np.where(c2 > 0, -c1 / (2 * c2), np.nan)
    c1, c2, c3 = coef[:, 1], coef[:, 2], coef[:, 3]
    # p'(x) = c1 + 2 c2 x + 3 c3 x^2; the minimum has p'' = 2 c2 + 6 c3 x > 0.
    disc = c2**2 - 3 * c1 * c3
    with np.errstate(all="ignore"):
        root = np.sqrt(disc)
        quad = (-c2 + root) / (3 * c3)
        lin = -c1 / (2 * c2)
        x = np.where(np.abs(c3) > 1e-12 * np.abs(c2), quad, lin)
        ok = (disc >= 0) & (2 * c2 + 6 * c3 * x > 0)
    return np.where(ok, x, np.nan)


def _profile(
    C: float,
    logN: np.ndarray,
    logD: np.ndarray,
    loss: np.ndarray,
    *,
    profile: str,
    draws: int,
    rng: np.random.Generator,
) -> BudgetProfile:
    degree = PROFILES[profile]
    flags = []
    if logN.size < degree + 2:
        flags.append(
            f"only {logN.size} points; a {profile} needs at least {degree + 2}"
        )
        return _unusable(C, logN, loss, profile, flags)
    centre = float(np.mean(logN))
    x = logN - centre
    coef, cov = fit_profile(x, loss, degree)
    x_opt = float(_minimum(coef[None, :])[0])
    d_coef = np.polyfit(x, logD, 1)[::-1]
    sampled = rng.multivariate_normal(coef, cov, size=draws, method="svd")
    x_draws = _minimum(sampled)
    lo, hi = float(x.min()), float(x.max())
    bracketed = bool(np.isfinite(x_opt) and lo <= x_opt <= hi)
    if not np.isfinite(x_opt):
        flags.append(f"the {profile} curves the wrong way (no minimum)")
    elif not bracketed:
        side = "below the smallest" if x_opt < lo else "above the largest"
        flags.append(f"minimum not bracketed: N_opt lies {side} N sampled")
    missing = float(np.mean(~np.isfinite(x_draws)))
    if missing > 0.5:
        flags.append(
            f"{missing:.0%} of coefficient draws have no minimum: flat profile"
        )
    loss_draws = np.sum(sampled * _design(x_draws, degree), axis=1)
    log_N_draws = x_draws + centre
    log_D_draws = d_coef[0] + d_coef[1] * x_draws
    used = bracketed and missing <= 0.5
    point = lambda v: float(np.exp(v)) if np.isfinite(v) else float("nan")  # noqa: E731
    return BudgetProfile(
        C=C,
        n_points=int(logN.size),
        N_range=(float(np.exp(logN.min())), float(np.exp(logN.max()))),
        N_opt=point(x_opt + centre),
        D_opt=point(d_coef[0] + d_coef[1] * x_opt),
        loss_opt=float(np.polyval(coef[::-1], x_opt)),
        ci95={
            "N_opt": _exp_interval(log_N_draws),
            "D_opt": _exp_interval(log_D_draws),
            "loss_opt": _interval(loss_draws),
        },
        coefficients=tuple(float(c) for c in coef),
        centre=centre,
        profile=profile,
        bracketed=bracketed,
        used=used,
        flags=tuple(flags),
        log_N_draws=log_N_draws,
        log_D_draws=log_D_draws,
        log_D_slope=float(d_coef[1]),
    )


def _porian_profile(
    C: float,
    logN: np.ndarray,
    logD: np.ndarray,
    loss: np.ndarray,
    *,
    noise: float,
    draws: int,
    rng: np.random.Generator,
) -> BudgetProfile:
    """Porian et al.'s optimum: Akima in (log N, log L), seed-noise redraws, median."""
    from scipy.interpolate import Akima1DInterpolator

    # One point per size: the lowest loss, as the authors keep the best run per size.
    order = np.lexsort((loss, logN))
    first = np.concatenate([[True], np.diff(logN[order]) > 0])
    logN, logD, loss = logN[order][first], logD[order][first], loss[order][first]
    if logN.size < 3:
        flags = [f"only {logN.size} sizes; an interpolated profile needs at least 3"]
        return _unusable(C, logN, loss, "porian", flags)
    grid = np.linspace(logN[0], logN[-1], (logN.size - 1) * PORIAN_GRID)
    noisy = loss[:, None] + noise * rng.standard_normal((loss.size, draws))
    with np.errstate(invalid="ignore"):  # a redrawn loss <= 0 has no log
        curves = Akima1DInterpolator(logN, np.log(noisy), axis=0)(grid)
    best = np.nanargmin(np.where(np.isfinite(curves), curves, np.inf), axis=0)
    inside = (best > 0) & (best < grid.size - 1)
    x_draws = np.where(inside, grid[best], np.nan)
    loss_draws = np.where(inside, np.exp(curves[best, np.arange(draws)]), np.nan)
    flags = []
    if np.mean(inside) < 0.5:
        flags.append(
            f"minimum not bracketed in {1 - np.mean(inside):.0%} of the seed-noise "
            "redraws: N_opt lies at the edge of the N sampled"
        )
    d_coef = np.polyfit(logN, logD, 1)[::-1]
    log_D_draws = d_coef[0] + d_coef[1] * x_draws
    x_opt = float(np.nanmedian(x_draws)) if not flags else float("nan")
    return BudgetProfile(
        C=C,
        n_points=int(logN.size),
        N_range=(float(np.exp(logN[0])), float(np.exp(logN[-1]))),
        N_opt=float(np.exp(x_opt)),
        D_opt=float(np.exp(d_coef[0] + d_coef[1] * x_opt)),
        loss_opt=float(np.nanmedian(loss_draws)) if not flags else float(loss.min()),
        ci95={
            "N_opt": _exp_interval(x_draws),
            "D_opt": _exp_interval(log_D_draws),
            "loss_opt": _interval(loss_draws),
        },
        coefficients=(),
        centre=float(np.mean(logN)),
        profile="porian",
        bracketed=not flags,
        used=not flags,
        flags=tuple(flags),
        log_N_draws=x_draws,
        log_D_draws=log_D_draws,
        log_D_slope=float(d_coef[1]),
    )


def _unusable(C, logN, loss, profile, flags) -> BudgetProfile:
    nan = float("nan")
    return BudgetProfile(
        C=C,
        n_points=int(logN.size),
        N_range=(float(np.exp(logN.min())), float(np.exp(logN.max()))),
        N_opt=nan,
        D_opt=nan,
        loss_opt=float(loss.min()),
        ci95={k: (nan, nan) for k in ("N_opt", "D_opt", "loss_opt")},
        coefficients=(),
        centre=float(np.mean(logN)),
        profile=profile,
        bracketed=False,
        used=False,
        flags=tuple(flags),
        log_N_draws=np.array([]),
        log_D_draws=np.array([]),
    )


def _interval(values: np.ndarray) -> tuple[float, float]:
    if values.size == 0:
        return float("nan"), float("nan")
    return percentile_interval(values, LEVEL)


def _exp_interval(log_values: np.ndarray) -> tuple[float, float]:
    low, high = _interval(log_values)
    return float(np.exp(low)), float(np.exp(high))


def power_fit(logC: np.ndarray, y: np.ndarray, y_draws: np.ndarray) -> PowerFit:
    """Fit ``y = log k + e log C`` (OLS) and refit it to every replicate of ``y``.

    ``y_draws`` is (budgets, replicates): draws of each budget's log optimum
    (NaN where a draw had none). Replicate r refits the line to column r, so
    fits to paired columns give paired draws.
    """
    X = np.column_stack([np.ones_like(logC), logC])
    point, *_ = np.linalg.lstsq(X, y, rcond=None)
    n, R = y_draws.shape
    reps = np.full((R, 2), np.nan)
    for r in range(R):
        ok = np.isfinite(y_draws[:, r])
        if np.unique(logC[ok]).size < 2:
            continue
        reps[r], *_ = np.linalg.lstsq(X[ok], y_draws[ok, r], rcond=None)
    low, high = percentile_interval(reps[:, 1], LEVEL)
    return PowerFit(
        exponent=float(point[1]),
        coefficient=float(np.exp(point[0])),
        ci95=(float(low), float(high)),
        n_budgets=int(n),
        draws=reps,
    )


def isoflop(
    N: np.ndarray,
    D: np.ndarray,
    C: np.ndarray,
    loss: np.ndarray,
    *,
    budget: np.ndarray | None = None,
    rtol: float = 0.05,
    profile: str = "parabola",
    window: float | None = DEFAULT_WINDOW,
    noise: float = PORIAN_NOISE,
    draws: int = 1000,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> IsoFlopResult:
    """Chinchilla approach 2: per-budget loss profiles in log N, then N_opt ~ C^a, D_opt ~ C^b.

    Parameters
    ----------
    N, D, C, loss : one value per run (parameters, tokens, FLOPs, final loss).
    budget : optional budget label per run (e.g. a nominal FLOP column); by
        default runs are grouped by ``C`` within ``rtol``.
    rtol : relative gap in C that starts a new budget.
    profile : ``"parabola"`` (Hoffmann et al.), ``"cubic"`` (follows the
        asymmetric profile when alpha != beta; needs 5+ points per budget) or
        ``"porian"`` (Porian et al.: Akima interpolation in (log N, log L),
        minimum and interval from seed-noise redraws of the losses).
    window : fit each profile only on runs within this factor in N of the
        budget's lowest-loss run; None uses every run (as Hoffmann et al. and
        Porian et al. do). The default 10 keeps a decade either side: a
        parabola is the second-order expansion of the profile about its
        minimum, and far from it the asymmetric profile pulls the vertex
        towards the flatter side (see docs/calibration.md).
    noise : seed-to-seed standard deviation of the final loss, used by
        ``profile="porian"`` only (theirs: 0.002 on RefinedWeb, 0.01 on
        OpenWebText2). Measure it on your runs (repeat a size with other seeds).
    draws : stage-1 coefficient draws and stage-2 replicates.
    seed : seeds the draws; results are deterministic for a given seed.
    progress : called as ``progress(done, total)`` with budget profiles fitted.

    Returns
    -------
    IsoFlopResult

    Examples
    --------
    >>> import numpy as np
    >>> C = np.repeat([1e18, 1e19, 1e20], 9)
    >>> N = np.concatenate([np.geomspace(c**0.5 / 30, c**0.5 / 0.3, 9) / 4 for c in (1e18, 1e19, 1e20)])
    >>> D = C / (6 * N)
    >>> L = 1.7 + 400 * N**-0.34 + 410 * D**-0.34
    >>> round(isoflop(N, D, C, L, draws=200).a.exponent, 2)
    0.5
    """
    if window is not None and not window > 1:
        raise ScalinglabError(f"window must be a factor > 1 in N; got {window}.")
    if profile not in PROFILES:
        raise ScalinglabError(
            f"profile must be one of {', '.join(PROFILES)}; got {profile!r}."
        )
    if not noise > 0:
        raise ScalinglabError(f"noise must be a loss sd > 0; got {noise}.")
    N, D, C, loss = (np.asarray(v, dtype=float) for v in (N, D, C, loss))
    labels = group_budgets(C, rtol=rtol) if budget is None else _labels(budget)
    rng = np.random.default_rng(seed)
    profiles, budgets = [], np.unique(labels)
    for label in budgets:
        rows = _window(labels == label, N, loss, window)
        c = float(np.exp(np.mean(np.log(C[rows]))))
        logs = (np.log(N[rows]), np.log(D[rows]), loss[rows])
        if profile == "porian":
            profiles.append(
                _porian_profile(c, *logs, noise=noise, draws=draws, rng=rng)
            )
        else:
            profiles.append(_profile(c, *logs, profile=profile, draws=draws, rng=rng))
        if progress is not None:
            progress(len(profiles), budgets.size)
    profiles.sort(key=lambda p: p.C)
    used = [p for p in profiles if p.used]
    if len(used) < 3:
        raise InputError(
            f"approach 2 needs at least 3 budgets with a bracketed minimum; got "
            f"{len(used)} of {len(profiles)} budgets ({_flag_summary(profiles)}). "
            "Sample N on both sides of the optimum, widen --rtol, or try --profile cubic."
        )
    logC = np.log([p.C for p in used])
    logN = np.log([p.N_opt for p in used])
    extra = excess_scatter(logC, logN, np.array([p.log_N_draws for p in used]))
    extra = extra * rng.standard_normal((len(used), draws))
    slopes = np.array([[p.log_D_slope] for p in used])
    logN_draws = np.array([p.log_N_draws for p in used]) + extra
    logD_draws = np.array([p.log_D_draws for p in used]) + slopes * extra
    a = power_fit(logC, logN, logN_draws)
    b = power_fit(logC, np.log([p.D_opt for p in used]), logD_draws)
    return IsoFlopResult(tuple(profiles), a, b, profile, tuple(_notes(profiles, a, b)))


def excess_scatter(logC: np.ndarray, y: np.ndarray, y_draws: np.ndarray) -> float:
    """SD of the optima's scatter about the line beyond their stage-1 spread.

    Method of moments: ``tau^2 = max(0, s^2 - mean v_i)``, with ``s^2`` the
    residual variance of the OLS line on ``n - 2`` degrees of freedom and
    ``v_i`` the variance of budget i's stage-1 draws. Zero with 2 budgets.
    """
    if y.size <= 2:
        return 0.0
    X = np.column_stack([np.ones_like(logC), logC])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    s2 = float(np.sum((y - X @ coef) ** 2)) / (y.size - 2)
    v = np.nanvar(y_draws, axis=1, ddof=1)
    return float(np.sqrt(max(0.0, s2 - float(np.mean(v)))))


def _window(rows: np.ndarray, N, loss, window: float | None) -> np.ndarray:
    if window is None:
        return rows
    best = N[rows][np.argmin(loss[rows])]
    return rows & (np.abs(np.log(N / best)) <= np.log(window) + 1e-12)


def _labels(budget: np.ndarray) -> np.ndarray:
    _, labels = np.unique(np.asarray(budget), return_inverse=True)
    return labels


def _flag_summary(profiles) -> str:
    flagged = [f"C={p.C:.3g}: {'; '.join(p.flags)}" for p in profiles if p.flags]
    return "; ".join(flagged) if flagged else "no budget was flagged"


def _notes(profiles, a: PowerFit, b: PowerFit) -> list[str]:
    notes = [
        f"C={p.C:.3g} left out: {'; '.join(p.flags)}" for p in profiles if not p.used
    ]
    notes += [
        f"C={p.C:.3g}: {'; '.join(p.flags)}" for p in profiles if p.used and p.flags
    ]
    total = a.exponent + b.exponent
    if abs(total - 1.0) > 0.05:
        notes.append(
            f"a + b = {total:.3f}, not 1: C is not proportional to N D in these runs "
            "(another FLOP convention), or the optima are noisy."
        )
    return notes
