"""The loss in learning rate and batch size: a Chinchilla floor plus a bowl around the optimum.

.. math::

    L(N, D, \\eta, B) = E + A N^{-\\alpha} + B_D D^{-\\beta}
        + c \\,(\\ln \\eta - \\ln \\eta^*(N, D))^2 + d \\,(\\ln B - \\ln B^*(D))^2

with the optimum of Step Law's form (Li et al. 2025), ``ln eta* = a0 + a1 ln(N/N0)
+ a2 ln(D/D0)`` and ``ln B* = b0 + b1 ln(D/D0)``, centred at ``N0 = 4e8`` and
``D0 = 2e10`` tokens so that the intercepts are the log optimum of a mid-sized run.
``B`` counts tokens per step. Two forms:

- ``lr_bsz_law()`` fits the optimum's coefficients from the losses;
- ``steplaw_loss_law()`` holds them at Step Law's published fit
  (``eta* = 1.79 N^-0.713 D^0.307``, ``B* = 0.58 D^0.571`` tokens; reference
  formulas.md 7.4) and fits only the floor and the two curvatures: the paper's
  hyperparameter law turned into a law of the loss, the benchmark's human law.

Neither is registered: they serve ``bench sldbench`` (task ``lr_bsz_scaling_law``);
``scalinglab hparams fit`` fits the optimal learning rate and batch size directly.
"""

from __future__ import annotations

import math

import numpy as np

from ._grids import EXPONENT_GRID, LOG_E_GRID, LOG_SCALE_GRID
from .base import Law, make_law

N0, D0 = 4e8, 2e10
# Step Law (Li et al. 2025, arXiv 2503.04715): eta* = 1.79 N^-0.713 D^0.307,
# B* = 0.58 D^0.571 tokens, rewritten about N0, D0.
STEPLAW = {
    "a0": math.log(1.79) - 0.713 * math.log(N0) + 0.307 * math.log(D0),
    "a1": -0.713,
    "a2": 0.307,
    "b0": math.log(0.58) + 0.571 * math.log(D0),
    "b1": 0.571,
}


def lr_bsz(N, D, lr, bs, *, E, A, alpha, B, beta, c, d, a0, a1, a2, b0, b1):
    """L = E + A/N**alpha + B/D**beta + c (ln lr - ln lr*)^2 + d (ln bs - ln bs*)^2."""
    n, t = np.log(N / N0), np.log(D / D0)
    lr_gap = np.log(lr) - (a0 + a1 * n + a2 * t)
    bs_gap = np.log(bs) - (b0 + b1 * t)
    return E + A * N**-alpha + B * D**-beta + c * lr_gap**2 + d * bs_gap**2


def _settings(fixed_optimum: bool) -> dict:
    optimum = {
        name: dict(init=value, fixed=fixed_optimum) for name, value in STEPLAW.items()
    }
    return {
        "E": dict(init=1.8, lower=0.0, log=True, grid=LOG_E_GRID),
        "A": dict(init=400.0, lower=0.0, log=True, grid=LOG_SCALE_GRID),
        "alpha": dict(init=0.34, lower=0.0, upper=3.0, grid=EXPONENT_GRID),
        "B": dict(init=400.0, lower=0.0, log=True, grid=LOG_SCALE_GRID),
        "beta": dict(init=0.28, lower=0.0, upper=3.0, grid=EXPONENT_GRID),
        "c": dict(init=0.02, lower=0.0, log=True),
        "d": dict(init=0.02, lower=0.0, log=True),
        **optimum,
    }


_FORMULA = (
    "L = E + A*N**-alpha + B*D**-beta + c*(ln lr - a0 - a1 ln(N/4e8) - a2 ln(D/2e10))**2"
    " + d*(ln bs - b0 - b1 ln(D/2e10))**2"
)


def lr_bsz_law() -> Law:
    """The loss in N, D, learning rate ``lr`` and batch size ``bs`` (tokens), optimum fitted."""
    return make_law(
        lr_bsz,
        _settings(fixed_optimum=False),
        name="lr_bsz",
        formula=_FORMULA,
        reference="this project: Chinchilla floor plus a quadratic bowl in log lr and "
        "log batch size around an optimum of Step Law's form (Li et al. 2025)",
        published=False,
    )


def steplaw_loss_law() -> Law:
    """:func:`lr_bsz_law` with the optimum held at Step Law's published coefficients."""
    return make_law(
        lr_bsz,
        _settings(fixed_optimum=True),
        name="steplaw_loss",
        formula=_FORMULA + " (a0..b1 fixed at Step Law's)",
        reference="Li et al. 2025, arXiv 2503.04715 (Step Law), optimum held at the "
        "published eta* = 1.79 N^-0.713 D^0.307, B* = 0.58 D^0.571",
    )
