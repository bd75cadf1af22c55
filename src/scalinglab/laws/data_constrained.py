"""Muennighoff et al.'s data-constrained law: repeated tokens and excess parameters decay in value."""

from __future__ import annotations

import numpy as np

from ._grids import LOG_SCALE_GRID
from .base import Law, make_law

_EXPONENT_GRID = (0.1, 0.3, 0.6, 1.2)
_LOG_E_GRID = tuple(np.exp(np.array([-1.0, 0.0, 1.0])))
_HALF_LIFE_GRID = (2.0, 8.0, 30.0)


def log_compute_optimal_params(U, *, A, B, alpha, beta):
    """log N_opt(U): the Chinchilla-optimal parameter count for ``U`` tokens, N_opt = G * (G*U)**(beta/alpha).

    G = (alpha*A / (beta*B))**(1/(alpha+beta)); this is the authors' ``D_to_N``
    (huggingface/datablations README), i.e. the N whose compute-optimal D is U.
    Computed in log space: beta/alpha can be large at a start grid's corners.
    """
    log_G = (np.log(alpha * A) - np.log(beta * B)) / (alpha + beta)
    return log_G + beta / alpha * (log_G + np.log(U))


def effective_amount(unique, repetitions, half_life):
    """U + U * R* * (1 - exp(-R/R*)): repeated tokens (or excess parameters) decay with half-life R*."""
    return unique * (1.0 + half_life * -np.expm1(-repetitions / half_life))


def data_constrained(N, D, U, *, E, A, B, alpha, beta, R_D_star, R_N_star):
    """L = E + A/N'**alpha + B/D'**beta with effective data D' and parameters N'  (Muennighoff et al. 2023).

    D' = U_D (1 + R_D*(1 - exp(-R_D/R_D*))), R_D = D/U_D - 1, U_D = min(U, D);
    N' = U_N (1 + R_N*(1 - exp(-R_N/R_N*))), R_N = N/U_N - 1, U_N = min(N_opt(U_D), N).
    """
    unique_tokens = np.minimum(U, D)
    log_optimal = log_compute_optimal_params(unique_tokens, A=A, B=B, alpha=alpha, beta=beta)
    log_excess = np.maximum(np.log(N) - log_optimal, 0.0)
    unique_params = N * np.exp(-log_excess)  # min(N, N_opt(U_D))
    repeated_tokens = np.maximum(D / unique_tokens - 1.0, 0.0)
    excess_params = np.expm1(log_excess)  # N / U_N - 1
    effective_data = effective_amount(unique_tokens, repeated_tokens, R_D_star)
    effective_params = effective_amount(unique_params, excess_params, R_N_star)
    return E + A * effective_params**-alpha + B * effective_data**-beta


def data_constrained_law() -> Law:
    """Muennighoff et al.'s effective-data law; needs a unique-tokens column ``U``.

    ``U`` is the unique-token pool; when it exceeds ``D`` the run saw only ``D``
    unique tokens (the authors' ``U = min(U_BASE, D)``). The authors fitted the
    base surface first and the half-lives R_D*, R_N* second; here all seven are
    fitted jointly by default (fix the base by name to follow their two-step
    recipe). Central-difference derivatives are used: U_N's kink moves with A,
    B, alpha and beta.
    """
    return make_law(
        data_constrained,
        {
            "E": dict(init=1.87, lower=0.0, log=True, grid=_LOG_E_GRID),
            "A": dict(init=520.0, lower=0.0, log=True, grid=LOG_SCALE_GRID),
            "B": dict(init=1500.0, lower=0.0, log=True, grid=LOG_SCALE_GRID),
            "alpha": dict(init=0.35, lower=0.0, upper=3.0, grid=_EXPONENT_GRID),
            "beta": dict(init=0.35, lower=0.0, upper=3.0, grid=_EXPONENT_GRID),
            "R_D_star": dict(init=15.0, lower=0.0, log=True, grid=_HALF_LIFE_GRID),
            "R_N_star": dict(init=5.0, lower=0.0, log=True, grid=_HALF_LIFE_GRID),
        },
        name="data_constrained",
        formula=(
            "L = E + A/N'**alpha + B/D'**beta,  D' = U_D(1 + R_D*(1 - exp(-R_D/R_D*))),  "
            "N' = U_N(1 + R_N*(1 - exp(-R_N/R_N*))),  U_D = min(U, D),  U_N = min(N_opt(U_D), N)"
        ),
        reference="Muennighoff et al. 2023, arXiv 2305.16264 (data-constrained scaling law)",
    )
