"""How wrong a law gets as it extrapolates: a rolling-origin estimate inside the fitted data.

A run bootstrap only knows how the fit moves when the runs are resampled, not how
wrong the law's shape is far from the data, so its intervals are too narrow when
extrapolating (the Chinchilla replication data: 39% coverage of the largest
budgets from a 95% interval). This module measures the missing part on the
training rows themselves. Fold k fits on the k smallest scale levels and
predicts every larger level; each prediction gives a log error ``e`` at an
extrapolation distance ``d`` (decades beyond the fold's fitted range, the
largest over the law's inputs and their compute 6ND: a run can sit inside the
fitted N and D ranges and still lie far beyond the fitted compute).

Each fold k gives a root-mean-square log error per decade,

.. math::

    \\tau_k^2 = \\frac{\\max(0, \\sum_{i \\in k} e_i^2 - n_k \\sigma^2)}{\\sum_{i \\in k} d_i^2},

where ``sigma`` is the fit's run-to-run scatter (already in every prediction
interval) and ``n_k`` the fold's predictions: the scatter is taken out of the
fold's sum, not point by point (``max(e^2 - sigma^2, 0)`` per point would keep
about half of ``sigma^2`` a point as shape error), and its predictions count by
how far they extrapolate. The estimate ``tau`` is the median of the folds'
``tau_k`` weighted by the share of the rows each fold was fitted on, so a fold
fitted on two small levels counts for little and one fold whose law went astray
cannot set the width alone. ``tau_k`` still counts the fold's own parameter
spread (larger than the full fit's, whose bootstrap draws carry it): taking it
out too (delta method) made the intervals of a misspecified law no wider than
the bootstrap's (Kaplan's law on Chinchilla data: tau 0), so it stays, and
with the right law the intervals are somewhat conservative. Being a root mean
square, not a spread around zero, ``tau_k`` includes a systematic drift; the
signed drift per decade (``sum e d / sum d^2`` per fold, weighted the same way)
is reported beside it as ``bias``. Prediction intervals add a log-normal term
of sd ``tau * d``. They cover the error the law made when extrapolating inside
the data; a change of the law's shape beyond the data is not covered.

When the folds' signed error per decade moves strictly one way with the share of
rows they were fitted on (at least ``MIN_DRIFT_FOLDS`` folds), the law's fitted
shape is still changing with scale and a fit on all the data is likely to err
further that way: :attr:`ExtrapolationError.shape_note` says so, and on that side
only the term's sd is ``hypot(tau, b) * d``, ``b`` the largest fold's signed
error per decade (:meth:`ExtrapolationError.extra_sd`). A drift that speeds up
beyond the data is still not covered.

Every fold is refitted in one batched call: each starts from the full-data
optimum and from the best few starts of the grid screened on the fold's rows
(the screen of the whole grid is shared by all folds), instead of a full
multi-start fit per fold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import ScalinglabError
from .engine import Problem, predictions, refine

# Beyond this many distinct values a scale column is cut into log-spaced bins.
MAX_LEVELS = 8
SCALE_COLUMNS = ("C", "N", "D")
# Grid starts refined per fold, beside the full-data optimum.
FOLD_STARTS = 2
# Folds whose drift must move one way before it is reported: at 3, chance alone
# would order them so one time in three.
MIN_DRIFT_FOLDS = 4
COVERS = (
    "the log error the law made when extrapolating inside the data (rolling-origin "
    "refits), as a root mean square per decade beyond the run scatter, drift "
    "included; not a change of the law's shape beyond the data"
)


@dataclass(frozen=True)
class ExtrapolationError:
    """Rolling-origin estimate of the log error per decade of extrapolation.

    Attributes
    ----------
    tau : float
        Root-mean-square log(predicted / actual) per decade beyond the fitted
        range, run scatter taken out (it is in the interval already).
    n : int
        Rolling-origin predictions it was estimated from.
    by : str
        The scale column whose levels defined the folds.
    ranges : dict
        Fitted range of each law input; distances are measured from it.
    bias : float
        Signed log error per decade (positive: the law over-predicted the loss
        of larger runs); ``tau`` includes it.
    folds : int
        Folds that contributed.
    drift : tuple of (float, float)
        Each fold's share of the rows and its signed log error per decade, by share:
        when it moves steadily with the share (:attr:`shape_note`), the law's fitted
        shape is still changing with scale, and intervals reach further on the side
        the law drifts to (:meth:`extra_sd`).
    decades, log_errors, fold : numpy.ndarray
        The estimate's data, each prediction with its fold's index (empty after a reload).
    """

    tau: float
    n: int
    by: str
    ranges: dict[str, tuple[float, float]]
    bias: float = 0.0
    folds: int = 0
    drift: tuple[tuple[float, float], ...] = ()
    decades: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    log_errors: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    fold: np.ndarray = field(default_factory=lambda: np.empty(0, int), repr=False)

    @property
    def drift_rate(self) -> float:
        """Signed log error per decade of the largest fold when the folds drift steadily
        (:attr:`shape_note`), else 0: how fast the law was still drifting at the most data."""
        bias = np.array([b for _, b in self.drift])
        steps = np.diff(bias)
        if bias.size < MIN_DRIFT_FOLDS or not (np.all(steps > 0) or np.all(steps < 0)):
            return 0.0
        return float(bias[-1])

    @property
    def shape_note(self) -> str | None:
        """What the interval misses when the folds' signed error per decade moves
        steadily (strictly monotone over at least ``MIN_DRIFT_FOLDS`` folds) with the
        data they were fitted on, else None.

        A fit on more data then errs further the same way: beyond the data the law
        is likely to keep drifting, which the interval (a spread around the
        estimate) does not cover. With the right law and 6 folds this happens by
        chance in about 4% of data sets (tests/calibration/test_extrapolation.py).
        """
        if not self.drift_rate:
            return None
        (first_share, first), (last_share, last) = self.drift[0], self.drift[-1]
        side = "over" if last > first else "under"
        reach = "down" if self.drift_rate > 0 else "up"
        return (
            f"the rolling-origin folds' signed error moved steadily with the data they "
            f"were fitted on ({first:+.2%} per decade on {first_share:.0%} of the rows to "
            f"{last:+.2%} on {last_share:.0%}): the law's fitted shape still changes with "
            f"scale, so beyond the data it is likely to {side}-predict. Intervals reach "
            f"further {reach} by the largest fold's {abs(last):.2%} per decade; a drift "
            "that speeds up beyond the data is not covered."
        )

    def decades_beyond(self, **inputs: np.ndarray | float) -> np.ndarray:
        """Decades beyond the fitted range (0 inside it), the largest over the inputs."""
        return decades_beyond(self.ranges, inputs)

    def extra_sd(
        self, z: np.ndarray | None = None, **inputs: np.ndarray | float
    ) -> np.ndarray:
        """The log-error sd this estimate adds at ``inputs``: ``tau * decades``.

        Given the standard normals ``z`` an interval scales it by (``exp(sd * z)``),
        the sd per draw: on the side the folds drift to (z < 0 when the law
        over-predicts more with more data) it is ``hypot(tau, drift_rate) * decades``.
        """
        decades = self.decades_beyond(**inputs)
        rate = self.drift_rate
        if z is None or not rate:
            return self.tau * decades
        toward = np.sign(z) == -np.sign(rate)
        return np.where(toward, np.hypot(self.tau, rate), self.tau) * decades

    def to_dict(self) -> dict:
        return {
            "tau_per_decade": self.tau,
            "bias_per_decade": self.bias,
            "n": self.n,
            "folds": self.folds,
            "drift_by_fold": [list(pair) for pair in self.drift],
            "by": self.by,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "model": "sd(log error) = tau * decades beyond the fitted range",
            "covers": COVERS,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> ExtrapolationError:
        ranges = {k: (float(v[0]), float(v[1])) for k, v in data["ranges"].items()}
        return cls(
            float(data["tau_per_decade"]),
            int(data["n"]),
            str(data["by"]),
            ranges,
            bias=float(data.get("bias_per_decade", 0.0)),
            folds=int(data.get("folds", 0)),
            drift=tuple((float(s), float(b)) for s, b in data.get("drift_by_fold", [])),
        )


def scale_levels(values: np.ndarray, max_levels: int = MAX_LEVELS) -> np.ndarray:
    """Level index per row: rank of its distinct value, or its log-spaced bin when values are many."""
    distinct = np.unique(values)
    if distinct.size <= max_levels:
        return np.searchsorted(distinct, values)
    edges = np.linspace(np.log(distinct[0]), np.log(distinct[-1]), max_levels + 1)
    return np.clip(
        np.searchsorted(edges, np.log(values), side="right") - 1, 0, max_levels - 1
    )


def with_compute(inputs: Mapping) -> dict:
    """The inputs plus ``6ND`` (the compute they imply) when they hold N and D."""
    out = dict(inputs)
    if "N" in out and "D" in out:
        N, D = (np.asarray(out[k], dtype=float) for k in ("N", "D"))
        out["6ND"] = 6.0 * N * D
    return out


def input_ranges(inputs: Mapping[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """Fitted range of each input and of the compute they imply."""
    return {
        k: (float(np.min(v)), float(np.max(v))) for k, v in with_compute(inputs).items()
    }


def decades_beyond(
    ranges: Mapping[str, tuple[float, float]], inputs: Mapping
) -> np.ndarray:
    """log10 of the largest factor by which any input, or 6ND, lies outside its range (0 inside)."""
    inputs = with_compute(inputs)
    factors = []
    for name, (low, high) in ranges.items():
        if name not in inputs:
            continue
        x = np.asarray(inputs[name], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            factors.append(np.maximum.reduce([x / high, low / x, np.ones_like(x)]))
    if not factors:
        return np.zeros(())
    return np.log10(np.maximum.reduce(np.broadcast_arrays(*factors)))


def scale_column(available: set[str], law_inputs: tuple[str, ...]) -> str | None:
    """The column whose levels define the folds: C when present, else the first scale input."""
    for name in SCALE_COLUMNS:
        if name in available and (name == "C" or name in law_inputs):
            return name
    return None


def fold_masks(scale: np.ndarray, *, min_free: int, min_levels: int = 2) -> np.ndarray:
    """Fitted rows of each rolling-origin fold (folds, n): the k smallest levels, k >= min_levels.

    A fold needs more rows than free parameters and at least one larger level to predict.
    """
    levels = scale_levels(scale)
    masks = [levels <= k for k in np.unique(levels)[min_levels - 1 : -1]]
    return np.array([m for m in masks if m.sum() > min_free], dtype=bool).reshape(
        -1, scale.size
    )


def refit_folds(
    problem: Problem,
    theta_hat: np.ndarray,
    starts: np.ndarray,
    masks: np.ndarray,
    *,
    per_fold: int = FOLD_STARTS,
) -> np.ndarray:
    """Best fit-space parameters of each fold (folds, P), NaN rows where no start was finite.

    Each fold is refined from ``theta_hat`` and its ``per_fold`` best grid starts,
    screened on the fold's rows; all folds and starts go through one batched refine.
    """
    # A fold is the full problem with its other rows weighted 0.
    weights = masks * problem.weights
    warm = np.repeat(theta_hat[None, None, :], len(masks), axis=0)
    theta0 = np.concatenate(
        [warm, _screen_folds(problem, starts, weights, per_fold)], 1
    )
    folds, k = theta0.shape[:2]
    refined = refine(
        problem, theta0.reshape(folds * k, -1), weights=np.repeat(weights, k, axis=0)
    )
    objective = refined.objective.reshape(folds, k)
    best = np.argmin(objective, axis=1)
    theta = refined.theta.reshape(folds, k, -1)[np.arange(folds), best]
    finite = np.isfinite(objective[np.arange(folds), best])
    return np.where(finite[:, None], theta, np.nan)


def _screen_folds(problem, starts, weights, per_fold: int, chunk: int = 1024):
    """The ``per_fold`` best starts of each fold (folds, per_fold, P), one pass over the grid."""
    totals = []
    for i in range(0, len(starts), chunk):
        r = predictions(problem, starts[i : i + chunk]) - problem.observed
        with np.errstate(all="ignore"):
            rho = np.where(np.isfinite(r), problem.objective.rho(r), np.inf)[:, None, :]
            per_fold_rho = np.where(weights[None] > 0, weights[None] * rho, 0.0)
        totals.append(per_fold_rho.sum(-1))
    values = np.nan_to_num(np.concatenate(totals), nan=np.inf)  # (S, folds)
    order = np.argsort(values, axis=0, kind="stable")[:per_fold]  # (per_fold, folds)
    return starts[order.T]


def fold_errors(problem: Problem, thetas: np.ndarray, masks: np.ndarray):
    """Distance, log error and fold index of every fold's prediction of its larger rows."""
    law = problem.law
    with np.errstate(all="ignore"):
        predicted = np.asarray(law.evaluate(problem.inputs, law.unpack(thetas)), float)
    predicted = np.broadcast_to(predicted, masks.shape)
    decades, errors, folds = [], [], []
    for k, (fitted, pred) in enumerate(zip(masks, predicted)):
        held = {n: np.asarray(v)[~fitted] for n, v in problem.inputs.items()}
        fitted_inputs = {n: np.asarray(v)[fitted] for n, v in problem.inputs.items()}
        decades.append(decades_beyond(input_ranges(fitted_inputs), held))
        with np.errstate(all="ignore"):
            errors.append(np.log(pred[~fitted] / problem.target[~fitted]))
        folds.append(np.full((~fitted).sum(), k))
    return tuple(np.concatenate(x) for x in (decades, errors, folds))


