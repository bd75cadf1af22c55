"""Bootstrap over runs: every checkpoint of a resampled run moves with it."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .engine import Problem, Refined, refine


def run_weights(run_index: np.ndarray, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """Point weights (replicates, n): how often each point's run was drawn."""
    n_runs = int(run_index.max()) + 1
    draws = rng.integers(0, n_runs, size=(replicates, n_runs))
    counts = np.zeros((replicates, n_runs))
    np.add.at(counts, (np.arange(replicates)[:, None], draws), 1.0)
    return counts[:, run_index]


def bootstrap(
    problem: Problem,
    theta_hat: np.ndarray,
    run_index: np.ndarray,
    *,
    replicates: int,
    seed: int,
    chunk: int = 250,
    progress: Callable[[int, int], None] | None = None,
) -> Refined:
    """Refit ``replicates`` run-resampled data sets, each warm-started at the full-data optimum."""
    rng = np.random.default_rng(seed)
    weights = run_weights(run_index, replicates, rng) * problem.weights
    parts = []
    for start in range(0, replicates, chunk):
        w = weights[start : start + chunk]
        theta0 = np.repeat(theta_hat[None, :], len(w), axis=0)
        parts.append(refine(problem, theta0, weights=w))
        if progress is not None:
            progress(min(start + chunk, replicates), replicates)
    return Refined(*(np.concatenate([getattr(p, f) for p in parts]) for f in Refined.__dataclass_fields__))
