"""Any column as a law input: formula laws with --input NAME=COLUMN, saved and reloaded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scalinglab as sl
from scalinglab.data import read_runs
from scalinglab.errors import InputError, ScalinglabError
from scalinglab.laws import get_law

PARSCALE = "E + (A / (N * (k*log(P) + 1)))**alpha"
# ParScale's Stack-V2-Python fit (reference/formulas.md section 12.8).
TRUTH = {"E": 0.6912, "A": 1.13e7, "k": 0.3935, "alpha": 0.1894}


def _streams_table(path) -> pd.DataFrame:
    N, P = (a.ravel() for a in np.meshgrid([5e8, 1e9, 2e9, 4e9, 8e9], [1, 2, 4, 8]))
    law = get_law(PARSCALE, inputs=["P"])
    frame = pd.DataFrame(
        {
            "params": N,
            "tokens": 4e10,
            "streams": P.astype(float),
            "loss": law.predict(TRUTH, N=N, P=P),
        }
    )
    frame.to_csv(path, index=False)
    return frame


def test_formula_takes_a_named_input_besides_the_defaults():
    law = get_law(PARSCALE, inputs=["P"])
    assert law.inputs == ("N", "P")
    assert law.param_names == ("E", "A", "k", "alpha")
    # Without the input, P is a parameter like any other unknown name.
    assert "P" in get_law(PARSCALE).param_names


def test_input_the_formula_lacks_is_an_error_naming_it():
    with pytest.raises(ScalinglabError, match=r"\['Q'\] do not appear"):
        get_law(PARSCALE, inputs=["Q"])
    with pytest.raises(ScalinglabError, match="P is not one of them"):
        get_law("chinchilla", inputs=["P"])


def test_table_reads_an_input_from_any_column_and_checks_it(tmp_path):
    frame = _streams_table(tmp_path / "runs.csv")
    runs = read_runs(tmp_path / "runs.csv").with_inputs({"P": "streams"})
    assert np.array_equal(runs.array("P"), frame["streams"].to_numpy(float))
    assert runs.mapping["P"] == "streams"
    frame.loc[3, "streams"] = np.inf
    with pytest.raises(InputError, match=r"column 'streams', row 3 .*finite"):
        read_runs(frame).with_inputs({"P": "streams"})
    with pytest.raises(InputError, match="map it with --N"):
        read_runs(frame).with_inputs({"N": "streams"})


def test_exact_recovery_and_bit_identical_reload(tmp_path):
    _streams_table(tmp_path / "runs.csv")
    runs = read_runs(tmp_path / "runs.csv").with_inputs({"P": "streams"})
    result = sl.fit(get_law(PARSCALE, inputs=["P"]), runs, bootstrap=10)
    assert result.params == pytest.approx(TRUTH, rel=1e-5)
    reloaded = sl.load_fit(result.save(tmp_path / "fit.json"))
    assert reloaded.law.inputs == ("N", "P")
    at = {"N": np.array([1.6e10]), "P": np.array([16.0])}
    assert np.array_equal(reloaded.predict(**at), result.predict(**at))
