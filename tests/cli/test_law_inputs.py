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
