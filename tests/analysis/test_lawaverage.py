"""--law auto --average: candidates stacked by inverse held-out error, mixture intervals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scalinglab.analysis.lawaverage import fit_average, load_average
from tests.analysis.test_autolaw import _ladder

AT = {"N": np.array([7e10, 3e9]), "D": np.array([1.4e12, 6e10])}


@pytest.fixture(scope="module")
def stacked():
    return fit_average(_ladder(), ["chinchilla", "power"], bootstrap=20, seed=0)


def test_weights_are_inverse_held_out_errors(stacked):
    errors = {c.law: c.median_error for c in stacked.choice.ranking}
    inverse = np.array([1 / errors[f.law.name] for f in stacked.fits])
    assert stacked.weights == pytest.approx(tuple(inverse / inverse.sum()), rel=1e-12)


def test_prediction_is_the_weighted_mean_with_C_from_6ND(stacked):
    by_law = {f.law.name: f for f in stacked.fits}
    C = 6 * AT["N"] * AT["D"]
    members = {
        "chinchilla": by_law["chinchilla"].predict(**AT),
        "power": by_law["power"].predict(C=C),
    }
    expected = sum(
        w * members[f.law.name] for f, w in zip(stacked.fits, stacked.weights)
    )
    np.testing.assert_allclose(stacked.predict(**AT), expected, rtol=1e-12)
    assert stacked.inputs == ("N", "D")


def test_mixture_interval_spans_the_laws_that_disagree(stacked):
    low, high = stacked.predict_interval(0.95, **AT)
    for f in stacked.fits:
        inputs = AT if "N" in f.law.inputs else {"C": 6 * AT["N"] * AT["D"]}
        f_low, f_high = f.predict_interval(0.95, **inputs)
        # Each law's own median lies inside the mixture's interval.
        assert np.all(low <= f.predict(**inputs)) and np.all(
            f.predict(**inputs) <= high
        )
        assert np.all(high - low >= 0.5 * (f_high - f_low))


def test_saved_average_reloads_and_predicts_identically(stacked, tmp_path):
    reloaded = load_average(stacked.save(tmp_path / "avg.json"))
    np.testing.assert_array_equal(reloaded.predict(**AT), stacked.predict(**AT))
    np.testing.assert_array_equal(
        np.array(reloaded.predict_interval(0.9, **AT)),
        np.array(stacked.predict_interval(0.9, **AT)),
    )


def test_an_average_saved_before_median_error_reloads(stacked, tmp_path):
    # Older files: no median_error (their holdout_error was that median), no
    # default, confidence or needed in law_selection.
    data = json.loads(stacked.save(tmp_path / "avg.json").read_text())
    for entry in data["ranking"] + data["law_selection"]["ranking"]:
        entry["holdout_error"] = entry.pop("median_error")
    for key in ("default", "confidence", "needed"):
        data["law_selection"].pop(key)
    (tmp_path / "old.json").write_text(json.dumps(data))
    reloaded = load_average(tmp_path / "old.json")
    medians = {c.law: c.median_error for c in stacked.choice.ranking}
    assert {c.law: c.median_error for c in reloaded.choice.ranking} == medians
    np.testing.assert_array_equal(reloaded.predict(**AT), stacked.predict(**AT))
