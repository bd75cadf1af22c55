"""Learning rate across token horizons (Bjorck et al. 2024): at fixed N, lr* = B D^-beta."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.analysis.hparams import fit_hparams
from scalinglab.errors import ScalinglabError


def _fixed_n_sweep():
    rows = []
    for D in (1e9, 4e9, 1.6e10, 6.4e10):
        lr_opt = 0.5 * D**-0.2  # longer horizon -> smaller lr
        for lr in lr_opt * 2.0 ** np.arange(-2, 2.5, 0.5):
            rows.append(
                (1e8, D, lr, 2.0**20, 3.0 * (1 + 0.02 * np.log(lr / lr_opt) ** 2))
            )
    return [np.array(c) for c in zip(*rows)]


def test_optimal_lr_at_fixed_N_is_a_power_law_in_tokens():
    fit = fit_hparams(
        *_fixed_n_sweep(),
        method="quadratic",
        fit_band=0.5,
        bootstrap=40,
        lr_inputs=("D",),
        bs_inputs=("D",),
    )
    assert fit.lr_law.params["D"] == pytest.approx(-0.2, rel=1e-6)
    assert fit.lr_law.params["coef"] == pytest.approx(0.5, rel=1e-6)
    with pytest.raises(ScalinglabError, match="one value of it"):
        fit_hparams(*_fixed_n_sweep(), lr_inputs=("N", "D"))
