"""One fitting engine for every law: batched multi-start screening + damped Gauss-Newton.

The objective is ``sum_i w_i rho(r_i(theta))``. Everything is vectorised over a
batch of S parameter vectors, so screening a 4,500-point start grid, refining
the best starts, and refitting 1,000 bootstrap replicates are each a handful of
numpy calls per iteration rather than thousands of optimizer runs.

The refinement is Levenberg-Marquardt on the generalised Gauss-Newton model
``H = J^T diag(w rho'') J`` (exact for the Huber penalty up to second-order
terms in r), with projected steps for bounds. Its stopping rule is on the step
in parameter space and on the *relative* decrease of the objective, so it does
not stop early when the objective itself is tiny (about 1e-3 for the log-Huber).
A member that stops is *converged* only at a stationary point: its scaled
projected gradient (:func:`decrement`, the fraction of the objective one more
Gauss-Newton step would remove, with the law's Jacobian used only where it
matches central differences) must be at most ``GTOL``. Anything else is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..laws.base import Inputs, Law
from .objectives import Objective

_FD_STEP = 1e-6
_ROUNDOFF = 1e-26  # objective per unit weight at which residuals are ~1e-13
# Converged: one more Gauss-Newton step would remove at most this fraction of the
# objective. Tight optima reach 1e-15; a 1.5x error in the Jacobian's rows stalls above 1e-6.
GTOL = 1e-10
# The analytic Jacobian is trusted for the convergence test when it matches central
# differences (accurate to ~1e-8 of a column's size) to this on the sampled members.
_JACOBIAN_CHECKS = 16
_JACOBIAN_RTOL = 1e-5


@dataclass(frozen=True)
class Problem:
    """What the engine needs: the law, its inputs, targets, objective and point weights."""

    law: Law
    inputs: Inputs
    target: np.ndarray  # observed loss, shape (n,)
    objective: Objective
    weights: np.ndarray  # shape (n,)

    @property
    def observed(self) -> np.ndarray:
        return np.log(self.target) if self.objective.space == "log" else self.target


@dataclass(frozen=True)
class Refined:
    """Batched refinement outcome: fit-space vectors, objectives and convergence per member."""

    theta: np.ndarray  # (S, P)
    objective: np.ndarray  # (S,)
    converged: np.ndarray  # (S,) bool
    iterations: np.ndarray  # (S,)
    gradient: np.ndarray  # (S,) scaled projected gradient at theta (see decrement)


def predictions(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """Model predictions (S, n) in the objective's residual space."""
    values = problem.law.unpack(theta)
    with np.errstate(all="ignore"):
        pred = np.asarray(problem.law.evaluate(problem.inputs, values), dtype=float)
        pred = np.broadcast_to(pred, (theta.shape[0], problem.target.size))
        return np.log(pred) if problem.objective.space == "log" else pred


