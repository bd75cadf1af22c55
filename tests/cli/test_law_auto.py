"""The CLI contract of --law auto: JSON law and ranking; predict works on the saved fit."""

from __future__ import annotations

import pytest

import scalinglab as sl
from tests.analysis.test_autolaw import _ladder


def test_cli_auto_json_contract_and_predict_on_the_saved_fit(tmp_path, invoke_json):
    path, saved = tmp_path / "runs.csv", tmp_path / "auto.json"
    _ladder().frame[["N", "D", "loss"]].to_csv(path, index=False)
    payload = invoke_json(
        "fit", str(path), "--law", "auto", "--bootstrap", "0", "-o", str(saved)
    )
    # Chinchilla truth: overtraining scores 9.7% better per decade, a near tie that
    # keeps the default.
    assert payload["law"] == "chinchilla" != payload["ranking"][0]["law"]
    assert {"law", "holdout_error", "median_error"} <= set(payload["ranking"][0])
    assert len(payload["ranking"]) == 4
    selection = payload["law_selection"]
    assert selection["default"] == "chinchilla" and selection["margin"] < 0
    assert selection["needed"] == pytest.approx(1 - 0.05 / 3)
    assert any("near tie" in note for note in selection["notes"])
    assert sl.load_fit(saved).settings["law_selection"]["default"] == "chinchilla"
    predicted = invoke_json(
        "predict", "--fit", str(saved), "--N", "7e10", "--D", "1.4e12"
    )
    fitted = sl.load_fit(saved)
    assert predicted["loss"] == pytest.approx(float(fitted.predict(N=7e10, D=1.4e12)))


def test_cli_auto_average_saves_an_average_that_predict_reads(tmp_path, invoke_json):
    path, saved = tmp_path / "runs.csv", tmp_path / "avg.json"
    _ladder().frame[["N", "D", "loss"]].to_csv(path, index=False)
    payload = invoke_json(
        "fit",
        str(path),
        "--law",
        "auto",
        "--average",
        "--bootstrap",
        "20",
        "-o",
        str(saved),
    )
    assert payload["law"] == "average"
    assert sum(payload["weights"].values()) == pytest.approx(1.0)
    assert {"law", "holdout_error"} <= set(payload["ranking"][0])
    predicted = invoke_json(
        "predict", "--fit", str(saved), "--N", "7e10", "--D", "1.4e12"
    )
    assert predicted["ci95"][0] < predicted["loss"] < predicted["ci95"][1]


def test_cli_average_without_auto_exits_1(tmp_path, invoke):
    path = tmp_path / "runs.csv"
    _ladder().frame[["N", "D", "loss"]].to_csv(path, index=False)
    code, _, err = invoke("fit", str(path), "--average")
    assert code == 1 and "--law auto" in err


def test_cli_auto_prints_the_ranking_the_default_and_the_margin(tmp_path, invoke):
    path = tmp_path / "runs.csv"
    _ladder().frame[["N", "D", "loss"]].to_csv(path, index=False)
    code, out, _ = invoke("fit", str(path), "--law", "auto", "--bootstrap", "0")
    assert code == 0
    out = " ".join(out.split())  # however the console wrapped it
    assert "error per decade" in out and "kaplan" in out
    assert "chosen: chinchilla (default chinchilla, overtraining beat it in" in out
    assert "so the default chinchilla is kept" in out
    assert "--average (the laws weighted by their held-out error)" in out
