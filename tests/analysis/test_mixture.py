"""mix optimize: the best proportions under fitted mixing laws, against a brute-force simplex grid."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglab as sl
from scalinglab.analysis.mixture import optimize_mixture
from scalinglab.errors import ScalinglabError
from scalinglab.laws.examples import example, simulate
from scalinglab.laws.mixing import mixing_law

LAW = mixing_law()  # domains r1, r2, r3
# Two target domains: one helped by r1, the other by r2 (and hurt by r1).
TRUTHS = [
    {"c": 1.9, "k": 1.2, "t_r1": -1.5, "t_r2": 0.4},
    {"c": 2.2, "k": 0.8, "t_r1": 0.9, "t_r2": -1.2},
]


def _fits():
    design = example("mixing").inputs
    return [sl.fit(LAW, simulate(LAW, truth, design), bootstrap=0) for truth in TRUTHS]


def _brute_force(fits, weights, low, high, step=0.002):
    grid = np.arange(0, 1 + step / 2, step)
    r1, r2 = (a.ravel() for a in np.meshgrid(grid, grid))
    r3 = 1 - r1 - r2
    shares = np.column_stack([r1, r2, r3])
    keep = np.all((shares >= low - 1e-12) & (shares <= high + 1e-12), axis=1)
    shares = shares[keep]
    loss = sum(
        w * f.predict(r1=shares[:, 0], r2=shares[:, 1], r3=shares[:, 2])
        for w, f in zip(weights, fits)
    )
    return shares[np.argmin(loss)], float(loss.min())


@pytest.mark.parametrize(
    ("weights", "bounds"),
    [
        ((1.0, 1.0), {}),
        ((1.0, 3.0), {}),
        ((1.0, 1.0), {"r1": (0.1, 0.3), "r3": (0.2, 1.0)}),
    ],
)
def test_optimum_matches_a_brute_force_grid(weights, bounds):
    fits = _fits()
    found = optimize_mixture(fits, bounds=bounds, weights=weights)
    low = np.array([bounds.get(d, (0, 1))[0] for d in ("r1", "r2", "r3")])
    high = np.array([bounds.get(d, (0, 1))[1] for d in ("r1", "r2", "r3")])
    shares, loss = _brute_force(fits, weights, low, high)
    assert found.converged
    assert sum(found.proportions.values()) == pytest.approx(1.0, abs=1e-9)
    assert found.loss <= loss + 1e-9  # at least as good as the best grid point
    assert list(found.proportions.values()) == pytest.approx(shares, abs=0.01)


def test_one_target_domain_goes_to_the_boundary():
    found = optimize_mixture(_fits()[:1], bounds={"r1": (0.0, 0.6)})
    assert found.proportions["r1"] == pytest.approx(0.6, abs=1e-6)


def test_infeasible_bounds_and_other_laws_are_errors():
    fits = _fits()
    with pytest.raises(ScalinglabError, match="leave no mixture"):
        optimize_mixture(fits, bounds={"r1": (0.6, 1.0), "r2": (0.6, 1.0)})
    with pytest.raises(ScalinglabError, match="not domains"):
        optimize_mixture(fits, bounds={"code": (0.0, 0.5)})
    chinchilla = sl.fit(
        "chinchilla",
        simulate(
            sl.get_law("chinchilla"),
            example("chinchilla").params,
            example("chinchilla").inputs,
        ),
        bootstrap=0,
    )
    with pytest.raises(ScalinglabError, match="mixing law"):
        optimize_mixture([chinchilla])
