"""The best data mixture under fitted mixing laws (Ye et al. 2024), within bounds.

Each fit is a ``mixing`` law of one target domain's loss in the domain
proportions ``r`` (:func:`~scalinglab.laws.mixing.mixing_law`). The objective is
the weighted sum of the fitted losses,

.. math::

    \\min_r \\sum_i w_i \\left(c_i + k_i \\exp(t_i \\cdot r)\\right)
    \\quad \\text{s.t.} \\quad \\sum_j r_j = 1, \\; l_j \\le r_j \\le u_j ,

a sum of exponentials of linear functions, so convex: SLSQP from the centre of
the feasible box finds the optimum. For one target domain the optimum sits on
the boundary (the exponent is linear), which is why bounds matter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ScalinglabError
from ..fit.result import FitResult

__all__ = ["MixtureOptimum", "optimize_mixture"]


@dataclass(frozen=True)
class MixtureOptimum:
    """The proportions that minimise the weighted predicted loss.

    Attributes
    ----------
    proportions : domain -> share (summing to 1).
    loss : the weighted predicted loss there.
    losses : each fit's predicted loss there (by the fit's position).
    bounds : domain -> (lower, upper) used.
    converged : whether the optimizer reported success.
    """

    proportions: dict[str, float]
    loss: float
    losses: tuple[float, ...]
    bounds: dict[str, tuple[float, float]]
    converged: bool

    def to_dict(self) -> dict:
        return {
            "proportions": dict(self.proportions),
            "loss": self.loss,
            "losses": list(self.losses),
            "bounds": {k: list(v) for k, v in self.bounds.items()},
            "converged": self.converged,
        }


def optimize_mixture(
    fits: Sequence[FitResult],
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    weights: Sequence[float] | None = None,
) -> MixtureOptimum:
    """Proportions minimising ``sum_i weights[i] * fits[i]`` on the simplex within ``bounds``.

    Raises
    ------
    ScalinglabError
        No fit, fits that are not mixing laws of the same domains, bounds naming
        other domains or leaving no feasible mixture, weights of the wrong length.
    """
    domains = _domains(fits)
    low, high = _bounds(domains, bounds or {})
    w = _weights(weights, len(fits))
    from scipy.optimize import minimize

    start = _feasible_start(low, high)
    found = minimize(
        lambda r: float(_losses(fits, domains, r) @ w),
        start,
        method="SLSQP",
        bounds=list(zip(low, high)),
        constraints=[{"type": "eq", "fun": lambda r: np.sum(r) - 1.0}],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    r = np.clip(found.x, low, high)
    losses = _losses(fits, domains, r)
    return MixtureOptimum(
        proportions=dict(zip(domains, r.tolist())),
        loss=float(losses @ w),
        losses=tuple(losses.tolist()),
        bounds={d: (float(a), float(b)) for d, a, b in zip(domains, low, high)},
        converged=bool(found.success),
    )


def _domains(fits: Sequence[FitResult]) -> tuple[str, ...]:
    if not fits:
        raise ScalinglabError("give at least one fitted mixing law (--fit FILE).")
    domains = tuple(fits[0].law.inputs)
    for f in fits:
        if not f.law.name.startswith("mixing") or tuple(f.law.inputs) != domains:
            raise ScalinglabError(
                f"every fit must be a mixing law of the domains {', '.join(domains)}; "
                f"{f.law.name} takes {', '.join(f.law.inputs)}. Fit each target domain "
                f'with --law "mixing({",".join(domains)})".'
            )
    return domains


def _bounds(domains, bounds: Mapping[str, tuple[float, float]]):
    unknown = sorted(set(bounds) - set(domains))
    if unknown:
        raise ScalinglabError(
            f"bounds name {unknown}, which are not domains; the domains are "
            f"{', '.join(domains)}."
        )
    low = np.array([bounds.get(d, (0.0, 1.0))[0] for d in domains], dtype=float)
    high = np.array([bounds.get(d, (0.0, 1.0))[1] for d in domains], dtype=float)
    if np.any(low < 0) or np.any(high > 1) or low.sum() > 1 or high.sum() < 1:
        raise ScalinglabError(
            "the bounds leave no mixture: each share lies in [0, 1], the lower bounds "
            f"sum to at most 1 (got {low.sum():.4g}) and the upper to at least 1 "
            f"(got {high.sum():.4g})."
        )
    return low, high


def _weights(weights, count: int) -> np.ndarray:
    w = np.ones(count) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (count,) or np.any(w < 0) or not np.any(w > 0):
        raise ScalinglabError(
            f"weights must be {count} non-negative numbers, one per fit, not all 0."
        )
    return w


def _feasible_start(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The point of the box on the simplex halfway from the lower to the upper bounds."""
    room = (high - low).sum()
    return low if room == 0 else low + (1.0 - low.sum()) / room * (high - low)


def _losses(fits, domains, r: np.ndarray) -> np.ndarray:
    inputs = dict(zip(domains, r))
    return np.array([float(f.predict(**inputs)) for f in fits])
