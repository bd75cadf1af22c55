"""Gadre et al.'s over-training law: loss against compute C and token multiplier M = D/N."""

from __future__ import annotations

import numpy as np

from ._grids import LOG_E_GRID, LOG_SCALE_GRID
from .base import Law, make_law

_ETA_GRID = (0.05, 0.1, 0.2, 0.4, 0.8)


def _terms(N, D, a, b, eta):
    M = D / N
    C = 6.0 * N * D
    scale = C**-eta
    return a * M**eta * scale, b * M**-eta * scale, np.log(M), np.log(C)


def overtraining(N, D, *, E, a, b, eta):
    """L(C, M) = E + (a*M**eta + b*M**-eta) * C**-eta, M = D/N, C = 6ND  (Gadre et al. 2024)."""
    model_term, data_term, _, _ = _terms(N, D, a, b, eta)
    return E + model_term + data_term


def _overtraining_log_jacobian(N, D, *, E, a, b, eta):
    model_term, data_term, log_M, log_C = _terms(N, D, a, b, eta)
    loss = E + model_term + data_term
    return {
        "E": 1.0 / loss,
        "a": model_term / a / loss,
        "b": data_term / b / loss,
        "eta": (model_term * (log_M - log_C) - data_term * (log_M + log_C)) / loss,
    }


def overtraining_law() -> Law:
    """Gadre et al.'s L(C, M), taking (N, D) as inputs so allocation can vary both.

    It is Chinchilla's law with alpha = beta = 2*eta, A = a*6**-eta and
    B = b*6**-eta; C is taken as 6ND whatever the run table's C column says,
    because the law's parameters are defined on that convention.
    """
    return make_law(
        overtraining,
        {
            "E": dict(init=1.8, lower=0.0, log=True, grid=LOG_E_GRID),
            "a": dict(init=500.0, lower=0.0, log=True, grid=LOG_SCALE_GRID),
            "b": dict(init=1500.0, lower=0.0, log=True, grid=LOG_SCALE_GRID),
            "eta": dict(init=0.17, lower=0.0, upper=1.5, grid=_ETA_GRID),
        },
        name="overtraining",
        formula="L = E + (a*M**eta + b*M**-eta) * C**-eta,  M = D/N,  C = 6*N*D",
        reference="Gadre et al. 2024, arXiv 2403.08540 (loss vs compute and token multiplier)",
        log_jacobian=_overtraining_log_jacobian,
    )
