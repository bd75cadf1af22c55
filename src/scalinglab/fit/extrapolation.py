"""How wrong a law gets as it extrapolates: a rolling-origin estimate inside the fitted data.

A run bootstrap only knows how the fit moves when the runs are resampled, not how
wrong the law's shape is far from the data, so its intervals are too narrow when
extrapolating (the Chinchilla replication data: 39% coverage of the largest
budgets from a 95% interval). This module measures the missing part on the
training rows themselves: fold k fits on the k smallest scale levels and
predicts every larger level; the log errors e against the extrapolation
distance d (decades beyond the fold's fitted range, the largest over the law's
inputs and their compute 6ND: a run can sit inside the fitted N and D ranges and
still lie far beyond the fitted compute) give ``sd(log error) = tau * d`` by least squares through the origin.
Prediction intervals then add a log-normal term of sd ``tau * d``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ..errors import ScalinglabError

# Beyond this many distinct values a scale column is cut into log-spaced bins.
MAX_LEVELS = 8
SCALE_COLUMNS = ("C", "N", "D")


@dataclass(frozen=True)
class ExtrapolationError:
    """Rolling-origin estimate of the log error per decade of extrapolation.

    Attributes
    ----------
    tau : float
        sd of log(predicted / actual) per decade beyond the fitted range.
    n : int
        Rolling-origin predictions it was estimated from.
    by : str
        The scale column whose levels defined the folds.
    ranges : dict
        Fitted range of each law input; distances are measured from it.
    decades, log_errors : numpy.ndarray
        The estimate's data (empty after a reload).
    """

    tau: float
    n: int
    by: str
    ranges: dict[str, tuple[float, float]]
    decades: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    log_errors: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def decades_beyond(self, **inputs: np.ndarray | float) -> np.ndarray:
        """Decades beyond the fitted range (0 inside it), the largest over the inputs."""
        return decades_beyond(self.ranges, inputs)

    def extra_sd(self, **inputs: np.ndarray | float) -> np.ndarray:
        """The log-error sd this estimate adds at ``inputs``: ``tau * decades``."""
        return self.tau * self.decades_beyond(**inputs)

    def to_dict(self) -> dict:
        return {
            "tau_per_decade": self.tau,
            "n": self.n,
            "by": self.by,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "model": "sd(log error) = tau * decades beyond the fitted range",
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "ExtrapolationError":
        ranges = {k: (float(v[0]), float(v[1])) for k, v in data["ranges"].items()}
        return cls(float(data["tau_per_decade"]), int(data["n"]), str(data["by"]), ranges)


def scale_levels(values: np.ndarray, max_levels: int = MAX_LEVELS) -> np.ndarray:
    """Level index per row: rank of its distinct value, or its log-spaced bin when values are many."""
    distinct = np.unique(values)
    if distinct.size <= max_levels:
        return np.searchsorted(distinct, values)
    edges = np.linspace(np.log(distinct[0]), np.log(distinct[-1]), max_levels + 1)
    return np.clip(np.searchsorted(edges, np.log(values), side="right") - 1, 0, max_levels - 1)


def with_compute(inputs: Mapping) -> dict:
    """The inputs plus ``6ND`` (the compute they imply) when they hold N and D."""
    out = dict(inputs)
    if "N" in out and "D" in out:
        out["6ND"] = 6.0 * np.asarray(out["N"], dtype=float) * np.asarray(out["D"], dtype=float)
    return out


def input_ranges(inputs: Mapping[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """Fitted range of each input and of the compute they imply."""
    return {k: (float(np.min(v)), float(np.max(v))) for k, v in with_compute(inputs).items()}


def decades_beyond(ranges: Mapping[str, tuple[float, float]], inputs: Mapping) -> np.ndarray:
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


def estimate(
    refit: Callable[[np.ndarray], object],
    inputs: Mapping[str, np.ndarray],
    loss: np.ndarray,
    scale: np.ndarray,
    *,
    by: str,
    min_free: int,
    min_levels: int = 2,
) -> ExtrapolationError:
    """Rolling-origin extrapolation error of the law that ``refit(mask)`` fits on the masked rows.

    Raises
    ------
    ScalinglabError
        When the data give fewer than 2 predictions beyond a fitted range.
    """
    levels = scale_levels(scale)
    decades, errors = [], []
    for k in np.unique(levels)[min_levels - 1 : -1]:
        fitted = levels <= k
        if fitted.sum() <= min_free:
            continue
        try:
            result = refit(fitted)
        except ScalinglabError:
            continue
        held = {name: values[~fitted] for name, values in inputs.items()}
        fold_ranges = input_ranges({n: v[fitted] for n, v in inputs.items()})
        decades.append(decades_beyond(fold_ranges, held))
        errors.append(np.log(result.predict(**held) / loss[~fitted]))
    d = np.concatenate(decades) if decades else np.empty(0)
    e = np.concatenate(errors) if errors else np.empty(0)
    ok = np.isfinite(e) & (d > 0)
    if ok.sum() < 2:
        raise ScalinglabError(
            f"cannot estimate extrapolation error by {by}: the rows give {int(ok.sum())} "
            "rolling-origin predictions beyond a fitted range; it needs at least 2 (more scale levels)."
        )
    tau = float(np.sqrt(np.sum(e[ok] ** 2 * d[ok] ** 2) / np.sum(d[ok] ** 4)))
    return ExtrapolationError(tau, int(ok.sum()), by, input_ranges(inputs), d[ok], e[ok])
