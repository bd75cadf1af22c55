"""Synthetic runs from a known Chinchilla law, shared by the analysis tests."""

from __future__ import annotations

import numpy as np

TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def chinchilla_loss(N, D, params=TRUTH):
    return (
        params["E"]
        + params["A"] * N ** -params["alpha"]
        + params["B"] * D ** -params["beta"]
    )


def optimal_N(C, params=TRUTH):
    """Closed-form N*(C) under C = 6ND (Hoffmann et al. eq. 4)."""
    a, b = params["alpha"], params["beta"]
    G = (a * params["A"] / (b * params["B"])) ** (1 / (a + b))
    return G * (C / 6) ** (b / (a + b))


def isoflop_design(budgets, *, offset=1.0, span=30.0, points=9, fixed_grid=None):
    """N values per budget: log-spaced over ``span`` (a factor) centred on offset * N*(C),
    or the same ``fixed_grid`` of N at every budget. Returns N, D, C arrays."""
    N, C = [], []
    for c in budgets:
        if fixed_grid is None:
            centre = offset * optimal_N(c)
            sizes = np.geomspace(centre / np.sqrt(span), centre * np.sqrt(span), points)
        else:
            sizes = np.asarray(fixed_grid)
        N.append(sizes)
        C.append(np.full(sizes.size, c))
    N, C = np.concatenate(N), np.concatenate(C)
    return N, C / (6 * N), C
