"""Chinchilla's parametric loss (Hoffmann et al. 2022, approach 3)."""

from __future__ import annotations

import numpy as np

from ._grids import EXPONENT_GRID, LOG_E_GRID, LOG_SCALE_GRID
from .base import Law, make_law


def chinchilla(N, D, *, E, A, B, alpha, beta):
    """L(N, D) = E + A / N**alpha + B / D**beta  (Hoffmann et al. 2022, eq. 2)."""
    return E + A * N**-alpha + B * D**-beta


def _chinchilla_log_jacobian(N, D, *, E, A, B, alpha, beta):
    model_term = A * N**-alpha
    data_term = B * D**-beta
    loss = E + model_term + data_term
    return {
        "E": 1.0 / loss,
        "A": N**-alpha / loss,
        "B": D**-beta / loss,
        "alpha": -model_term * np.log(N) / loss,
        "beta": -data_term * np.log(D) / loss,
    }


def chinchilla_optimal_N(C, *, E, A, B, alpha, beta):
    """N*(C) = G (C/6)^(beta/(alpha+beta)), G = (alpha A / (beta B))^(1/(alpha+beta)) (Hoffmann eq. 4)."""
    G = (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))
    return G * (C / 6.0) ** (beta / (alpha + beta))


def chinchilla_law() -> Law:
    """The Chinchilla law with log-space scale parameters (the LSE form) and the replication's grid.

    Exponents are bounded to [0, 3] (the grid spans [0, 2]); E, A, B are positive.
    """
    return make_law(
        chinchilla,
        {
            "E": dict(init=1.8, lower=0.0, log=True, grid=LOG_E_GRID),
            "A": dict(init=400.0, lower=0.0, log=True, grid=LOG_SCALE_GRID),
            "B": dict(init=400.0, lower=0.0, log=True, grid=LOG_SCALE_GRID),
            "alpha": dict(init=0.34, lower=0.0, upper=3.0, grid=EXPONENT_GRID),
            "beta": dict(init=0.28, lower=0.0, upper=3.0, grid=EXPONENT_GRID),
        },
        name="chinchilla",
        formula="L = E + A*N**-alpha + B*D**-beta",
        reference="Hoffmann et al. 2022, arXiv 2203.15556, eq. 2",
        log_jacobian=_chinchilla_log_jacobian,
        optimum=chinchilla_optimal_N,
    )
