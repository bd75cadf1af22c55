"""Kaplan et al.'s joint L(N, D) law (the "overfitting" law, no irreducible term)."""

from __future__ import annotations

import numpy as np

from .base import Law, make_law

# Kaplan's Table 2 fit has log N_c ~ 31.8 and log D_c ~ 30.5; the grid spans
# tokenizers and loss scales far from WebText2's.
_LOG_SCALE_GRID = tuple(np.exp(np.arange(15.0, 46.0, 5.0)))
_EXPONENT_GRID = (0.03, 0.06, 0.12, 0.25, 0.5, 1.0)


def _log_terms(N, D, N_c, D_c, alpha_N, alpha_D):
    model = alpha_N / alpha_D * (np.log(N_c) - np.log(N))
    data = np.log(D_c) - np.log(D)
    return model, data, np.logaddexp(model, data)


def kaplan(N, D, *, N_c, D_c, alpha_N, alpha_D):
    """L(N, D) = [(N_c/N)**(alpha_N/alpha_D) + D_c/D]**alpha_D  (Kaplan et al. 2020, eq. 1.5)."""
    _, _, total = _log_terms(N, D, N_c, D_c, alpha_N, alpha_D)
    return np.exp(alpha_D * total)


def _kaplan_log_jacobian(N, D, *, N_c, D_c, alpha_N, alpha_D):
    model, _, total = _log_terms(N, D, N_c, D_c, alpha_N, alpha_D)
    model_share = np.exp(model - total)  # (N_c/N)^(aN/aD) / [...]
    return {
        "N_c": alpha_N * model_share / N_c,
        "D_c": alpha_D * (1.0 - model_share) / D_c,
        "alpha_N": model_share * (np.log(N_c) - np.log(N)),
        "alpha_D": total - model_share * model,
    }


def kaplan_law() -> Law:
    """Kaplan's L(N, D), evaluated in log space (log-sum-exp) so extreme starts do not overflow.

    N is non-embedding parameters in Kaplan's convention. N_c and D_c are
    optimised in log space; the exponents are bounded to [1e-3, 3].
    """
    return make_law(
        kaplan,
        {
            "N_c": dict(init=6.4e13, lower=0.0, log=True, grid=_LOG_SCALE_GRID),
            "D_c": dict(init=1.8e13, lower=0.0, log=True, grid=_LOG_SCALE_GRID),
            "alpha_N": dict(init=0.076, lower=1e-3, upper=3.0, grid=_EXPONENT_GRID),
            "alpha_D": dict(init=0.103, lower=1e-3, upper=3.0, grid=_EXPONENT_GRID),
        },
        name="kaplan",
        formula="L = ((N_c/N)**(alpha_N/alpha_D) + D_c/D)**alpha_D",
        reference="Kaplan et al. 2020, arXiv 2001.08361, eq. 1.5 / 4.1",
        log_jacobian=_kaplan_log_jacobian,
    )
