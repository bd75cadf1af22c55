"""Test-time scaling: pass@k from repeated samples, its power law and a Beta forecast.

From per-problem results (``n`` attempts, ``c`` correct):

- the unbiased pass@k estimator of Chen et al. 2021 for any k <= n;
- the aggregate law ``-log pass@k = a k^-b`` (Brown et al. 2024, Large Language Monkeys);
- the distributional forecast of Schaeffer et al. 2025: per-problem success
  probabilities p ~ Beta(alpha, beta), fitted by beta-binomial maximum likelihood,
  give pass@k = 1 - B(alpha, beta + k) / B(alpha, beta) for any k, also k >> n.

Intervals resample problems. Problems with the same (n, c) are interchangeable,
so a resample is a multinomial draw of the counts of each distinct (n, c) pair and
every replicate is fitted at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, gammaln, polygamma, psi

from ..errors import ScalinglabError
from ..fit.intervals import percentile_interval

_NEWTON_STEPS = 200
_LOG_BOUNDS = (-9.0, 9.0)  # Beta shape parameters between 1e-4 and 8e3


def pass_at_k(n, c, k) -> np.ndarray:
    """Unbiased pass@k from ``c`` correct of ``n`` attempts (Chen et al. 2021, eq. 1).

    .. math:: \\widehat{\\text{pass@}k} = 1 - \\binom{n-c}{k} \\Big/ \\binom{n}{k}

    Arrays broadcast; computed with log-gamma, so n may be large.

    Examples
    --------
    >>> round(float(pass_at_k(10, 1, 1)), 12)
    0.1
    """
    n, c, k = (np.asarray(x, dtype=float) for x in (n, c, k))
    _check_counts(n, c)
    if np.any(k < 1) or np.any(k > n):
        raise ScalinglabError(
            f"k must be in 1..n (n attempts per problem); got k={k} with n={n}."
        )
    failures = n - c
    with np.errstate(all="ignore"):
        log_ratio = (
            gammaln(failures + 1)
            - gammaln(failures - k + 1)
            - gammaln(n + 1)
            + gammaln(n - k + 1)
        )
    return np.where(failures < k, 1.0, -np.expm1(log_ratio))


def _check_counts(n: np.ndarray, c: np.ndarray) -> None:
    n, c = np.broadcast_arrays(np.atleast_1d(n), np.atleast_1d(c))
    for name, x in (("n", n), ("c", c)):
        bad = np.flatnonzero(~np.isfinite(x) | (x < 0) | (x != np.round(x)))
        if bad.size:
            raise ScalinglabError(
                f"{name} must be whole numbers >= 0; got {float(x.flat[bad[0]])!r} (problem {bad[0] + 1})."
            )
    over = np.flatnonzero(c > n)
    if over.size:
        i = over[0]
        raise ScalinglabError(
            f"c (correct) must not exceed n (attempts); got c={c.flat[i]:g} > n={n.flat[i]:g} (problem {i + 1})."
        )


def beta_pass_at_k(alpha, beta, k) -> np.ndarray:
    """pass@k when per-problem success probabilities are Beta(alpha, beta) (Schaeffer et al. 2025).

    .. math:: \\text{pass@}k = 1 - E[(1-p)^k] = 1 - B(\\alpha, \\beta + k) / B(\\alpha, \\beta)
    """
    alpha, beta, k = (np.asarray(x, dtype=float) for x in (alpha, beta, k))
    return -np.expm1(betaln(alpha, beta + k) - betaln(alpha, beta))


def fit_beta(
    n: np.ndarray, c: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Beta-binomial maximum likelihood of (alpha, beta) for each row of ``weights``.

    Parameters
    ----------
    n, c : attempts and successes of each distinct group, shape (G,).
    weights : problem counts per group, shape (S, G); one fit per row.

    Returns
    -------
    alpha, beta : arrays of shape (S,).

    Notes
    -----
    Damped Newton in (log alpha, log beta) with analytic gradient and Hessian
    (digamma, trigamma), from method-of-moments starting values.
    """
    theta = _moment_start(n, c, weights)
    value = _loglik(theta, n, c, weights)
    for _ in range(_NEWTON_STEPS):
        step = _newton_step(theta, n, c, weights)
        size = np.ones(len(theta))
        for _ in range(30):  # halve until the likelihood does not fall
            trial = np.clip(theta + size[:, None] * step, *_LOG_BOUNDS)
            new = _loglik(trial, n, c, weights)
            worse = new < value - 1e-9 * (1 + np.abs(value))  # beyond rounding
            if not worse.any():
                break
            size = np.where(worse, size / 2, size)
        moved = np.abs(trial - theta).max(axis=1)
        theta, value = (
            np.where(worse[:, None], theta, trial),
            np.where(worse, value, new),
        )
        if np.all(moved < 1e-10):
            break
    return np.exp(theta[:, 0]), np.exp(theta[:, 1])


