"""The multi-power law authors' fitting procedure (profile ``luo2025`` of ``fit_curves``).

Luo et al. (2025; code ``thu-yao-01-luo/MultiPowerLaw``, ``initialize_params`` and
``mpl_adam_fit``) fit the multi-power law in two stages, on the same objective as
the default fit (summed Huber, delta 1e-3, on log loss):

1. initialisation: a log-log regression of ``loss - min + 0.01`` on the LR area
   ``S1`` centres a 5 x 3 x 3 x 3 grid of starts for the simplified law
   ``L0 + A S1^-alpha - B (3e-4 - eta)``, each fitted by L-BFGS-B; the best one
   gives (L0, A, alpha, B), and C, beta, gamma start at 1, 0.5, 0.5;
2. AdamW as torch defines it (lr 5e-2 for L0, A, B, C and 5e-3 for alpha, beta,
   gamma; weight decay 1e-2), at most 200 steps, stopped after 20 steps without
   a lower objective; the parameters kept are those recorded at the lowest one
   (as their code records them, after the step that followed the evaluation).

The early stop leaves the fit well short of the optimum of its own objective
(2.3-10x the minimum the default fit reaches on the authors' curves) and keeps
the weakly identified loss-drop parameters (C, beta, gamma) near their start: it
acts as regularisation. Re-run on the authors' curves it gives their published
parameters (``MULTIPOWER_PUBLISHED``, within 3 % at 25M and 400M) and a lower
held-out error than the converged fit (docs/claims.md). Written here in numpy with
the law's analytic derivatives; the points' weights (aggregated curves) weight
both stages' sums.
"""

from __future__ import annotations

from itertools import product

import numpy as np

from ..laws.curves import CurveDesign, _loss_drop_terms

__all__ = ["NAMES", "adamw", "fit_luo2025", "initial_params", "objective_and_gradient"]

NAMES = ("L0", "A", "alpha", "B", "C", "beta", "gamma")
DELTA = 1e-3  # Huber delta on log loss, theirs and the default objective's
ADAM_LR = np.array([5e-2, 5e-2, 5e-3, 5e-2, 5e-2, 5e-3, 5e-3])  # in NAMES order
WEIGHT_DECAY, MAX_STEPS, PATIENCE = 1e-2, 200, 20
_PEAK_LR = 3e-4  # the simplified law's reference LR in their code
_LOSS_FLOOR = 1e-10


def _huber(r: np.ndarray) -> np.ndarray:
    a = np.abs(r)
    return np.where(a < DELTA, 0.5 * r * r, DELTA * (a - 0.5 * DELTA))


def initial_params(
    design: CurveDesign, loss: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Their ``initialize_params``: the best L-BFGS-B fit of the simplified law from
    a 135-point grid, then C, beta, gamma = 1, 0.5, 0.5 (natural values, NAMES order)."""
    from scipy.optimize import minimize
    from scipy.stats import linregress

    low = loss.min()
    slope, intercept = linregress(np.log(design.S1), np.log(loss - low + 0.01))[:2]

    log_loss, gap = np.log(loss), _PEAK_LR - design.eta
    log_s1 = np.log(design.S1)

    def simplified(p):
        """Objective and analytic gradient (their code differentiates numerically)."""
        L0, A, alpha, B = p
        with np.errstate(all="ignore"):
            power = design.S1**-alpha
            pred = L0 + A * power - B * gap
            r = log_loss - np.log(pred)
            value = np.sum(weights * _huber(r))
        if not np.isfinite(value):
            return 1e10, np.zeros(4)
        d_pred = np.array([np.ones_like(power), power, -A * power * log_s1, -gap])
        return value, -(d_pred * (weights * np.clip(r, -DELTA, DELTA) / pred)).sum(1)

    grid = product(
        np.linspace(low - 0.2, low + 0.2, 5),
        np.linspace(np.exp(intercept) - 0.1, np.exp(intercept) + 0.1, 3),
        np.linspace(-slope - 0.1, -slope + 0.1, 3),
        np.linspace(100, 1000, 3),
    )
    options = {"maxiter": 100000, "ftol": 1e-9, "gtol": 1e-6, "eps": 1e-8}
    fits = [
        minimize(
            simplified,
            p,
            jac=True,
            method="L-BFGS-B",
            bounds=[(0, None)] * 4,
            options=options,
        )
        for p in grid
    ]
    best = min(fits, key=lambda r: r.fun)
    return np.concatenate([best.x, [1.0, 0.5, 0.5]])


def objective_and_gradient(
    design: CurveDesign,
    loss: np.ndarray,
    theta: np.ndarray,
    weights: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """Summed (weighted) Huber on log loss at natural ``theta`` (NAMES order) and its
    gradient in the natural parameters."""
    w = np.ones(loss.size) if weights is None else weights
    L0, A, alpha, B, C, beta, gamma = theta
    drop, *d_drop = (t[0] for t in _loss_drop_terms(design, B, C, beta, gamma, True))
    power = design.S1**-alpha
    pred = L0 + A * power + drop
    r = np.log(loss) - np.log(np.maximum(pred, _LOSS_FLOOR))
    d_pred = np.array(
        [np.ones_like(power), power, -A * power * np.log(design.S1), *d_drop]
    )
    gradient = -(d_pred * (w * np.clip(r, -DELTA, DELTA) / pred)).sum(axis=1)
    return float(np.sum(w * _huber(r))), gradient


def adamw(
    design: CurveDesign, loss: np.ndarray, theta: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, int]:
    """Their ``mpl_adam_fit`` from natural ``theta``: the kept parameters and the
    number of AdamW steps taken."""
    first, second = np.zeros(theta.size), np.zeros(theta.size)
    best, best_theta, lowest, stale = np.inf, theta, np.inf, 0
    for step in range(MAX_STEPS):
        value, grad = objective_and_gradient(design, loss, theta, weights)
        theta = theta * (1 - ADAM_LR * WEIGHT_DECAY)
        first = 0.9 * first + 0.1 * grad
        second = 0.999 * second + 0.001 * grad**2
        scale = np.sqrt(second / (1 - 0.999 ** (step + 1))) + 1e-8
        theta = theta - ADAM_LR * first / (1 - 0.9 ** (step + 1)) / scale
        lowest, stale = (value, 0) if value < lowest else (lowest, stale + 1)
        if step > PATIENCE and stale >= PATIENCE:
            break
        if value < best:
            best, best_theta = value, theta.copy()
    return best_theta, step + 1


def fit_luo2025(
    design: CurveDesign, loss: np.ndarray, weights: np.ndarray | None = None
) -> tuple[dict[str, float], int]:
    """The whole procedure on one data set: parameters by name and AdamW steps taken.

    Deterministic (no random starts). About 0.5-1 s on the authors' three training
    curves (about 450 points), nearly all of it the 135 L-BFGS-B fits; on a machine
    whose cores are all busy, OpenBLAS threads made them 40x slower (30 s on 282
    synthetic points) until
    ``OPENBLAS_NUM_THREADS=1`` was set.
    """
    w = np.ones(loss.size) if weights is None else np.asarray(weights, float)
    theta, steps = adamw(design, loss, initial_params(design, loss, w), w)
    return dict(zip(NAMES, (float(v) for v in theta))), steps
