"""Parallel scaling (ParScale; Chen et al. 2025): P parallel streams act like O(log P) times the parameters."""

from __future__ import annotations

import numpy as np

from .base import Law, make_law

# The authors' init grid (QwenLM/ParScale parametric_fit.py), with A in raw parameter
# units (their A is in units of 1e9 parameters): log A in {-4, -2, 0, 2, 4} + log 1e9.
_E_GRID = tuple(np.exp([-1.0, -0.5, 0.0]))
_A_GRID = tuple(np.exp(np.array([-4.0, -2.0, 0.0, 2.0, 4.0])) * 1e9)
_ALPHA_GRID = (0.1, 0.5, 1.0, 1.5, 2.0)
_K_GRID = (0.2, 0.4, 0.6, 0.8)


def parscale(N, P, *, E, A, alpha, k):
    """L(N, P) = E + (A / (N (1 + k ln P)))**alpha  (Chen et al. 2025, ParScale)."""
    return E + (A / (N * (1.0 + k * np.log(P)))) ** alpha


def _parscale_log_jacobian(N, P, *, E, A, alpha, k):
    effective = N * (1.0 + k * np.log(P))
    term = (A / effective) ** alpha
    loss = E + term
    return {
        "E": 1.0 / loss,
        "A": alpha * term / A / loss,
        "alpha": term * np.log(A / effective) / loss,
        "k": -alpha * term * np.log(P) / (1.0 + k * np.log(P)) / loss,
    }


def parscale_law() -> Law:
    """ParScale's law of non-embedding parameters ``N`` and parallel streams ``P`` (P >= 1).

    The equivalent dense size of P streams is ``N (1 + k ln P)``. Map the streams
    column with ``--input P=COLUMN``. Fitted as the authors did: summed Huber
    (delta 1e-3) on log loss from their init grid.
    """
    return make_law(
        parscale,
        {
            "E": dict(init=1.0, lower=0.0, log=True, grid=_E_GRID),
            "A": dict(init=1e9, lower=0.0, log=True, grid=_A_GRID),
            "alpha": dict(init=0.2, lower=0.0, upper=3.0, grid=_ALPHA_GRID),
            "k": dict(init=0.4, lower=0.0, upper=10.0, grid=_K_GRID),
        },
        name="parscale",
        formula="L = E + (A / (N * (1 + k*log(P))))**alpha",
        reference="Chen et al. 2025, arXiv 2505.10475 (ParScale), QwenLM/ParScale parametric_fit.py",
        log_jacobian=_parscale_log_jacobian,
    )
