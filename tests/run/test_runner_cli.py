"""CLI contract of plan ladder / plan isoflop / run / status / export (JSON keys, files, exits)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from scalinglab.data import read_runs
from scalinglab.fit import fit
from scalinglab.plan import load_plan
from scalinglab.run.sweep import run_study

TRUTH = {"E": 1.2, "A": 60.0, "B": 90.0, "alpha": 0.35, "beta": 0.3}


def chinchilla_trial(task, emit):
    """Stands in for the trainer: the eval loss follows a known Chinchilla law exactly."""
    run = task.spec
    for step in range(1, run.steps, max(1, run.steps // 5)):
        emit(
            {"step": step, "tokens": step * run.batch_tokens, "train_loss": 5.0 / step}
        )
    loss = (
        TRUTH["E"]
        + TRUTH["A"] * run.N ** -TRUTH["alpha"]
        + TRUTH["B"] * run.D ** -TRUTH["beta"]
    )
    emit({"step": run.steps, "tokens": run.D, "train_loss": loss, "eval_loss": loss})
    return {"final": loss}


def test_plan_ladder_json_and_file(invoke, tmp_path):
    path = tmp_path / "plan.json"
    code, out, err = invoke(
        "plan",
        "ladder",
        "--N",
        "1e6..3e7",
        "--sizes",
        "6",
        "--tokens-per-param",
        "5,10,20,40",
        "-o",
        str(path),
        "--json",
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["path"] == str(path) and payload["kind"] == "ladder"
    assert len(payload["runs"]) == 24 and payload["warnings"] == []
    assert load_plan(path).to_dict() == {
        k: v for k, v in payload.items() if k != "path"
    }
    run = payload["runs"][0]
    assert run["C"] == 6 * run["N"] * run["D"] and run["N_non_embedding"] < run["N"]


def test_plan_warnings_go_to_stderr_and_yaml_is_written(invoke, tmp_path):
    path = tmp_path / "plan.yaml"
    code, out, err = invoke(
        "plan",
        "ladder",
        "--N",
        "1e5..2e5",
        "--sizes",
        "2",
        "--tokens-per-param",
        "20",
        "-o",
        str(path),
    )
    assert code == 0
    assert "warning: collinear design" in err and "wrote 2 runs" in out
    assert len(yaml.safe_load(path.read_text())["runs"]) == 2


def test_plan_isoflop_json(invoke, tmp_path):
    code, out, err = invoke(
        "plan", "isoflop", "--budgets", "1e14..1e16", "--points", "7", "--json"
    )
    assert code == 0, err
    runs = json.loads(out)["runs"]
    assert len(runs) == 21 and len({r["budget"] for r in runs}) == 3


def test_bad_ranges_exit_1_with_a_message(invoke):
    code, _, err = invoke("plan", "ladder", "--N", "3e7..1e6")
    assert code == 1 and "LOW must be below HIGH" in err


def test_status_export_and_fit_recover_the_law_behind_the_study(invoke, tmp_path):
    plan_path = tmp_path / "plan.json"
    assert (
        invoke(
            "plan",
            "ladder",
            "--N",
            "1e5..3e6",
            "--sizes",
            "4",
            "--tokens-per-param",
            "5,10,20",
            "-o",
            str(plan_path),
        )[0]
        == 0
    )
    study = tmp_path / "study"
    report = run_study(
        plan_path, study, trial=chinchilla_trial, workers=2, progress=False
    )
    assert report.finished == 12

    code, out, _ = invoke("status", str(study), "--json")
    status = json.loads(out)
    assert status["total"] == 12 and status["counts"] == {"finished": 12}
    assert {r["state"] for r in status["runs"]} == {"finished"}
    assert all(r["progress"] == 1.0 for r in status["runs"])

    csv = tmp_path / "runs.csv"
    code, out, _ = invoke("export", str(study), "-o", str(csv), "--json")
    assert code == 0 and json.loads(out)["rows"] == 12
    frame = pd.read_csv(csv)
    assert list(frame.columns[:5]) == ["run", "N", "D", "C", "loss"]
    for column in (
        "N_non_embedding",
        "C_exact",
        "lr",
        "batch_tokens",
        "n_layer",
        "d_model",
    ):
        assert column in frame
    plan = load_plan(plan_path)
    assert list(frame["N"]) == [r.N for r in plan.runs]
    result = fit("chinchilla", read_runs(csv), bootstrap=0)
    for name, value in TRUTH.items():
        assert result.params[name] == pytest.approx(value, rel=1e-3)

    curves = tmp_path / "curves.csv"
    assert invoke("export", str(study), "-o", str(curves), "--curves")[0] == 0
    rows = pd.read_csv(curves)
    expected = sum(len(range(1, r.steps, max(1, r.steps // 5))) + 1 for r in plan.runs)
    assert len(rows) == expected and not rows.duplicated(["run", "step"]).any()
    assert rows.groupby("run")["eval_loss"].count().eq(1).all()


def test_status_of_a_missing_study_exits_1(invoke, tmp_path):
    code, _, err = invoke("status", str(tmp_path / "nothing"))
    assert code == 1 and "not a study directory" in err


def study_files(path):
    return {p: p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_run_with_a_changed_plan_exits_1_naming_runs_and_fields(
    invoke, tmp_path, monkeypatch
):
    from scalinglab.run import sweep

    monkeypatch.setattr(sweep, "builtin_trial", chinchilla_trial)  # the CLI's trainer
    plans = {}
    for seed in (0, 1):
        plans[seed] = tmp_path / f"plan{seed}.json"
        args = ("--N", "1e5..3e5", "--sizes", "2", "--tokens-per-param", "5,10")
        code, _, err = invoke(
            "plan", "ladder", *args, "--seed", str(seed), "-o", str(plans[seed])
        )
        assert code == 0, err
    study = tmp_path / "study"
    code, _, err = invoke("run", str(plans[0]), "--study", str(study), "--workers", "1")
    assert code == 0, err
    before = study_files(study)

    code, out, err = invoke("run", str(plans[1]), "--study", str(study))
    assert code == 1 and out == "" and "Traceback" not in err
    assert "4 run(s) differ" in err and "--new-study" in err
    for run in load_plan(plans[1]).runs:
        assert f"\n  {run.run_id}: seed 0 -> 1\n" in err  # the one field that differs
    assert study_files(study) == before  # nothing in the store changed

    code, out, err = invoke(
        "run", str(plans[1]), "--study", str(study), "--new-study", "--json"
    )
    assert code == 0, err
    assert f"running in {study}-2" in err
    assert json.loads(out)["study_dir"] == f"{study}-2"
    assert study_files(study) == before
    code, out, _ = invoke(
        "run", str(plans[1]), "--study", str(study), "--new-study", "--json"
    )
    assert code == 0 and json.loads(out)["skipped"] == 4  # the same command resumes it
