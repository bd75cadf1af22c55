"""A small fitted chinchilla law with bootstrap draws, shared by the decide tests."""

from __future__ import annotations

import pytest

from scalinglab.fit import fit
from scalinglab.laws import get_law
from scalinglab.laws.examples import example, simulate


@pytest.fixture(scope="session")
def fitted():
    truth = example("chinchilla")
    runs = simulate(
        get_law("chinchilla"), truth.params, truth.inputs, noise=0.01, seed=0
    )
    return fit("chinchilla", runs, bootstrap=40, seed=0, extrapolation=None)


@pytest.fixture(scope="session")
def fitted_json(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("fits") / "chinchilla.json"
    fitted.save(path)
    return path
