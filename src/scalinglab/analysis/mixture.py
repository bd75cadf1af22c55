"""The best data mixture under fitted mixing laws or RegMix fits, within bounds.

Each fit is a ``mixing`` law of one target domain's loss in the domain
proportions ``r`` (:func:`~scalinglab.laws.mixing.mixing_law`) or a RegMix
regression (:mod:`~scalinglab.analysis.regmix`). The objective is the weighted
sum of the fitted losses; for mixing laws

.. math::

    \\min_r \\sum_i w_i \\left(c_i + k_i \\exp(t_i \\cdot r)\\right)
    \\quad \\text{s.t.} \\quad \\sum_j r_j = 1, \\; l_j \\le r_j \\le u_j ,

a sum of exponentials of linear functions, so convex: SLSQP from the centre of
the feasible box finds the optimum. For one target domain the optimum sits on
the boundary (the exponent is linear), which is why bounds matter. A linear
RegMix fit is smooth too (its optimum is a vertex of the bounded simplex). A
LightGBM RegMix fit is piecewise constant, so, as in the paper, candidate
mixtures are drawn uniformly from the simplex within the bounds (seeded) and
the mixtures with the lowest predicted loss are averaged (RegMix's top-k).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ScalinglabError
from ..fit.result import FitResult
from .regmix import RegMixFit, read_regmix

__all__ = ["MixtureOptimum", "load_mixture_fit", "optimize_mixture"]

# RegMix's search: candidates drawn, and how many of the best are averaged.
SEARCH_CANDIDATES = 100_000
SEARCH_TOP = 100


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
    fits: Sequence[FitResult | RegMixFit],
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    weights: Sequence[float] | None = None,
    seed: int = 0,
) -> MixtureOptimum:
    """Proportions minimising ``sum_i weights[i] * fits[i]`` on the simplex within ``bounds``.

    ``seed`` seeds the candidate draw used when a fit is not smooth (LightGBM).

    Raises
    ------
    ScalinglabError
        No fit, fits that are not mixing laws or RegMix fits of the same domains,
        bounds naming other domains or leaving no feasible mixture, weights of
        the wrong length.
    """
    domains = _domains(fits)
    low, high = _bounds(domains, bounds or {})
    w = _weights(weights, len(fits))
    if all(getattr(f, "smooth", True) for f in fits):
        r, converged = _descend(fits, domains, w, low, high)
    else:
        r, converged = _search(fits, domains, w, low, high, seed), True
    losses = _losses(fits, domains, r)
    return MixtureOptimum(
        proportions=dict(zip(domains, r.tolist())),
        loss=float(losses @ w),
        losses=tuple(losses.tolist()),
        bounds={d: (float(a), float(b)) for d, a, b in zip(domains, low, high)},
        converged=converged,
    )


def load_mixture_fit(path) -> FitResult | RegMixFit:
    """A saved mixing-law fit (``scalinglab fit -o``) or RegMix fit (``mix fit -o``)."""
    from ..fit import load_fit

    return read_regmix(path) if _kind(path) == "regmix" else load_fit(path)


def _kind(path) -> str | None:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None  # load_fit names the unreadable file
    return data.get("kind") if isinstance(data, dict) else None


def _descend(fits, domains, w, low, high) -> tuple[np.ndarray, bool]:
    from scipy.optimize import minimize

    found = minimize(
        lambda r: float(_losses(fits, domains, r) @ w),
        _feasible_start(low, high),
        method="SLSQP",
        bounds=list(zip(low, high)),
        constraints=[{"type": "eq", "fun": lambda r: np.sum(r) - 1.0}],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    return np.clip(found.x, low, high), bool(found.success)


def _search(fits, domains, w, low, high, seed: int) -> np.ndarray:
    """RegMix's simulation: the mean of the best of many candidate mixtures within bounds."""
    rng = np.random.default_rng(seed)
    room = high - low
    # Uniform on the simplex, scaled into the room left above the lower bounds.
    draws = low + (1.0 - low.sum()) * rng.dirichlet(
        np.ones(len(domains)), SEARCH_CANDIDATES
    )
    inside = draws[np.all(draws <= high + 1e-12, axis=1)]
    if len(inside) < SEARCH_TOP:
        raise ScalinglabError(
            f"only {len(inside)} of {SEARCH_CANDIDATES} candidate mixtures lie within "
            f"the bounds (room {room.round(3).tolist()}); loosen the upper bounds."
        )
    columns = dict(zip(domains, inside.T))
    predicted = sum(wi * np.asarray(f.predict(**columns)) for wi, f in zip(w, fits))
    return inside[np.argsort(predicted)[:SEARCH_TOP]].mean(axis=0)


def _domains(fits: Sequence[FitResult | RegMixFit]) -> tuple[str, ...]:
    if not fits:
        raise ScalinglabError("give at least one fitted mixing law (--fit FILE).")
    domains = _mixture_domains(fits[0])
    for f in fits:
        if not domains or _mixture_domains(f) != domains:
            name = "regmix" if isinstance(f, RegMixFit) else f.law.name
            raise ScalinglabError(
                f"every fit must be a mixing law or RegMix fit of the same domains; "
                f"{name} takes {', '.join(_inputs(f))}. Fit each target domain with "
                "--law mixing --domains A,B,C (or scalinglab mix fit)."
            )
    return domains


def _mixture_domains(fit) -> tuple[str, ...]:
    """The domains of a mixture fit; () for a fit of another law."""
    if isinstance(fit, RegMixFit):
        return fit.domains
    return tuple(fit.law.inputs) if fit.law.name.startswith("mixing") else ()


def _inputs(fit) -> tuple[str, ...]:
    return fit.domains if isinstance(fit, RegMixFit) else tuple(fit.law.inputs)


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
