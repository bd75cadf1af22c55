"""Sparsified pre-training (Jin et al. 2025, "The Journey Matters"): the average
parameter count over training replaces N in the Chinchilla law, so pruning schedules
and dense runs share one law.

The reference (reference/formulas.md 12.6) marks this UNVERIFIED and gives no
coefficients, so there is no preset.
"""

from __future__ import annotations

import numpy as np

from ..errors import ScalinglabError
from ._grids import EXPONENT_GRID, LOG_E_GRID, LOG_SCALE_GRID
from .base import Law, make_law


def average_param_count(step, params) -> float:
    """N_bar = (1/T) * integral of N(t) dt over a run's schedule (trapezoid rule).

    Parameters
    ----------
    step : increasing training steps (or tokens), from the start to the end of the run.
    params : the (non-zero) parameter count at each step.

    Raises
    ------
    ScalinglabError
        Fewer than two points, steps that do not increase, or counts that are not > 0.

    Examples
    --------
    >>> average_param_count([0, 50, 100], [1e9, 1e9, 5e8])  # pruned to half
    875000000.0
    """
    t, n = np.asarray(step, dtype=float), np.asarray(params, dtype=float)
    if t.ndim != 1 or t.shape != n.shape or t.size < 2:
        raise ScalinglabError(
            f"need matching 1-D step and parameter arrays of at least 2 points; got "
            f"shapes {t.shape} and {n.shape}."
        )
    if np.any(np.diff(t) <= 0) or not np.all(n > 0):
        raise ScalinglabError(
            "steps must strictly increase and parameter counts be > 0; "
            f"got steps {t.tolist()} and counts {n.tolist()}."
        )
    return float(np.sum(np.diff(t) * (n[1:] + n[:-1]) / 2.0) / (t[-1] - t[0]))


def jin2025(N_bar, D, *, E, A, alpha, B, beta):
    """L = E + A/N_bar**alpha + B/D**beta, N_bar the mean parameter count in training."""
    return E + A * N_bar**-alpha + B * D**-beta


def jin2025_law() -> Law:
    """Chinchilla in the average parameter count ``N_bar`` (e.g. from
    :func:`average_param_count`) and tokens ``D``.

    Map the column with ``--input N_bar=COLUMN``; a dense run's ``N_bar`` is its
    ``N``. Compute-optimal allocation is refused: a sparsification schedule, not
    ``N_bar`` alone, sets the FLOPs.
    """
    return make_law(
        jin2025,
        {
            "E": dict(init=1.8, lower=0.0, log=True, grid=LOG_E_GRID),
            "A": dict(init=400.0, lower=0.0, log=True, grid=LOG_SCALE_GRID),
            "alpha": dict(init=0.34, lower=0.0, upper=3.0, grid=EXPONENT_GRID),
            "B": dict(init=400.0, lower=0.0, log=True, grid=LOG_SCALE_GRID),
            "beta": dict(init=0.28, lower=0.0, upper=3.0, grid=EXPONENT_GRID),
        },
        name="jin2025",
        formula="L = E + A*N_bar**-alpha + B*D**-beta,  N_bar = mean parameter count "
        "over training",
        reference="Jin et al. 2025, 'The Journey Matters: Average Parameter Count over "
        "Pre-training Unifies Sparse and Dense Scaling Laws'; form from "
        "reference/formulas.md 12.6 (UNVERIFIED there)",
    )