def objective_values(
    problem: Problem, theta: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Objective for each row of theta (S,); non-finite predictions give +inf."""
    r = predictions(problem, theta) - problem.observed
    w = problem.weights if weights is None else weights
    with np.errstate(all="ignore"):
        total = np.sum(w * problem.objective.rho(r), axis=-1)
    return np.where(np.isfinite(total), total, np.inf)


def screen(problem: Problem, starts: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Objective at every start (S,), evaluated in chunks to bound memory."""
    return (
        np.concatenate(
            [
                objective_values(problem, starts[i : i + chunk])
                for i in range(0, len(starts), chunk)
            ]
        )
        if len(starts)
        else np.empty(0)
    )


def _analytic_jacobian(problem: Problem, theta: np.ndarray) -> np.ndarray | None:
    law = problem.law
    if law.log_jacobian is None:
        return None
    values = law.unpack(theta)
    args = [np.asarray(problem.inputs[n], dtype=float) for n in law.inputs]
    with np.errstate(all="ignore"):
        by_name = law.log_jacobian(*args, **values)
        columns = []
        for p in law.free_params:
            d = np.broadcast_to(by_name[p.name], (theta.shape[0], problem.target.size))
            columns.append(d * values[p.name] if p.log else d)
        jac = np.stack(columns, axis=-1)
        if problem.objective.space == "linear":
            # d pred = pred * d log(pred); predictions() is pred itself in this space.
            jac = jac * predictions(problem, theta)[..., None]
    return jac


def jacobian(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """d residual / d theta, shape (S, n, P): analytic when the law provides it, else central differences."""
    jac = _analytic_jacobian(problem, theta)
    return _numeric_jacobian(problem, theta) if jac is None else jac


def _numeric_jacobian(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """Central differences of the predictions, shape (S, n, P); needs nothing from the law."""
    S, P = theta.shape
    step = _FD_STEP * np.maximum(1.0, np.abs(theta))
    shifted = np.repeat(theta[:, None, :], 2 * P, axis=1)
    idx = np.arange(P)
    shifted[:, idx, idx] += step
    shifted[:, P + idx, idx] -= step
    pred = predictions(problem, shifted.reshape(-1, P)).reshape(
        S, 2 * P, problem.target.size
    )
    return np.moveaxis((pred[:, :P] - pred[:, P:]) / (2 * step[..., None]), 1, 2)


def _checked_jacobian(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """The analytic Jacobian if it matches central differences on up to
    ``_JACOBIAN_CHECKS`` members (evenly spaced), else central differences for all.

    Checking a sample keeps the cost of a 1,000-replicate bootstrap's final test
    near that of one analytic evaluation; a Jacobian that is wrong (as the old
    linear-space one was, by a factor per point) disagrees on every member.
    """
    analytic = _analytic_jacobian(problem, theta)
    if analytic is None or len(theta) == 0:
        return _numeric_jacobian(problem, theta)
    sample = np.unique(np.linspace(0, len(theta) - 1, _JACOBIAN_CHECKS).astype(int))
    numeric = _numeric_jacobian(problem, theta[sample])
    with np.errstate(all="ignore"):
        size = np.max(np.abs(numeric), axis=1, keepdims=True)  # per member and column
        error = np.abs(analytic[sample] - numeric) / np.maximum(size, 1e-300)
    agrees = np.all(error <= _JACOBIAN_RTOL)  # False when anything is NaN
    return analytic if agrees else _numeric_jacobian(problem, theta)


def decrement(problem: Problem, theta: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Scaled projected gradient (S,): the relative objective decrease still on offer.

    ``g^T H^+ g / (2 f)`` on the coordinates not held by a bound, with ``g`` the
    gradient and ``H`` the Gauss-Newton model (majorising curvature, so positive
    semi-definite): the fraction of the objective one more full Gauss-Newton step
    would remove. It is invariant to the parameters' units and to the objective's
    scale. The law's analytic Jacobian is used only where it agrees with central
    differences (:func:`_checked_jacobian`), so a wrong Jacobian cannot certify its
    own optimum. Near-null directions of ``H`` (unidentified combinations) are left
    out. Objectives at round-off level (exact data) give 0.
    """
    low, high = problem.law.fit_bounds()
    r = predictions(problem, theta) - problem.observed
    J = _checked_jacobian(problem, theta)
    g, H = _model(problem.objective.psi(r), problem.objective.curvature(r), weights, J)
    g = np.where(_held(theta, g, low, high), 0.0, g)
    f = objective_values(problem, theta, weights)
    with np.errstate(all="ignore"):
        scale = np.sqrt(np.maximum(np.diagonal(H, axis1=1, axis2=2), 1e-300))
        unit = np.nan_to_num(H / scale[:, :, None] / scale[:, None, :])  # unit diagonal
        z = g / scale
        inverse = np.linalg.pinv(unit, rcond=1e-10, hermitian=True)
        value = np.einsum("sp,spq,sq->s", z, inverse, z) / (2.0 * f)
    at_roundoff = f <= _ROUNDOFF * weights.sum(axis=1)
    return np.where(at_roundoff, 0.0, np.where(np.isfinite(value), value, np.inf))


def _model(psi: np.ndarray, curvature: np.ndarray, w: np.ndarray, J: np.ndarray):
    """Gradient g (S, P) and Gauss-Newton matrix H (S, P, P) of ``sum w rho(r)``."""
    with np.errstate(all="ignore"):
        g = np.einsum("sn,snp->sp", w * psi, J)
        H = np.einsum("sn,snp,snq->spq", w * curvature, J, J)
    return g, H


def _held(
    theta: np.ndarray, g: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """Coordinates at a bound whose descent direction points out of the box."""
    return ((theta <= low) & (g > 0)) | ((theta >= high) & (g < 0))


def _curvature(objective, r: np.ndarray, w: np.ndarray, n_free: int) -> np.ndarray:
    """Gauss-Newton point weights: exact rho'' (fast, quadratic convergence) for members with at
    least as many weighted points in the quadratic zone as free parameters (the exact model
    is then generically nonsingular), the IRLS majoriser otherwise.

    The IRLS majoriser converges only linearly; at a Huber optimum with exactly as many
    quadratic-zone points as parameters it crawled for 500 iterations (about 1 bootstrap
    replicate in 200 on the laws' examples), so that case takes the exact weights.
    """
    safe = objective.curvature(r)
    if objective.exact_curvature is None:
        return safe
    exact = objective.exact_curvature(r)
    enough = (exact * (w > 0)).sum(axis=1) >= n_free
    return np.where(enough[:, None], exact + 1e-6 * safe, safe)


def _lm_step(H, g, mu, free):
    """Solve (H + mu diag) step = -g on the free coordinates; bound-held ones get no step."""
    P = g.shape[-1]
    scale = np.maximum(
        np.diagonal(H, axis1=1, axis2=2),
        1e-12 * np.max(np.abs(H), axis=(1, 2))[:, None] + 1e-300,
    )
    damped = H + (mu[:, None] * scale)[:, :, None] * np.eye(P)
    mask = free[:, :, None] & free[:, None, :]
    damped = np.where(mask, damped, np.eye(P))
    rhs = np.where(free, -g, 0.0)
    return np.linalg.solve(damped, rhs[..., None])[..., 0]


def refine(
    problem: Problem,
    theta0: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    max_iter: int = 500,
    xtol: float = 1e-10,
    ftol: float = 1e-14,
    gtol: float = GTOL,
) -> Refined:
    """Refine each row of ``theta0`` (S, P); ``weights`` may be (n,) or per-member (S, n).

    Iterations stop on a small step with a small relative gain, or when the damping
    can grow no further. A member is *converged* only if, in addition, its scaled
    projected gradient (:func:`decrement`, with a Jacobian checked against central
    differences) is at most ``gtol``: a stop away from a stationary point (a wrong
    Jacobian, a stall) is reported as not converged, and so is a member still
    moving after ``max_iter`` iterations.
    """
    low, high = problem.law.fit_bounds()
    theta = np.clip(np.array(theta0, dtype=float), low, high)
    S = theta.shape[0]
    w = np.broadcast_to(
        problem.weights if weights is None else weights, (S, problem.target.size)
    )
    f = objective_values(problem, theta, w)
    mu = np.full(S, 1e-3)
    active = np.isfinite(f)
    stopped = np.zeros(S, bool)
    iterations = np.zeros(S, int)
    for _ in range(max_iter):
        if not active.any():
            break
        a = np.flatnonzero(active)
        th, wa = theta[a], w[a]
        r = predictions(problem, th) - problem.observed
        J = jacobian(problem, th)
        with np.errstate(all="ignore"):
            curvature = _curvature(problem.objective, r, wa, th.shape[1])
        g, H = _model(problem.objective.psi(r), curvature, wa, J)
        free = ~_held(th, g, low, high)
        zero_gradient = ~np.any(free & (g != 0.0), axis=1)
        step = _lm_step(np.nan_to_num(H), np.nan_to_num(g), mu[a], free)
        candidate = np.clip(th + step, low, high)
        f_new = objective_values(problem, candidate, wa)
        accept = f_new <= f[a]
        small_step = np.max(np.abs(candidate - th) / (1.0 + np.abs(th)), axis=1) <= xtol
        # Relative decrease, or residuals at round-off level (exact data: f -> 0).
        small_gain = ((f[a] - f_new) <= ftol * np.maximum(f[a], 1e-300)) | (
            f_new <= _ROUNDOFF * wa.sum(axis=1)
        )
        theta[a[accept]] = candidate[accept]
        f[a[accept]] = f_new[accept]
        mu[a] = np.where(accept, np.maximum(mu[a] * 0.3, 1e-12), mu[a] * 10.0)
        iterations[a] += 1
        done = (accept & small_step & small_gain) | (accept & zero_gradient)
        stuck = mu[a] > 1e12
        stopped[a] = done | (stuck & small_step)
        active[a] = ~(done | stuck)
    gradient = decrement(problem, theta, w)
    return Refined(theta, f, stopped & (gradient <= gtol), iterations, gradient)
