"""Fine-tuning data size: Lin et al. 2024's rectified scaling law with pre-learned data."""

from __future__ import annotations

import numpy as np

from .base import Law, make_law

_B_GRID = tuple(np.exp([0.0, 2.0, 4.0, 6.0, 8.0]))
_D_L_GRID = tuple(np.exp([-2.0, 0.0, 2.0, 4.0, 6.0]))
_BETA_GRID = (0.1, 0.3, 0.5, 0.8, 1.2)
_E_GRID = tuple(np.exp([-2.0, -1.0, 0.0, 0.5, 1.0]))


def rectified(D, *, B, D_l, beta, E):
    """L(D) = B / (D_l + D**beta) + E  (Lin et al. 2024, eq. 3)."""
    return B / (D_l + D**beta) + E


def _rectified_log_jacobian(D, *, B, D_l, beta, E):
    power = D**beta
    denominator = D_l + power
    loss = B / denominator + E
    term = B / denominator**2
    with np.errstate(divide="ignore", invalid="ignore"):
        log_D = np.where(D > 0, np.log(np.where(D > 0, D, 1.0)), 0.0)
    return {
        "B": 1.0 / denominator / loss,
        "D_l": -term / loss,
        "beta": -term * power * log_D / loss,
        "E": 1.0 / loss,
    }


def rectified_law() -> Law:
    """Lin et al.'s fine-tuning law of the fine-tuning data size ``D`` (examples, D >= 0).

    ``D_l`` is the pre-learned data size: the fine-tuning data the pre-trained
    model is already worth, which flattens the curve at small ``D`` (the
    "pre-power phase") before the power law takes over. One fit per
    pre-trained model and task. No preset: the shared reference (formulas.md,
    SLDBench's SOURCE.md) gives none of the paper's coefficients.
    """
    return make_law(
        rectified,
        {
            "B": dict(init=100.0, lower=0.0, log=True, grid=_B_GRID),
            "D_l": dict(init=10.0, lower=0.0, log=True, grid=_D_L_GRID),
            "beta": dict(init=0.5, lower=0.0, upper=3.0, grid=_BETA_GRID),
            "E": dict(init=1.0, lower=0.0, log=True, grid=_E_GRID),
        },
        name="rectified",
        formula="L = B / (D_l + D**beta) + E",
        reference="Lin et al. 2024, arXiv 2402.02314 (Selecting Large Language Model to "
        "Fine-tune via Rectified Scaling Law)",
        log_jacobian=_rectified_log_jacobian,
    )
