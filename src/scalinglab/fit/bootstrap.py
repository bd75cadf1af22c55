"""Bootstrap over runs: every checkpoint of a resampled run moves with it."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .engine import Problem, Refined, refine


def run_weights(
    run_index: np.ndarray,
    replicates: int,
    rng: np.random.Generator,
    strata: np.ndarray | None = None,
) -> np.ndarray:
    """Point weights (replicates, n): how often each point's run was drawn.

    With ``strata`` (one group id per run), runs are drawn with replacement within
    their group, so every group keeps its number of runs (e.g. the blocks of each
    loss curve); without it, from all runs.
    """
    n_runs = int(run_index.max()) + 1
    groups = np.zeros(n_runs, int) if strata is None else np.asarray(strata)
    counts = np.zeros((replicates, n_runs))
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        draws = members[rng.integers(0, members.size, size=(replicates, members.size))]
        np.add.at(counts, (np.arange(replicates)[:, None], draws), 1.0)
    return counts[:, run_index]


def offset_progress(
    progress: Callable[[int, int], None] | None, start: int, total: int
) -> Callable[[int, int], None] | None:
    """One stage's ``progress(done, stage_total)`` reported as ``(start + done, total)``.

    For work made of several bootstraps (folds, laws, groups): the caller's callback
    then sees one monotone count over all of them.
    """
    if progress is None:
        return None
    return lambda done, _stage_total: progress(start + done, total)


def bootstrap(
    problem: Problem,
    theta_hat: np.ndarray,
    run_index: np.ndarray,
    *,
    replicates: int,
    seed: int,
    chunk: int = 250,
    progress: Callable[[int, int], None] | None = None,
    strata: np.ndarray | None = None,
    **refine_options: float,
) -> Refined:
    """Refit ``replicates`` run-resampled data sets, each warm-started at the full-data optimum.

    ``strata`` resample runs within groups (:func:`run_weights`); ``refine_options``
    (``max_iter``, ``xtol``, ...) go to :func:`~scalinglab.fit.engine.refine`.
    """
    rng = np.random.default_rng(seed)
    weights = run_weights(run_index, replicates, rng, strata) * problem.weights
    parts = []
    for start in range(0, replicates, chunk):
        w = weights[start : start + chunk]
        theta0 = np.repeat(theta_hat[None, :], len(w), axis=0)
        parts.append(refine(problem, theta0, weights=w, **refine_options))
        if progress is not None:
            progress(min(start + chunk, replicates), replicates)
    return Refined(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in Refined.__dataclass_fields__
        )
    )