def per_fold(d, e, fold, scatter: float):
    """Each fold's RMS log error per decade, the run scatter taken out of its sum of
    squares (not point by point), and its signed bias per decade."""
    ids = np.unique(fold)
    tau, bias = np.empty(ids.size), np.empty(ids.size)
    for i, k in enumerate(ids):
        at = fold == k
        squares = np.sum(d[at] ** 2)
        excess = np.sum(e[at] ** 2) - at.sum() * scatter**2
        tau[i] = np.sqrt(max(excess, 0.0) / squares)
        bias[i] = np.sum(e[at] * d[at]) / squares
    return ids, tau, bias


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value at which the cumulative weight first reaches half the total."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def estimate(
    problem: Problem,
    theta_hat: np.ndarray,
    starts: np.ndarray,
    scale: np.ndarray,
    *,
    by: str,
    scatter: float,
    min_levels: int = 2,
) -> ExtrapolationError:
    """Rolling-origin extrapolation error of ``problem``'s law, refitted on the smaller levels.

    Parameters
    ----------
    problem : the full fit's problem; theta_hat its optimum, starts its start grid.
    scale : the scale column whose levels define the folds, named ``by``.
    scatter : the fit's run-to-run log scatter, taken out of the squared errors.

    Raises
    ------
    ScalinglabError
        When the data give fewer than 2 predictions beyond a fitted range.
    """
    free = len(problem.law.free_params)
    masks = fold_masks(scale, min_free=free, min_levels=min_levels)
    if not len(masks):
        raise ScalinglabError(
            f"cannot estimate extrapolation error by {by}: no fold of the smaller scale "
            f"levels has more rows than the law's {free} free parameters and a larger "
            "level to predict."
        )
    thetas = refit_folds(problem, theta_hat, starts, masks)
    usable = np.all(np.isfinite(thetas), axis=1)
    masks = masks[usable]
    d, e, fold = fold_errors(problem, thetas[usable], masks)
    ok = np.isfinite(e) & (d > 0)
    if ok.sum() < 2:
        raise ScalinglabError(
            f"cannot estimate extrapolation error by {by}: the rows give {int(ok.sum())} "
            "rolling-origin predictions beyond a fitted range; it needs at least 2 "
            "(more scale levels)."
        )
    d, e, fold = d[ok], e[ok], fold[ok]
    ids, tau, bias = per_fold(d, e, fold, scatter)
    share = masks[ids].mean(axis=1)  # the share of the rows each fold was fitted on
    return ExtrapolationError(
        tau=weighted_median(tau, share),
        n=int(ok.sum()),
        by=by,
        ranges=input_ranges(problem.inputs),
        bias=float(np.sum(share * bias) / np.sum(share)),
        folds=int(ids.size),
        drift=tuple(sorted(zip(share.tolist(), bias.tolist()))),
        decades=d,
        log_errors=e,
        fold=fold,
    )
