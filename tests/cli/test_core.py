"""The core commands' contract: fit, predict, optimal, laws (JSON keys, exit codes, messages)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from scalinglab.laws import get_law
from scalinglab.laws.examples import example, simulate


@pytest.fixture
def runs_csv(tmp_path):
    truth = example("chinchilla")
    data = simulate(
        get_law("chinchilla"), truth.params, truth.inputs, noise=0.01, seed=0
    )
    frame = pd.DataFrame(
        {"params": data["N"], "tokens": data["D"], "final_loss": data["loss"]}
    )
    path = tmp_path / "runs.csv"
    frame.to_csv(path, index=False)
    return path


def test_fit_json_contract_and_saved_fit(invoke_json, runs_csv, tmp_path):
    saved = tmp_path / "runs.chinchilla.json"
    out = invoke_json(
        "fit",
        str(runs_csv),
        "--law",
        "chinchilla",
        "--N",
        "params",
        "--D",
        "tokens",
        "--loss",
        "final_loss",
        "--bootstrap",
        "200",
        "--seed",
        "1",
        "-o",
        str(saved),
    )
    assert set(out["params"]) == {"E", "A", "B", "alpha", "beta"}
    assert out["params"]["alpha"] == pytest.approx(
        example("chinchilla").params["alpha"], abs=0.03
    )
    for name, (low, high) in out["ci95"].items():
        assert low <= out["params"][name] <= high
    assert out["n_points"] == 72 and isinstance(out["diagnostics"], list)
    assert 0 < out["objective"] < 1e-2

    prediction = invoke_json("predict", "--fit", str(saved), "--N", "7B", "--D", "2e12")
    direct = get_law("chinchilla").predict(out["params"], N=7e9, D=2e12)
    assert prediction["loss"] == pytest.approx(float(direct), rel=1e-12)
    assert prediction["ci95"][0] < prediction["loss"] < prediction["ci95"][1]

    optimum = invoke_json("optimal", "--fit", str(saved), "--compute", "1e24")
    assert optimum["D"] == pytest.approx(1e24 / (6 * optimum["N"]), rel=1e-12)
    assert optimum["tokens_per_param"] == pytest.approx(
        optimum["D"] / optimum["N"], rel=1e-12
    )
    assert optimum["ci95"]["N"][0] < optimum["N"] < optimum["ci95"]["N"][1]


def test_bootstrap_zero_has_no_intervals_and_seed_is_reproducible(
    invoke_json, runs_csv
):
    bare = invoke_json("fit", str(runs_csv), "--bootstrap", "0")
    assert bare["ci95"] is None
    first = invoke_json("fit", str(runs_csv), "--bootstrap", "50", "--seed", "3")
    second = invoke_json("fit", str(runs_csv), "--bootstrap", "50", "--seed", "3")
    assert first["ci95"] == second["ci95"]


def test_optimal_from_a_preset(invoke_json):
    out = invoke_json("optimal", "--preset", "besiroglu2024", "--compute", "5.88e23")
    assert out["N"] == pytest.approx(7.30e10, rel=2e-3)
    assert out["tokens_per_param"] == pytest.approx(18.4, abs=0.05)
    assert out["loss"] > 1.817 and "ci95" not in out


def test_laws_lists_every_family_and_the_presets(invoke_json):
    names = {law["name"] for law in invoke_json("laws")["laws"]}
    assert {
        "chinchilla",
        "kaplan",
        "overtraining",
        "data_constrained",
        "power",
    } <= names
    presets = {p["name"] for p in invoke_json("laws", "--presets")["presets"]}
    assert {"hoffmann2022", "besiroglu2024", "kaplan2020", "muennighoff2023"} <= presets


def test_formula_law_from_the_command_line(invoke_json, runs_csv):
    out = invoke_json(
        "fit",
        str(runs_csv),
        "--law",
        "E + A*N**-alpha + B*D**-beta",
        "--bootstrap",
        "0",
    )
    assert out["params"]["beta"] == pytest.approx(
        example("chinchilla").params["beta"], abs=0.03
    )


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("nan", "missing"),
        ("inf", "finite"),
        ("0", "> 0"),
        ("-3", "> 0"),
        ("abc", "abc"),
    ],
)
def test_bad_loss_value_names_file_column_and_row(invoke, tmp_path, cell, expected):
    path = tmp_path / "bad.csv"
    path.write_text(f"N,D,loss\n1e8,2e9,3.1\n2e8,4e9,{cell}\n4e8,8e9,2.9\n")
    code, out, err = invoke("fit", str(path), "--bootstrap", "0")
    assert code == 1 and out == ""
    assert str(path) in err and "'loss'" in err and "row 2" in err and expected in err
    assert "Traceback" not in err


def test_misspelt_column_is_named_with_a_suggestion(invoke, runs_csv):
    code, _, err = invoke("fit", str(runs_csv), "--N", "param")
    assert code == 1 and "param" in err and "params" in err and "Traceback" not in err


def test_empty_file_and_usage_errors(invoke, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = invoke("fit", str(empty))
    assert code == 1 and "empty" in err
    code, _, _ = invoke("fit", str(empty), "--bootstrap", "many")
    assert code == 2
    code, _, err = invoke("optimal", "--compute", "1e24")
    assert code == 1 and "--preset" in err


def test_one_model_size_is_flagged(invoke_json, tmp_path):
    path = tmp_path / "one.csv"
    D = np.geomspace(1e9, 1e11, 6)
    pd.DataFrame({"N": 1e8, "D": D, "loss": 2.0 + 400 * D**-0.3}).to_csv(
        path, index=False
    )
    out = invoke_json("fit", str(path), "--bootstrap", "0")
    codes = {d["code"] for d in out["diagnostics"]}
    assert {"single_level", "few_runs"} <= codes


def test_missing_or_foreign_fit_file(invoke, tmp_path):
    code, _, err = invoke(
        "predict", "--fit", str(tmp_path / "none.json"), "--N", "1e9", "--D", "1e10"
    )
    assert code == 1 and "no such file" in err and "scalinglab fit" in err
    foreign = tmp_path / "other.json"
    foreign.write_text('{"format": 99}')
    code, _, err = invoke("predict", "--fit", str(foreign), "--N", "1e9", "--D", "1e10")
    assert code == 1 and "not a scalinglab fit file" in err and "Traceback" not in err


def test_outliers_are_reported_as_data_rows_of_the_file(invoke_json, tmp_path):
    truth = example("chinchilla")
    data = simulate(
        get_law("chinchilla"), truth.params, truth.inputs, noise=0.002, seed=0
    )
    frame = pd.DataFrame({"N": data["N"], "D": data["D"], "loss": data["loss"]})
    frame.loc[[2, 5, 8], "loss"] = np.nan  # data rows 3, 6 and 9 are dropped
    frame.loc[13, "loss"] *= 1.3  # data row 14 is a bad run (position 11 after dropna)
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    out = invoke_json("fit", str(path), "--dropna", "--bootstrap", "0")
    (found,) = [d for d in out["diagnostics"] if d["code"] == "outliers"]
    assert found["details"]["rows"] == [14]
    assert "rows 14, 1-based data rows" in found["message"]


@pytest.fixture
def saved_fit(runs_csv, tmp_path):
    """A chinchilla fit with bootstrap draws, saved as `scalinglab fit -o` would."""
    import scalinglab as sl

    frame = pd.read_csv(runs_csv)
    runs = {"N": frame["params"], "D": frame["tokens"], "loss": frame["final_loss"]}
    path = tmp_path / "fit.json"
    sl.fit("chinchilla", runs, bootstrap=40, extrapolation=None).save(path)
    return path


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("value", ["-1e9", "0", "abc", "nan", "-inf"])
def test_predict_refuses_a_bad_input_with_exit_1(invoke, saved_fit, value):
    code, out, err = invoke(
        "predict", "--fit", str(saved_fit), f"--N={value}", "--D", "1e12"
    )
    assert code == 1 and out == ""
    assert err.startswith(("error: --N", "error: N must be a finite number > 0"))
    assert "np.float64" not in err and "Traceback" not in err


def test_predict_table_title_and_json_key_follow_the_level(invoke, saved_fit):
    args = (
        "predict",
        "--fit",
        str(saved_fit),
        "--N",
        "1e9",
        "--D",
        "2e10",
        "--level",
        "0.9",
    )
    code, out, _ = invoke(*args)
    assert code == 0 and "90% interval" in out and "95%" not in out
    code, out, _ = invoke(*args, "--json")
    row = json.loads(out)
    assert "ci90" in row and "ci95" not in row
    assert row["ci90"][0] < row["loss"] < row["ci90"][1]


@pytest.mark.parametrize(
    "args",
    [
        ("fit", "{runs}", "--bootstrap", "-3"),
        ("predict", "--fit", "{fit}", "--N", "1e9", "--D", "1e12", "--level", "1.5"),
        ("optimal", "--fit", "{fit}", "--compute", "1e22", "--level", "0"),
    ],
)
def test_out_of_range_options_are_usage_errors(invoke, runs_csv, saved_fit, args):
    args = [a.format(runs=runs_csv, fit=saved_fit) for a in args]
    code, out, err = invoke(*args)
    assert code == 2 and out == "" and "Traceback" not in err


def test_unknown_extrapolation_is_refused_even_without_bootstrap(invoke, runs_csv):
    code, out, err = invoke(
        "fit", str(runs_csv), "--bootstrap", "0", "--extrapolation", "foo"
    )
    assert code == 1 and out == ""
    assert "--extrapolation must be 'rolling' or 'none'; got 'foo'" in err


def test_optimal_messages_show_plain_numbers(invoke, saved_fit):
    code, _, err = invoke("optimal", "--fit", str(saved_fit), "--compute", "-1")
    assert code == 1 and "compute must be finite and > 0 FLOPs; got -1." in err
    code, _, err = invoke(
        "optimal", "--preset", "besiroglu2024", "--compute", "1e24", "--U", "5e9"
    )
    assert code == 1 and "U is not an input of 'chinchilla'" in err


def test_optimal_warns_when_the_budget_is_beyond_the_data(
    invoke, invoke_json, saved_fit
):
    far = invoke_json("optimal", "--fit", str(saved_fit), "--compute", "1e26")
    found = [d for d in far["diagnostics"] if d["code"] == "extrapolation"]
    assert (
        found
        and found[0]["details"]["input"] == "N"
        and found[0]["details"]["factor"] > 10
    )
    code, out, _ = invoke("optimal", "--fit", str(saved_fit), "--compute", "1e26")
    assert code == 0 and "x the largest fitted N" in out
    inside = invoke_json("optimal", "--fit", str(saved_fit), "--compute", "1e19")
    assert inside["diagnostics"] == []


def test_flags_show_in_help_without_a_value(invoke):
    code, out, _ = invoke("fit", "--help")
    assert code == 0
    for flag in ("--json", "--dropna"):
        assert re.search(rf"{flag}\s+Print|{flag}\s+Drop", out), out
        assert not re.search(rf"{flag}\s+<bool>", out)


def test_bad_cost_model_and_unknown_law_input_are_refused(invoke, saved_fit):
    code, out, err = invoke(
        "optimal",
        "--fit",
        str(saved_fit),
        "--compute",
        "1e24",
        "--flops-per-token",
        "N*0",
    )
    assert code == 1 and out == "" and "cost model gives 0 FLOPs per token" in err
    code, out, err = invoke(
        "predict", "--fit", str(saved_fit), "--N", "1e9", "--D", "1e12", "--at", "x=3"
    )
    assert code == 1 and out == "" and "x is not one of them" in err
