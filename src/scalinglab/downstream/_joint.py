"""One run resample through several fits: the joint bootstrap of a chain of laws."""

from __future__ import annotations

import numpy as np

from ..errors import ScalinglabError
from ..fit.bootstrap import run_weights
from ..fit.engine import Problem, refine


def joint_draws(
    steps: list[tuple[Problem, dict[str, float], np.ndarray]],
    n_runs: int,
    replicates: int,
    seed: int,
    max_iter: int = 2000,
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
    for problem, params, runs in steps:
        theta = problem.law.pack(params)
        refits.append(
            refine(
                problem,
                np.repeat(theta[None], replicates, axis=0),
                weights=counts[:, runs] * problem.weights,
                max_iter=max_iter,
            )
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
