"""Vocabulary size: Tao et al. 2024's law of the unigram-normalised loss in N, vocabulary parameters and data."""

from __future__ import annotations

import numpy as np

from .base import Law, make_law

_E_GRID = (3.0, 5.0, 7.0)
_SCALE_GRID = tuple(np.exp([0.0, 5.0, 10.0, 15.0]))
_EXPONENT_GRID = (0.2, 0.5, 1.0)


def tao2024(N, N_v, H, *, E, A1, alpha1, A2, alpha2, B, beta):
    """L_u = -E + A1/N**alpha1 + A2/N_v**alpha2 + B/H**beta  (Tao et al. 2024, approach 3)."""
    return -E + A1 * N**-alpha1 + A2 * N_v**-alpha2 + B * H**-beta


def _tao2024_jacobian(N, N_v, H, *, E, A1, alpha1, A2, alpha2, B, beta):
    model, vocab, data = A1 * N**-alpha1, A2 * N_v**-alpha2, B * H**-beta
    loss = -E + model + vocab + data
    # d log|L| / d theta = (dL / d theta) / L: the engine's Jacobian convention.
    return {
        "E": -1.0 / loss,
        "A1": N**-alpha1 / loss,
        "alpha1": -model * np.log(N) / loss,
        "A2": N_v**-alpha2 / loss,
        "alpha2": -vocab * np.log(N_v) / loss,
        "B": H**-beta / loss,
        "beta": -data * np.log(H) / loss,
    }


def tao2024_law() -> Law:
    """Tao et al.'s vocabulary law: non-vocabulary parameters ``N``, vocabulary
    parameters ``N_v`` (vocabulary size x embedding width) and training characters ``H``.

    The loss is the unigram-normalised ``L_u``, which is negative, so the law's
    default objective is ``mse`` on the loss itself (log-loss objectives need
    positive losses). Data is counted in characters, not tokens, so that runs
    with different vocabularies are comparable. From the CLI, name the loss
    unit so that negative losses are accepted: ``--loss-unit unigram_normalized``.
    No preset: the approach-3 coefficients are not in the shared reference.
    """
    return make_law(
        tao2024,
        {
            "E": dict(init=5.0, lower=0.0, upper=50.0, grid=_E_GRID),
            "A1": dict(init=100.0, lower=0.0, log=True, grid=_SCALE_GRID),
            "alpha1": dict(init=0.5, lower=0.0, upper=3.0, grid=_EXPONENT_GRID),
            "A2": dict(init=100.0, lower=0.0, log=True, grid=_SCALE_GRID),
            "alpha2": dict(init=0.5, lower=0.0, upper=3.0, grid=_EXPONENT_GRID),
            "B": dict(init=100.0, lower=0.0, log=True, grid=_SCALE_GRID),
            "beta": dict(init=0.5, lower=0.0, upper=3.0, grid=_EXPONENT_GRID),
        },
        name="tao2024",
        formula="L_u = -E + A1*N**-alpha1 + A2*N_v**-alpha2 + B*H**-beta",
        reference="Tao et al. 2024, arXiv 2407.13623 (Scaling Laws with Vocabulary), "
        "approach 3",
        log_jacobian=_tao2024_jacobian,
        objective="mse",
    )
