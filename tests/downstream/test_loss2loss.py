"""Loss-to-loss: the shifted power law against scipy, E from each loss's own fit, errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import curve_fit

from scalinglab.downstream.loss2loss import fit_loss2loss, shifted_power_law
from scalinglab.errors import InputError
from scalinglab.fit import fit

N = np.repeat(np.geomspace(2e7, 1e9, 6), 4)
D = N * np.tile([5.0, 15.0, 40.0, 100.0], 6)
LX = 1.8 + 300 * N**-0.32 + 500 * D**-0.3


def test_shifted_power_law_matches_scipy_curve_fit():
    rng = np.random.default_rng(0)
    ly = 0.9 * (LX - 1.8) ** 1.4 + 2.2
    ly = ly * np.exp(0.003 * rng.standard_normal(ly.size))
    result = fit(
        shifted_power_law(1.8, 2.2), {"x": LX, "loss": ly}, objective="mse", bootstrap=0
    )
    ref, _ = curve_fit(
        lambda x, K, kappa: K * (x - 1.8) ** kappa + 2.2, LX, ly, p0=[1.0, 1.0]
    )
    assert [result.params["K"], result.params["kappa"]] == pytest.approx(ref, rel=1e-4)


def test_kappa_one_pairs_recover_both_irreducible_losses_and_predict():
    ly = 1.3 * (LX - 1.8) + 2.4  # kappa = 1 keeps L_y a Chinchilla law with E = 2.4
    import pandas as pd

    frame = pd.DataFrame({"N": N, "D": D, "lx": LX, "ly": ly})
    found = fit_loss2loss(frame, x="lx", y="ly", bootstrap=50)
    assert found.params == pytest.approx(
        {"K": 1.3, "kappa": 1.0, "E_x": 1.8, "E_y": 2.4}, rel=1e-3
    )
    truth = 1.3 * (300 * 5e9**-0.32 + 500 * 1e11**-0.3) + 2.4
    assert found.predict(N=5e9, D=1e11)["y"] == pytest.approx(truth, rel=1e-4)


def test_losses_below_the_irreducible_loss_are_refused():
    import pandas as pd

    lx = LX.copy()
    lx[3] = 1.0  # below E_x of the rest; the Chinchilla fit keeps E_x above it
    frame = pd.DataFrame({"N": N, "D": D, "lx": lx, "ly": LX + 0.5})
    with pytest.raises(InputError) as caught:
        fit_loss2loss(frame, x="lx", y="ly", bootstrap=20)
    assert caught.value.column == "lx"
