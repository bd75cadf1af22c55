"""External-command runner: template filling, streaming JSONL metrics, failures."""

from __future__ import annotations

import shlex
import sys
import textwrap

import pytest

from scalinglab.errors import ScalinglabError
from scalinglab.run.external import render_command, run_fields, validate_template
from scalinglab.run.store import Study
from scalinglab.run.sweep import run_study
from test_sweep import FakePlan, FakeRun, expected_rows, stored_rows

# A user's own trainer: writes the same rows as the fake trial, one JSON line each.
SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    steps, seed, path, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    with open(path, "a") as out:
        for step in range(1, steps + 1):
            loss = 2.0 + 0.1 * seed + 3.0 / step
            last = step == steps
            row = {"step": step, "tokens": 128.0 * step, "flops": 6e5 * step, "lr": 1e-3,
                   "loss": loss, "eval_loss": loss + 0.05 if step % 5 == 0 or last else None,
                   "wall_time": 0.0}
            out.write(json.dumps(row) + "\\n")
            out.flush()
            time.sleep(0.005)
            if mode == "fail" and step == 3:
                print("diverged: loss is nan", file=sys.stderr)
                sys.exit(3)
    if mode == "garbage":
        open(path, "a").write("not json\\n")
    """
)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "my train.py"  # a space in the path must survive the template
    path.write_text(SCRIPT)
    return path


def command(script, mode="ok"):
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} {{steps}} {{seed}} {{metrics_path}} {mode}"


def test_render_fills_each_word_and_keeps_format_specs():
    fields = {"n_layer": 4, "lr": 0.00123456, "out": "/tmp/a b/m.jsonl"}
    args = render_command("train --layers {n_layer} --lr {lr:.3g} --out '{out}'", fields)
    assert args == ["train", "--layers", "4", "--lr", "0.00123", "--out", "/tmp/a b/m.jsonl"]


def test_run_fields_flatten_the_model_shape():
    spec = {"run_id": "x", "shape": {"n_layer": 2, "d_model": 64}, "lr": 0.01}
    assert run_fields(spec) == {"run_id": "x", "n_layer": 2, "d_model": 64, "lr": 0.01}


def test_unknown_template_field_names_the_available_ones():
    with pytest.raises(ScalinglabError, match=r"unknown field\(s\) \['width'\].*'steps'"):
        validate_template("python t.py {width} {steps}", [FakeRun("a")])


def test_external_command_rows_reach_the_store(tmp_path, script):
    plan = FakePlan((FakeRun("a", seed=0), FakeRun("b", seed=1, steps=13)))
    report = run_study(plan, tmp_path / "s", command=command(script), progress=False)
    assert (report.finished, report.failed) == (2, {})
    assert stored_rows(tmp_path / "s") == expected_rows(plan)  # "loss" read as train_loss
    with Study.open(tmp_path / "s") as study:
        results = {r["run_id"]: r for r in study.runs()}
    assert results["b"]["final_loss"] == pytest.approx(2.1 + 3 / 13 + 0.05, rel=1e-15)
    assert results["b"]["result"]["rows"] == 13


def test_failing_command_fails_the_run_with_its_output(tmp_path, script):
    plan = FakePlan((FakeRun("a"),))
    report = run_study(plan, tmp_path / "s", command=command(script, "fail"), progress=False)
    assert "exited with status 3" in report.failed["a"]
    assert "diverged: loss is nan" in report.failed["a"]
    assert len(stored_rows(tmp_path / "s")["a"]) == 3  # rows before the failure are kept


def test_malformed_metrics_line_is_reported(tmp_path, script):
    plan = FakePlan((FakeRun("a", steps=2),))
    report = run_study(plan, tmp_path / "s", command=command(script, "garbage"), progress=False)
    assert "line 3 is not JSON" in report.failed["a"]
