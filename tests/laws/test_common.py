"""The contract every registered law passes: exact recovery, noisy recovery, calibrated intervals."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglab as sl
from scalinglab.laws.examples import example, simulate

LAWS = sl.all_laws()

# Largest relative error allowed per parameter at 1% noise. Scale parameters (A, B, N_c,
# a, b) trade off against their exponents, so they are looser than E and the exponents.
NOISY_RTOL = {"scale": 0.5, "other": 0.15}
# ParScale's k scales log P: a weak lever at 1% noise (P's effect is a few percent).
# Clark et al.'s E_start and E_max are saturation points: only E near them pins them.
SCALES = {
    "A",
    "B",
    "A1",
    "A2",
    "N_c",
    "D_c",
    "a",
    "b",
    "R_N_star",
    "k",
    "E_start",
    "E_max",
}


def _rtol(truth, name: str) -> float:
    """The example's tolerance where its design cannot pin the parameter, else the default."""
    default = NOISY_RTOL["scale" if name in SCALES else "other"]
    return truth.noisy_rtol.get(name, default)


@pytest.mark.parametrize("law", LAWS, ids=str)
def test_recovers_exact_parameters(law):
    truth = example(law)
    result = sl.fit(law, simulate(law, truth.params, truth.inputs), bootstrap=0)
    assert result.converged
    assert result.params == pytest.approx(dict(truth.params), rel=1e-6)


@pytest.mark.parametrize("law", LAWS, ids=str)
def test_recovers_noisy_parameters(law):
    truth = example(law)
    data = simulate(law, truth.params, truth.inputs, noise=0.01, seed=1)
    result = sl.fit(law, data, bootstrap=0)
    for name, value in truth.params.items():
        assert result.params[name] == pytest.approx(value, rel=_rtol(truth, name)), name


@pytest.mark.parametrize("law", LAWS, ids=str)
def test_saved_fit_predicts_bit_identically(law, tmp_path):
    truth = example(law)
    data = simulate(law, truth.params, truth.inputs, noise=0.01, seed=2)
    result = sl.fit(law, data, bootstrap=20, seed=0)
    reloaded = sl.load_fit(result.save(tmp_path / "fit.json"))
    inputs = {k: v[:5] * 3.0 for k, v in truth.inputs.items()}
    assert np.array_equal(result.predict(**inputs), reloaded.predict(**inputs))
    assert np.array_equal(
        result.predict_draws(**inputs), reloaded.predict_draws(**inputs)
    )
    assert reloaded.params == result.params


def test_formula_law_fits_like_the_registered_one():
    truth = example("chinchilla")
    data = simulate(
        sl.get_law("chinchilla"), truth.params, truth.inputs, noise=0.01, seed=3
    )
    registered = sl.fit("chinchilla", data, bootstrap=0)
    formula = sl.fit("E + A*N**-alpha + B*D**-beta", data, bootstrap=0)
    assert formula.objective == pytest.approx(registered.objective, rel=1e-6)
    for name in ("E", "alpha", "beta"):
        assert formula.params[name] == pytest.approx(registered.params[name], rel=1e-4)


# The five original laws have the stricter two-sided check (coverage 88-99% and width
# at most 2x the oracle's) in tests/calibration/test_loss_laws.py; running both would
# spend CI minutes on the same claim.
CALIBRATED = ("chinchilla", "kaplan", "overtraining", "data_constrained", "power")


@pytest.mark.slow
@pytest.mark.parametrize("law", [x for x in LAWS if str(x) not in CALIBRATED], ids=str)
def test_intervals_cover_the_truth_in_90_of_100_repetitions(law):
    truth = example(law)
    # The 448-point MoE designs cost 2-3 min at 200 replicates; at 100 their worst
    # parameter still covers 93 (ludziejewski2025) and 92 (krajewski2024) of 100.
    points = len(next(iter(truth.inputs.values())))
    replicates = 100 if points > 300 else 200
    covered = {name: 0 for name in truth.params}
    for seed in range(100):
        data = simulate(law, truth.params, truth.inputs, noise=0.01, seed=seed)
        fitted = sl.fit(law, data, bootstrap=replicates, seed=seed, extrapolation=None)
        ci = fitted.conf_int()
        for name, value in truth.params.items():
            covered[name] += ci[name][0] <= value <= ci[name][1]
    assert min(covered.values()) >= 90, covered
