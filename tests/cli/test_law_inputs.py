"""The CLI's --input NAME=COLUMN: a formula in any column, fitted, saved and predicted."""

from __future__ import annotations

import pytest

from scalinglab.laws import get_law
from tests.laws.test_inputs import PARSCALE, TRUTH, _streams_table


def test_cli_fit_with_input_then_predict_at(tmp_path, invoke_json):
    _streams_table(tmp_path / "runs.csv")
    saved = tmp_path / "fit.json"
    fitted = invoke_json(
        "fit",
        str(tmp_path / "runs.csv"),
        "--law",
        PARSCALE,
        "--input",
        "P=streams",
        "--bootstrap",
        "0",
        "-o",
        str(saved),
    )
    assert fitted["law"]["inputs"] == ["N", "P"]
    predicted = invoke_json("predict", "--fit", str(saved), "--N", "2e9", "--at", "P=4")
    expected = get_law(PARSCALE, inputs=["P"]).predict(TRUTH, N=2e9, P=4.0)
    assert predicted["loss"] == pytest.approx(float(expected), rel=1e-5)


def test_cli_input_errors_exit_1(tmp_path, invoke):
    _streams_table(tmp_path / "runs.csv")
    code, _, err = invoke(
        "fit", str(tmp_path / "runs.csv"), "--law", "parscale", "--input", "P=nope"
    )
    assert code == 1 and "nope" in err
    code, _, err = invoke("fit", str(tmp_path / "runs.csv"), "--input", "P=streams")
    assert code == 1 and "P is not one of them" in err
    code, _, err = invoke("fit", str(tmp_path / "runs.csv"), "--input", "P")
    assert code == 1 and "NAME=COLUMN" in err


def test_cli_fits_a_law_of_N_and_streams_from_a_table_without_D_or_C(
    tmp_path, invoke_json
):
    frame = _streams_table(tmp_path / "with_tokens.csv").drop(columns="tokens")
    frame.to_csv(tmp_path / "runs.csv", index=False)
    fitted = invoke_json(
        "fit",
        str(tmp_path / "runs.csv"),
        "--law",
        "parscale",
        "--input",
        "P=streams",
        "--bootstrap",
        "0",
    )
    assert fitted["params"] == pytest.approx(TRUTH, rel=1e-5)
    assert "no D or C column: the law needs neither" in fitted["provenance"]["notes"]


def test_cli_a_law_of_D_still_needs_it(tmp_path, invoke):
    frame = _streams_table(tmp_path / "with_tokens.csv").drop(columns="tokens")
    frame.to_csv(tmp_path / "runs.csv", index=False)
    code, _, err = invoke("fit", str(tmp_path / "runs.csv"), "--law", "chinchilla")
    assert code == 1 and "compute column" in err


def test_cli_mix_optimize_on_fitted_mixing_laws(tmp_path, invoke_json):
    from tests.analysis.test_mixture import _fits

    paths = [str(f.save(tmp_path / f"domain{i}.json")) for i, f in enumerate(_fits())]
    payload = invoke_json(
        "mix", "optimize", "--fit", paths[0], "--fit", paths[1], "--bound", "r1=0.1,0.3"
    )
    assert sum(payload["proportions"].values()) == pytest.approx(1.0, abs=1e-9)
    assert 0.1 - 1e-9 <= payload["proportions"]["r1"] <= 0.3 + 1e-9
    assert len(payload["losses"]) == 2


def test_cli_optimal_holds_a_formula_input_with_at(tmp_path, invoke_json):
    """A law of N, D and a recipe input q: at fixed q it is Chinchilla with B' = B q^-gamma,
    whose compute-optimal N has a closed form (Hoffmann et al. eq. 4)."""
    import numpy as np

    import scalinglab as sl

    law = get_law("E + A*N**-alpha + B*D**-beta * q**-gamma", inputs=["q"])
    N, ratio, q = (
        a.ravel()
        for a in np.meshgrid(
            np.geomspace(1e7, 3e9, 6), [5.0, 20.0, 80.0], [1.0, 2.0, 4.0]
        )
    )
    truth = {
        "E": 1.8,
        "A": 480.0,
        "alpha": 0.35,
        "B": 2000.0,
        "beta": 0.37,
        "gamma": 0.2,
    }
    data = {
        "N": N,
        "D": ratio * N,
        "q": q,
        "loss": law.predict(truth, N=N, D=ratio * N, q=q),
    }
    saved = sl.fit(law, data, bootstrap=0).save(tmp_path / "fit.json")
    found = invoke_json(
        "optimal", "--fit", str(saved), "--compute", "1e22", "--at", "q=2"
    )
    p = sl.load_fit(saved).params
    B = p["B"] * 2.0 ** -p["gamma"]
    G = (p["alpha"] * p["A"] / (p["beta"] * B)) ** (1 / (p["alpha"] + p["beta"]))
    expected = G * (1e22 / 6) ** (p["beta"] / (p["alpha"] + p["beta"]))
    assert found["N"] == pytest.approx(expected, rel=1e-3)
