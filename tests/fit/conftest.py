"""Synthetic Chinchilla data with known truth, shared by the fit tests."""

from __future__ import annotations

import numpy as np
import pytest

TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def chinchilla_data(noise: float = 0.0, seed: int = 0, sizes: int = 8, ratios: int = 6) -> dict:
    """A non-collinear (N, D) design: `sizes` model sizes x `ratios` tokens-per-parameter values."""
    N = np.repeat(np.geomspace(1e7, 3e9, sizes), ratios)
    D = N * np.tile(np.geomspace(2, 200, ratios), sizes)
    L = TRUTH["E"] + TRUTH["A"] * N ** -TRUTH["alpha"] + TRUTH["B"] * D ** -TRUTH["beta"]
    L = L * np.exp(noise * np.random.default_rng(seed).standard_normal(L.size))
    return {"N": N, "D": D, "loss": L}


@pytest.fixture
def exact_runs() -> dict:
    return chinchilla_data()


@pytest.fixture
def noisy_runs() -> dict:
    return chinchilla_data(noise=0.01, seed=1)