def _moment_start(n, c, weights) -> np.ndarray:
    p = c / n
    total = weights.sum(axis=1)
    mean = np.clip((weights * p).sum(axis=1) / total, 1e-3, 1 - 1e-3)
    var = (weights * (p - mean[:, None]) ** 2).sum(axis=1) / total
    concentration = np.clip(mean * (1 - mean) / np.maximum(var, 1e-6) - 1, 0.05, 1e3)
    return np.log(np.stack([mean * concentration, (1 - mean) * concentration], axis=1))


def _loglik(theta, n, c, weights) -> np.ndarray:
    a, b = np.exp(theta[:, :1]), np.exp(theta[:, 1:])
    # log B(c + a, n - c + b) - log B(a, b), with gammaln (several times faster than betaln)
    terms = (
        gammaln(c + a)
        + gammaln(n - c + b)
        - gammaln(n + a + b)
        - gammaln(a)
        - gammaln(b)
        + gammaln(a + b)
    )
    return (weights * terms).sum(axis=1)


def _newton_step(theta, n, c, weights) -> np.ndarray:
    a, b = np.exp(theta[:, :1]), np.exp(theta[:, 1:])
    common = psi(a + b) - psi(n + a + b)
    ga = (weights * (psi(c + a) - psi(a) + common)).sum(axis=1)
    gb = (weights * (psi(n - c + b) - psi(b) + common)).sum(axis=1)
    common2 = polygamma(1, a + b) - polygamma(1, n + a + b)
    haa = (weights * (polygamma(1, c + a) - polygamma(1, a) + common2)).sum(axis=1)
    hbb = (weights * (polygamma(1, n - c + b) - polygamma(1, b) + common2)).sum(axis=1)
    hab = (weights * common2).sum(axis=1)
    a, b = a[:, 0], b[:, 0]
    g = np.stack([ga * a, gb * b], axis=1)  # gradient in log space
    h11, h22, h12 = haa * a * a + ga * a, hbb * b * b + gb * b, hab * a * b
    det = h11 * h22 - h12**2
    concave = (h11 < 0) & (det > 0)
    with np.errstate(all="ignore"):
        newton = (
            -np.stack(
                [h22 * g[:, 0] - h12 * g[:, 1], h11 * g[:, 1] - h12 * g[:, 0]], axis=1
            )
            / det[:, None]
        )
    step = np.where(
        concave[:, None], newton, 0.1 * g / (1 + np.abs(g).max(axis=1, keepdims=True))
    )
    return np.clip(np.nan_to_num(step), -1.0, 1.0)


