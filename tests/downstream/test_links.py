"""Each link recovers its parameters through the fitting engine, checked against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import least_squares

from scalinglab.downstream import make_link
from scalinglab.errors import ScalinglabError
from scalinglab.fit import fit

X = np.linspace(0.6, 1.4, 40)
TRUTH = {
    "sigmoid": {"a": 0.6, "k": -8.0, "L0": 1.0, "b": 0.25},
    "exp": {"eps": 0.9, "K": 30.0, "gamma": 3.0},
    "linear": {"c0": 1.1, "c1": -0.6},
}


@pytest.mark.parametrize("link", ["sigmoid", "exp", "linear"])
def test_link_recovers_exact_parameters(link):
    law = make_link(link, X)
    y = law.predict(TRUTH[link], x=X)
    result = fit(law, {"x": X, "loss": y}, objective="mse", bootstrap=0)
    assert result.params == pytest.approx(TRUTH[link], rel=1e-5)


def test_sigmoid_on_noisy_data_matches_scipy_least_squares():
    law = make_link("sigmoid", X, chance=0.25)
    rng = np.random.default_rng(3)
    y = law.predict(TRUTH["sigmoid"], x=X) + 0.01 * rng.standard_normal(X.size)
    result = fit(law, {"x": X, "loss": y}, objective="mse", bootstrap=0)

    def residual(p):
        a, k, L0 = p
        return a / (1 + np.exp(-k * (X - L0))) + 0.25 - y

    ref = least_squares(residual, [0.5, -5.0, 1.0]).x
    got = [result.params[n] for n in ("a", "k", "L0")]
    assert got == pytest.approx(ref, rel=1e-4)


def test_chance_fixes_the_sigmoid_floor_only():
    assert make_link("sigmoid", X, chance=0.2).param("b").fixed
    assert not make_link("sigmoid", X).param("b").fixed
    assert make_link("exp", X, chance=0.8).param_names == ("eps", "K", "gamma")


def test_unknown_link_lists_the_choices():
    with pytest.raises(ScalinglabError, match="sigmoid, exp, linear"):
        make_link("logit", X)
