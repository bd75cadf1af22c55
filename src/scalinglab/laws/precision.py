"""Precision (Kumar et al. 2024): effective parameters under k-bit training, and the
loss added by quantising a trained model (post-training quantisation, PTQ).

The reference (reference/formulas.md 12.11) gives the forms but no coefficients it
could verify, so these laws have no preset.
"""

from __future__ import annotations

import numpy as np

from ._grids import LOG_E_GRID, LOG_SCALE_GRID
from .base import Law, make_law

_EXPONENT_GRID = (0.1, 0.35, 0.8)
_GAMMA_GRID = (1.0, 3.0, 8.0)
_SCALE_GRID = tuple(np.exp([0.0, 6.0, 12.0]))
_E_GRID = tuple(np.exp([-0.5, 0.5]))


def effective_params(N, P, gamma):
    """N_eff = N (1 - exp(-P/gamma)): parameters trained at P bits count as fewer."""
    return N * -np.expm1(-P / gamma)


def kumar2024(N, D, P, *, E, A, alpha, B, beta, gamma):
    """L = E + A N_eff**-alpha + B D**-beta, N_eff = N (1 - exp(-P/gamma))."""
    return E + A * effective_params(N, P, gamma) ** -alpha + B * D**-beta


def kumar2024_ptq(
    N, D, P_post, *, E, A, alpha, B, beta, C_T, gamma_D, gamma_N, gamma_post
):
    """L = E + A/N**alpha + B/D**beta + C_T D**gamma_D N**-gamma_N exp(-P_post/gamma_post)."""
    degradation = C_T * D**gamma_D * N**-gamma_N * np.exp(-P_post / gamma_post)
    return E + A * N**-alpha + B * D**-beta + degradation


def _kumar2024_ptq_log_jacobian(
    N, D, P_post, *, E, A, alpha, B, beta, C_T, gamma_D, gamma_N, gamma_post
):
    shape = D**gamma_D * N**-gamma_N * np.exp(-P_post / gamma_post)
    degradation = C_T * shape
    model, data = N**-alpha, D**-beta
    loss = E + A * model + B * data + degradation
    return {
        "E": 1.0 / loss,
        "A": model / loss,
        "alpha": -A * model * np.log(N) / loss,
        "B": data / loss,
        "beta": -B * data * np.log(D) / loss,
        "C_T": shape / loss,
        "gamma_D": degradation * np.log(D) / loss,
        "gamma_N": -degradation * np.log(N) / loss,
        "gamma_post": degradation * P_post / gamma_post**2 / loss,
    }


_BASE = {
    "E": dict(init=1.8, lower=0.0, log=True, grid=LOG_E_GRID),
    "A": dict(init=400.0, lower=0.0, log=True, grid=LOG_SCALE_GRID),
    "alpha": dict(init=0.34, lower=0.0, upper=3.0, grid=_EXPONENT_GRID),
    "B": dict(init=400.0, lower=0.0, log=True, grid=LOG_SCALE_GRID),
    "beta": dict(init=0.28, lower=0.0, upper=3.0, grid=_EXPONENT_GRID),
}
_REFERENCE = (
    "Kumar et al. 2024, arXiv 2411.04330 (Scaling Laws for Precision); form as "
    "recalled in reference/formulas.md 12.11, not checked against the paper"
)


def kumar2024_law() -> Law:
    """Chinchilla with effective parameters: ``N`` trained at ``P`` bits.

    ``P`` is the training bit-width of the weights with activations and KV cache
    kept at high precision (the paper's ``P_w``); map it with ``--input P=bits``.
    The paper multiplies one such factor per tensor type (weights, activations,
    KV cache, each with its own gamma); with separate columns, write that product
    as a formula with ``--input``. Compute is counted as 6 N D whatever P is.
    """
    return make_law(
        kumar2024,
        {
            **_BASE,
            "gamma": dict(init=3.0, lower=0.0, upper=100.0, log=True, grid=_GAMMA_GRID),
        },
        name="kumar2024",
        formula="L = E + A*N_eff**-alpha + B*D**-beta,  N_eff = N*(1 - exp(-P/gamma))",
        reference=_REFERENCE,
    )


def kumar2024_ptq_law() -> Law:
    """Post-training quantisation: a model of ``N`` parameters trained on ``D``
    tokens in high precision, then quantised to ``P_post`` bits.

    The degradation grows with ``D`` (``gamma_D > 0``): over-trained models lose
    more when quantised. For the unquantised model give a large ``P_post`` (e.g.
    16): the term vanishes. Map the column with ``--input P_post=bits``.
    """
    # Coarser grids than kumar2024's: nine parameters, so 3,888 starts.
    exponent = dict(init=0.5, lower=0.0, upper=3.0, grid=(0.2, 0.6))
    return make_law(
        kumar2024_ptq,
        {
            **_BASE,
            "A": dict(init=400.0, lower=0.0, log=True, grid=_SCALE_GRID),
            "B": dict(init=400.0, lower=0.0, log=True, grid=_SCALE_GRID),
            "E": dict(init=1.8, lower=0.0, log=True, grid=_E_GRID),
            "C_T": dict(init=1.0, lower=0.0, log=True, grid=_SCALE_GRID),
            "gamma_D": exponent,
            "gamma_N": exponent,
            "gamma_post": dict(
                init=1.0, lower=0.0, upper=50.0, log=True, grid=(0.5, 2.0)
            ),
        },
        name="kumar2024_ptq",
        formula="L = E + A*N**-alpha + B*D**-beta "
        "+ C_T * D**gamma_D / N**gamma_N * exp(-P_post/gamma_post)",
        reference=_REFERENCE,
        log_jacobian=_kumar2024_ptq_log_jacobian,
    )