def fit_power_law(k: np.ndarray, coverage: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least squares of log(-log pass@k) on log k per row: ``-log pass@k = a k^-b``.

    ``coverage`` has shape (S, K); points with pass@k of 0 or 1 carry no information
    about the law and are left out. Returns a, b of shape (S,).
    """
    with np.errstate(all="ignore"):
        y = np.log(-np.log(coverage))
    x = np.broadcast_to(np.log(k), y.shape)
    ok = np.isfinite(y)
    count = ok.sum(axis=1)
    xm = np.where(ok, x, 0).sum(axis=1) / count
    ym = np.where(ok, y, 0).sum(axis=1) / count
    dx, dy = np.where(ok, x - xm[:, None], 0), np.where(ok, y - ym[:, None], 0)
    with np.errstate(all="ignore"):
        slope = (dx * dy).sum(axis=1) / (dx * dx).sum(axis=1)
    return np.exp(ym - slope * xm), -slope


@dataclass(frozen=True)
class TestTimeFit:
    """pass@k laws fitted to per-problem samples.

    Attributes
    ----------
    params : the power law's ``a`` and ``b`` (``-log pass@k = a k^-b``).
    beta : the Beta distribution of per-problem success probability (``alpha``, ``beta``).
    pass_at_k : one row per requested k: ``k``, ``observed`` (unbiased estimate, when
        k <= n), ``law``, ``beta_forecast``, each with a ``*_ci95`` from resampling problems.
    ci95 : intervals of ``a``, ``b``, ``alpha``, ``beta``.
    n_problems, samples_per_problem : the data's size (the smallest n bounds observed k).
    coverage : the observed pass@k the law was fitted to: ``k`` and ``observed`` lists.
    """

    __test__ = False  # not a pytest class despite its name

    params: dict
    beta: dict
    pass_at_k: list
    ci95: dict
    n_problems: int
    samples_per_problem: int
    coverage: dict

    def to_dict(self) -> dict:
        """JSON-safe: ``params``, ``beta``, ``pass_at_k``, ``ci95``, the data's size, ``coverage``."""
        return {
            k: getattr(self, k)
            for k in (
                "params",
                "beta",
                "pass_at_k",
                "ci95",
                "n_problems",
                "samples_per_problem",
                "coverage",
            )
        }


def fit_testtime(
    n,
    c,
    *,
    k=(1, 10, 100, 1000),
    bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> TestTimeFit:
    """Fit the pass@k power law and the Beta forecast, with intervals over problems.

    Parameters
    ----------
    n, c : attempts and correct answers per problem, shape (P,).
    k : sample counts to report; observed pass@k is given for k <= min(n).
    bootstrap : problem resamples for the intervals (0: none).
    seed : seeds the resampling.
    level : interval level.

    Returns
    -------
    TestTimeFit

    References
    ----------
    Chen et al. 2021, arXiv 2107.03374 (unbiased pass@k). Brown et al. 2024, arXiv 2407.21787.
    Schaeffer et al. 2025, "How Do Large Language Monkeys Get Their Power (Laws)?", arXiv 2502.17578.

    Examples
    --------
    >>> out = fit_testtime([4, 4, 4], [0, 1, 4], k=[1, 2], bootstrap=0)
    >>> round(out.pass_at_k[0]["observed"], 4)
    0.4167
    """
    n, c, ks = (
        np.asarray(n, float),
        np.asarray(c, float),
        np.asarray(k, dtype=float).ravel(),
    )
    _check_counts(n, c)
    if n.size < 2 or np.any(n < 1):
        raise ScalinglabError(
            f"need at least 2 problems with n >= 1 attempts each; got {n.size} problems."
        )
    if np.any(ks < 1) or np.any(ks != np.round(ks)):
        raise ScalinglabError(
            f"--k values must be whole numbers >= 1; got {ks.tolist()}."
        )
    groups, counts = np.unique(np.stack([n, c], axis=1), axis=0, return_counts=True)
    weights = counts[None, :].astype(float)
    if bootstrap > 0:
        rng = np.random.default_rng(seed)
        weights = np.vstack(
            [weights, rng.multinomial(n.size, counts / n.size, size=bootstrap)]
        )
    table = _estimates(groups[:, 0], groups[:, 1], weights, ks)
    return _summarise(table, ks, int(n.min()), n.size, bootstrap, level)


def _estimates(gn, gc, weights, ks) -> dict[str, np.ndarray]:
    """Every quantity for the data (row 0) and each resample (rows 1..)."""
    fit_k = np.unique(np.round(np.geomspace(1, gn.min(), 20)))
    observed = _coverage(gn, gc, weights, fit_k)
    a, b = fit_power_law(fit_k, observed)
    alpha, beta = fit_beta(gn, gc, weights)
    out = {
        "a": a,
        "b": b,
        "alpha": alpha,
        "beta": beta,
        "fit_k": fit_k,
        "fit_observed": observed[0],
    }
    seen = ks <= gn.min()
    out["observed"] = np.full((len(weights), ks.size), np.nan)
    if seen.any():
        out["observed"][:, seen] = _coverage(gn, gc, weights, ks[seen])
    out["law"] = np.exp(-a[:, None] * ks[None, :] ** -b[:, None])
    out["beta_forecast"] = beta_pass_at_k(alpha[:, None], beta[:, None], ks[None, :])
    return out


def _coverage(gn, gc, weights, ks) -> np.ndarray:
    per_group = pass_at_k(gn[:, None], gc[:, None], ks[None, :])  # (G, K)
    return weights @ per_group / weights.sum(axis=1, keepdims=True)


def _summarise(table, ks, n_min, problems, bootstrap, level) -> TestTimeFit:
    def interval(x):
        if bootstrap == 0:
            return None
        low, high = percentile_interval(x[1:], level)
        return (
            [float(low), float(high)]
            if np.ndim(low) == 0
            else np.stack([low, high], axis=1)
        )

    rows = []
    for j, k in enumerate(ks):
        row = {"k": int(k)}
        for name in ("observed", "law", "beta_forecast"):
            col = table[name][:, j]
            row[name] = float(col[0]) if np.isfinite(col[0]) else None
            ci = interval(col) if row[name] is not None else None
            row[f"{name}_ci95"] = None if ci is None else [float(ci[0]), float(ci[1])]
        rows.append(row)
    ci = (
        {name: interval(table[name]) for name in ("a", "b", "alpha", "beta")}
        if bootstrap
        else None
    )
    return TestTimeFit(
        params={"a": float(table["a"][0]), "b": float(table["b"][0])},
        beta={"alpha": float(table["alpha"][0]), "beta": float(table["beta"][0])},
        pass_at_k=rows,
        ci95=ci,
        n_problems=problems,
        samples_per_problem=n_min,
        coverage={
            "k": [int(k) for k in table["fit_k"]],
            "observed": [float(v) for v in table["fit_observed"]],
        },
    )
