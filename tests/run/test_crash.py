"""SIGKILL the sweep driver mid-sweep, restart it, and check exactly-once runs and rows.

Uses the real trainer on a real text (Python's own module sources, always present),
so resuming from checkpoints is checked against an uninterrupted reference sweep
bit for bit.
"""

from __future__ import annotations

import inspect
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from scalinglab.plan import ladder, save_plan
from scalinglab.run.store import Study
from scalinglab.run.sweep import run_study

pytest.importorskip(
    "torch", reason="the built-in trainer needs torch: pip install torch==2.13.0"
)


def real_text(path):
    import email.message
    import json as j
    import pathlib
    import textwrap
    import typing

    path.write_text(
        "\n\n".join(
            inspect.getsource(m) for m in (j, pathlib, textwrap, typing, email.message)
        )
    )
    return path


def tiny_plan(corpus):
    return ladder(
        (3e4, 4.5e4),
        2,
        (3, 6),
        corpus=str(corpus),
        eval_tokens=2048,
        evals_per_run=4,
        lr_scale=0.3,
    )


def poll(db_path):
    """(finished run ids, {running run: last stored step}) read straight from the database."""
    if not db_path.exists():
        return set(), {}
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        states = dict(db.execute("SELECT run_id, state FROM runs"))
        steps = dict(
            db.execute("SELECT run_id, MAX(step) FROM metrics GROUP BY run_id")
        )
    except sqlite3.OperationalError:  # tables not created yet
        return set(), {}
    finally:
        db.close()
    return (
        {r for r, s in states.items() if s == "finished"},
        {r: steps.get(r) or 0 for r, s in states.items() if s == "running"},
    )


def comparable(study_dir):
    with Study.open(study_dir) as study:
        rows = [
            {k: v for k, v in r.items() if k != "wall_time"}
            for r in study.metric_rows()
        ]
        runs = {r["run_id"]: r for r in study.runs()}
    return rows, runs


@pytest.mark.slow
def test_sigkill_mid_sweep_then_restart_finishes_every_run_once(tmp_path):
    plan = tiny_plan(real_text(tmp_path / "text.txt"))
    plan_path = save_plan(plan, tmp_path / "plan.json")
    study = tmp_path / "study"
    args = [
        sys.executable,
        "-m",
        "scalinglab",
        "run",
        str(plan_path),
        "--study",
        str(study),
        "--workers",
        "2",
        "--threads",
        "1",
        "--checkpoint-every",
        "10",
        "--json",
    ]
    driver = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and driver.poll() is None:
        finished, running = poll(study / "study.sqlite")
        if finished and any(15 <= step for step in running.values()):
            break
        time.sleep(0.05)
    assert driver.poll() is None, driver.stderr.read().decode()
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    finished_before, running_before = poll(study / "study.sqlite")
    # The kill must land mid-sweep: a run finished, another stopped part-way with
    # rows stored (a kill before the first or after the last run tests nothing).
    planned_steps = {r.run_id: r.steps for r in plan.runs}
    partial = {r: s for r, s in running_before.items() if 0 < s < planned_steps[r]}
    assert finished_before, f"the kill came before any run finished: {running_before}"
    assert partial, f"no run was in progress with rows stored: {running_before}"
    assert len(finished_before) < len(plan.runs)
    with Study.open(study) as s:
        finished_at = {
            r["run_id"]: r["finished_at"] for r in s.runs() if r["state"] == "finished"
        }

    report = run_study(
        plan_path, study, workers=2, threads=1, checkpoint_every=10, progress=False
    )
    assert report.finished == report.total == len(plan.runs) and report.failed == {}
    assert report.skipped == len(finished_before)
    assert set(report.resumed) == set(running_before)

    reference = tmp_path / "reference"
    run_study(
        plan, reference, workers=2, threads=1, checkpoint_every=10, progress=False
    )
    rows, runs = comparable(study)
    ref_rows, ref_runs = comparable(reference)
    assert (
        rows == ref_rows
    )  # every metric row once, none lost, resumed runs bit-identical
    for run in plan.runs:
        steps = [r["step"] for r in rows if r["run_id"] == run.run_id]
        assert steps == sorted(set(steps)) and steps[-1] == run.steps
        assert runs[run.run_id]["state"] == "finished"
        assert runs[run.run_id]["final_loss"] == ref_runs[run.run_id]["final_loss"]
    for run_id, when in finished_at.items():  # finished runs were never redone
        assert runs[run_id]["attempts"] == 1 and runs[run_id]["finished_at"] == when
    for run_id, step in running_before.items():  # interrupted runs went on, once more
        assert runs[run_id]["attempts"] == 2
        resumed = runs[run_id]["result"]["resumed_from_step"]
        if step > 10:  # row 11 follows the step-10 checkpoint, so one was written
            assert resumed is not None and resumed >= 10
        else:
            assert resumed is None or resumed >= 10
    with Study.open(study) as s:
        outcomes = [x["outcome"] for x in s.sessions()]
    assert outcomes == [None, "finished"]  # the killed session never closed
    assert json.loads(json.dumps(report.to_dict()))["finished"] == len(plan.runs)
