"""Observational scaling: exact recovery on a synthetic one-factor world, errors, the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglab.downstream.observational import fit_observational
from scalinglab.errors import InputError, ScalinglabError

BENCH = ["b1", "b2", "b3", "b4"]


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def world() -> pd.DataFrame:
    """Two families whose capability z is a line in log10 compute; benchmarks linear in z,
    the target a sigmoid of z (so PC1 is z up to scale and shift)."""
    logc = np.concatenate([np.linspace(0, 3, 8), np.linspace(0.5, 2.5, 6)])
    family = ["A"] * 8 + ["B"] * 6
    z = np.where(np.array(family) == "A", 0.7 * logc - 1.0, 0.5 * logc - 0.2)
    slopes = np.array([0.05, 0.08, 0.1, 0.12])
    scores = 0.5 + np.outer(z, slopes)
    frame = pd.DataFrame(scores, columns=BENCH)
    return frame.assign(family=family, flops=10**logc, target=_sigmoid(2.0 * z - 0.5))


def test_one_factor_world_is_recovered_and_extrapolated():
    frame = world()
    below = (frame["flops"] < 100).to_numpy()
    found = fit_observational(
        frame,
        benchmarks=BENCH,
        target="target",
        family="family",
        compute="flops",
        k=1,
        bootstrap=0,
        fit_rows=below,
    )
    assert found.explained[0] == pytest.approx(1.0, abs=1e-9)
    held = frame[~below]
    predicted = found.predict_from_scores(held[BENCH].to_numpy())
    np.testing.assert_allclose(predicted, held["target"], atol=1e-6)
    z_new = 0.7 * np.log10(5e3) - 1.0
    assert found.predict(family="A", compute=5e3)[0] == pytest.approx(
        _sigmoid(2.0 * z_new - 0.5), abs=1e-6
    )


def test_bad_input_is_named():
    frame = world()
    common = {"family": "family", "compute": "flops", "bootstrap": 0}
    with pytest.raises(InputError, match="'b2'") as caught:
        fit_observational(
            frame.assign(b2=frame["b2"] * 100),
            benchmarks=BENCH,
            target="target",
            **common,
        )
    assert caught.value.column == "b2"
    with pytest.raises(ScalinglabError, match="must not be a capability benchmark"):
        fit_observational(frame, benchmarks=BENCH, target="b1", **common)
    with pytest.raises(ScalinglabError, match="no compute line"):
        fit_observational(frame, benchmarks=BENCH, target="target", **common).predict(
            family="C", compute=10.0
        )


def test_cli_scores_the_held_out_models(invoke_json, tmp_path):
    path = tmp_path / "scores.csv"
    world().to_csv(path, index=False)
    found = invoke_json(
        "observational",
        "fit",
        str(path),
        "--family",
        "family",
        "--compute",
        "flops",
        "--target",
        "target",
        "--benchmarks",
        "b1,b2,b3,b4",
        "--holdout-compute",
        "100",
        "--bootstrap",
        "20",
    )
    assert found["holdout"]["models"] == 5
    assert found["holdout"]["mean_abs_error"] < 1e-5
    assert set(found["families"]) == {"A", "B"}
