"""Fitting objectives: a residual space and a per-point penalty with its derivatives.

All objectives are **summed** over points. With Huber delta = 1e-3 on log-loss
residuals the optimum sits near 1e-3; averaging would make tolerances act as if
absolute and stop optimizers early (Besiroglu et al. 2024).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import ScalinglabError

Penalty = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Objective:
    """``sum_i w_i rho(r_i)`` with ``r = log(pred) - log(L)`` (space "log") or ``pred - L`` ("linear").

    ``psi`` is rho' and ``curvature`` the weight of each point in the Gauss-Newton
    model (rho'' for smooth penalties, psi(r)/r for Huber).
    """

    name: str
    space: str
    rho: Penalty
    psi: Penalty
    curvature: Penalty
    delta: float | None = None
    # rho'' where it differs from ``curvature`` (Huber): the exact Newton weights,
    # used once enough points sit in the quadratic zone to make them well posed.
    exact_curvature: Penalty | None = None

    def describe(self) -> str:
        where = "log-loss" if self.space == "log" else "loss"
        shape = f"(delta={self.delta:g})" if self.delta is not None else ""
        return f"{self.name}{shape} on {where} residuals, summed"

    def to_dict(self) -> dict:
        return {"name": self.name, "space": self.space, "delta": self.delta}


def huber(delta: float = 1e-3, space: str = "log") -> Objective:
    """Huber penalty: 0.5 r^2 inside |r| <= delta, delta (|r| - delta/2) outside."""
    if not delta > 0:
        raise ScalinglabError(f"Huber delta must be > 0; got {delta}.")

    def rho(r):
        a = np.abs(r)
        return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))

    def psi(r):
        return np.clip(r, -delta, delta)

    def curvature(r):
        # psi(r)/r: 1 inside delta, delta/|r| outside. This is the curvature of the
        # quadratic that majorises Huber at r (IRLS), so the Gauss-Newton model
        # stays positive definite when every residual lies in the linear part.
        return np.minimum(1.0, delta / np.maximum(np.abs(r), 1e-300))

    def exact_curvature(r):
        return (np.abs(r) <= delta).astype(float)

    return Objective("huber", space, rho, psi, curvature, delta, exact_curvature)


def _squared(name: str, space: str) -> Objective:
    return Objective(
        name, space, lambda r: 0.5 * r * r, lambda r: r, lambda r: np.ones_like(r)
    )


def asymmetric(penalty: float = 4.0) -> Objective:
    """Squared log residuals, with over-predictions (r > 0) weighted ``penalty`` times.

    A planner who over-estimates loss under-invests; this fits the lower edge of
    noisy data more closely, as OLMo's ladder analysis does.
    """
    if not penalty > 0:
        raise ScalinglabError(f"asymmetric penalty must be > 0; got {penalty}.")

    def weight(r):
        return np.where(r > 0, penalty, 1.0)

    return Objective(
        "asymmetric", "log",
        lambda r: 0.5 * weight(r) * r * r,
        lambda r: weight(r) * r,
        weight,
        penalty,
    )


OBJECTIVES = {
    "huber": lambda delta=None: huber(1e-3 if delta is None else delta),
    "msle": lambda delta=None: _squared("msle", "log"),
    "mse": lambda delta=None: _squared("mse", "linear"),
    "asymmetric": lambda delta=None: asymmetric(4.0 if delta is None else delta),
}


def get_objective(name: str | Objective, delta: float | None = None) -> Objective:
    """Look up an objective by name: huber (default delta 1e-3), msle, mse, asymmetric."""
    if isinstance(name, Objective):
        return name
    if name not in OBJECTIVES:
        raise ScalinglabError(
            f"unknown objective {name!r}; choose one of {', '.join(OBJECTIVES)}."
        )
    return OBJECTIVES[name](delta)
