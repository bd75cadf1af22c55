"""One run resample through several fits: the joint bootstrap of a chain of laws."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ScalinglabError
from ..fit.bootstrap import offset_progress, run_weights
from ..fit.engine import Problem, Refined, refine


def joint_draws(
    steps: list[tuple[Problem, dict[str, float], np.ndarray]],
    n_runs: int,
    replicates: int,
    seed: int,
    max_iter: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Refit every step on the same run resamples, each warm-started at its estimate.

    Parameters
    ----------
    steps : (problem, fitted parameters, run index of each of the problem's points).
    n_runs : runs shared by the steps (run indices are 0..n_runs-1).
    replicates, seed : the run bootstrap (:func:`~scalinglab.fit.bootstrap.run_weights`).
    max_iter : refinement iterations per replicate; weakly identified laws (an
        exponent or E drifting towards a bound on some resamples) need more than the
        engine's default 500.
    progress : called as ``progress(done, total)`` with replicates refitted over all
        steps (``total = len(steps) * replicates``).

    Returns
    -------
    draws : list of arrays
        Per step, the parameter draws (kept replicates, params) in ``law.param_names``
        order; a replicate is kept only when every step converged on it, so row ``r``
        of every array comes from the same resample.
    kept : array of int
        The index of each kept replicate among the ``replicates`` resamples.
    """
    counts = run_weights(np.arange(n_runs), replicates, np.random.default_rng(seed))
    refits = []
    for i, (problem, params, runs) in enumerate(steps):
        part = offset_progress(progress, i * replicates, len(steps) * replicates)
        weights = counts[:, runs] * problem.weights
        refits.append(
            _refine_chunks(problem, problem.law.pack(params), weights, max_iter, part)
        )
    ok = np.logical_and.reduce([r.converged for r in refits])
    if ok.sum() < max(10, replicates // 2):
        raise ScalinglabError(
            f"only {int(ok.sum())} of {replicates} joint bootstrap replicates converged; "
            "the steps are too weakly identified for intervals (more runs, or fewer free "
            "parameters: --chance fixes the sigmoid's floor)."
        )
    draws = []
    for (problem, _, _), refit in zip(steps, refits):
        values = problem.law.unpack(refit.theta[ok])
        draws.append(
            np.column_stack([values[n][:, 0] for n in problem.law.param_names])
        )
    return draws, np.flatnonzero(ok)


def _refine_chunks(problem, theta, weights, max_iter, progress, chunk=250) -> Refined:
    """:func:`refine` of every replicate (row of ``weights``) from ``theta``, in chunks.

    Members are refined independently, so chunks change nothing but let
    ``progress(done, replicates)`` move.
    """
    parts = []
    for start in range(0, len(weights), chunk):
        w = weights[start : start + chunk]
        theta0 = np.repeat(theta[None], len(w), axis=0)
        parts.append(refine(problem, theta0, weights=w, max_iter=max_iter))
        if progress is not None:
            progress(start + len(w), len(weights))
    fields = Refined.__dataclass_fields__
    return Refined(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))
