"""The study store: WAL mode, exactly-once metric rows, run states, journal replay."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from scalinglab.errors import ScalinglabError
from scalinglab.run import store
from scalinglab.run.store import PlanChanged, Study, _dumps, read_journal

RUNS = [{"run_id": "r-small", "N": 1e5}, {"run_id": "r-large", "N": 1e6}]
PLAN = {"kind": "test", "runs": RUNS}


def rows(steps, eval_every=5):
    return [
        {
            "step": s,
            "tokens": 64.0 * s,
            "train_loss": 3.0 + 1.0 / s,
            "eval_loss": 3.1 + 1.0 / s if s % eval_every == 0 else None,
            "grad_norm": 0.5,
        }
        for s in steps
    ]


@pytest.fixture
def study(tmp_path):
    with Study.create(tmp_path / "study", PLAN, RUNS) as opened:
        yield opened


def test_database_is_in_wal_mode_with_unique_run_step(study):
    db = sqlite3.connect(study.path / "study.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(sqlite3.IntegrityError):
        db.executemany(
            "INSERT INTO metrics (run_id, step) VALUES (?, ?)",
            [("r-small", 1), ("r-small", 1)],
        )


def test_rows_are_stored_exactly_once(study):
    assert study.insert_rows("r-small", rows(range(1, 11))) == 10
    assert study.insert_rows("r-small", rows(range(6, 16))) == 5  # 6..10 ignored
    stored = study.metric_rows("r-small")
    assert [r["step"] for r in stored] == list(range(1, 16))
    assert stored[9]["eval_loss"] == pytest.approx(3.1 + 1 / 10, rel=1e-15)
    assert stored[0]["grad_norm"] == 0.5  # unknown keys survive as extras
    assert study.progress()["r-small"] == (15, 15)
    assert study.progress()["r-large"] == (0, None)


def test_finished_run_records_last_eval_loss(study):
    study.mark_running("r-small")
    final = study.mark_finished("r-small", {"tokens_per_s": 1.0}, rows(range(1, 13)))
    assert final == pytest.approx(
        3.1 + 1 / 10, rel=1e-15
    )  # step 10 is the last evaluated
    run = {r["run_id"]: r for r in study.runs()}["r-small"]
    assert (run["state"], run["attempts"], run["result"]) == (
        "finished",
        1,
        {"tokens_per_s": 1.0},
    )


def test_reopening_interrupted_study_marks_running_runs(tmp_path, study):
    study.mark_running("r-large")
    study.close()
    with Study.create(study.path, PLAN, RUNS) as again:
        assert again.recover_interrupted() == ["r-large"]
        assert again.states() == {"r-small": "pending", "r-large": "interrupted"}


def test_a_different_plan_is_refused(study):
    with pytest.raises(ScalinglabError, match="different plan"):
        Study.create(study.path, PLAN, [{"run_id": "other"}])


def test_journal_replay_skips_torn_line_and_duplicates(study):
    journal = study.journal_path("r-large")
    journal.parent.mkdir(parents=True)
    text = "".join(json.dumps(r) + "\n" for r in rows(range(1, 6)))
    journal.write_text(text + '{"step": 6, "train_lo')  # the process died mid-write
    assert read_journal(journal)[-1]["step"] == 5
    study.insert_rows("r-large", rows([1, 2]))
    assert study.replay_journal("r-large") == 3
    assert len(study.metric_rows("r-large")) == 5


def test_row_without_step_is_rejected(study):
    with pytest.raises(ScalinglabError, match="no 'step'"):
        study.insert_rows("r-small", [{"train_loss": 1.0}])


def test_open_requires_a_study(tmp_path):
    with pytest.raises(ScalinglabError, match="not a study directory"):
        Study.open(tmp_path)


def test_failed_transaction_leaves_no_rows(study):
    bad = rows([1, 2]) + [{"train_loss": 1.0}]
    with pytest.raises(ScalinglabError):
        study.insert_rows("r-small", bad)
    assert study.metric_rows("r-small") == []


# -- resuming with a changed plan ---------------------------------------------------

CONFIGS = {
    "r-small": {"run_id": "r-small", "N": 1e5, "lr": 3e-3, "shape": {"d_model": 32}},
    "r-large": {"run_id": "r-large", "N": 1e6, "lr": 1e-3, "shape": {"d_model": 64}},
}


def changed(run_id, **fields):
    return {**CONFIGS, run_id: {**CONFIGS[run_id], **fields}}


def snapshot(path):
    """Every file of the study directory, byte for byte, and the database's rows."""
    files = {p: p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
    db = sqlite3.connect(path / "study.sqlite")
    try:
        return files, list(db.iterdump())
    finally:
        db.close()


@pytest.fixture
def used_study(tmp_path):
    """A closed study with configs: r-small finished with rows, r-large half-way."""
    with Study.create(tmp_path / "study", PLAN, RUNS, CONFIGS) as opened:
        opened.mark_running("r-small")
        opened.mark_finished("r-small", {}, rows(range(1, 11)))
        opened.mark_running("r-large")
        opened.insert_rows("r-large", rows(range(1, 4)))
    return tmp_path / "study"


def test_changed_runs_are_refused_by_name_and_field_and_nothing_changes(used_study):
    before = snapshot(used_study)
    planned = changed("r-small", lr=1e-3)
    planned["r-large"] = {**planned["r-large"], "shape": {"d_model": 96}, "seed": 1}
    with pytest.raises(PlanChanged) as refused:
        Study.create(used_study, PLAN, RUNS, planned)
    assert refused.value.diff.changed == {
        "r-small": {"lr": (3e-3, 1e-3)},
        "r-large": {"seed": ("(absent)", 1), "shape.d_model": (64, 96)},
    }
    assert refused.value.diff.removed == ()
    message = str(refused.value)
    assert "r-small: lr 0.003 -> 0.001" in message
    assert "r-large: seed (absent) -> 1; shape.d_model 64 -> 96" in message
    assert "--new-study" in message and "nothing in the study was changed" in message
    assert snapshot(used_study) == before


def test_dropping_a_run_is_refused_and_nothing_changes(used_study):
    before = snapshot(used_study)
    with pytest.raises(PlanChanged, match="1 stored run.* not in the plan: r-large"):
        Study.create(used_study, PLAN, RUNS[:1], CONFIGS)
    assert snapshot(used_study) == before


def test_same_plan_resumes_and_float_noise_is_not_a_change(used_study):
    noisy = changed("r-small", lr=3e-3 * (1 + 1e-12))
    with Study.create(used_study, PLAN, RUNS, noisy) as again:
        assert again.added == ()
        assert again.states() == {"r-small": "finished", "r-large": "running"}
    with pytest.raises(PlanChanged, match="lr 0.003 -> 0.003003"):
        Study.create(used_study, PLAN, RUNS, changed("r-small", lr=3.003e-3))


def test_a_plan_that_adds_runs_extends_the_study(used_study):
    extra = {"run_id": "r-huge", "N": 1e7}
    plan = {"kind": "test", "runs": [*RUNS, extra]}
    configs = {**CONFIGS, "r-huge": {**extra, "lr": 5e-4}}
    with Study.create(used_study, plan, [extra, *RUNS], configs) as study:
        assert study.added == ("r-huge",)
        assert study.run_ids() == ["r-small", "r-large", "r-huge"]  # appended
        assert study.states()["r-huge"] == "pending"
        assert len(study.metric_rows("r-small")) == 10  # the old runs are untouched
        assert study.plan() == plan
    configs["r-huge"] = {**extra, "lr": 6e-4}
    with pytest.raises(PlanChanged, match="r-huge: lr 0.0005 -> 0.0006"):
        Study.create(used_study, plan, [*RUNS, extra], configs)


def legacy(path):
    """Turn a study into one written before run configs were stored (schema 1)."""
    db = sqlite3.connect(path / "study.sqlite")
    db.execute("ALTER TABLE runs DROP COLUMN config")
    db.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    db.commit()
    db.close()


def test_old_study_without_configs_is_compared_by_its_stored_specs(used_study):
    legacy(used_study)
    before = snapshot(used_study)
    planned = {
        r["run_id"]: {**r, "trainer": {"weight_decay": 0.1}} for r in RUNS
    }  # the specs are unchanged; trainer settings were never stored
    planned["r-large"] = {**planned["r-large"], "N": 2e6}
    with pytest.raises(PlanChanged) as refused:
        Study.create(used_study, PLAN, RUNS, planned)
    assert refused.value.diff.changed == {"r-large": {"N": (1e6, 2e6)}}
    assert snapshot(used_study) == before  # the schema was not upgraded either
    planned["r-large"]["N"] = 1e6
    with Study.create(used_study, PLAN, RUNS, planned) as study:
        assert study.states()["r-small"] == "finished"
        assert study._meta("schema_version") == "2"


def test_duplicate_run_ids_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ScalinglabError, match=r"duplicate run ids \['r-small'\]"):
        Study.create(tmp_path / "study", PLAN, [*RUNS, RUNS[0]])
    assert not (tmp_path / "study").exists()


# -- one JSON sanitiser --------------------------------------------------------------


def former_dumps(value):
    """The store's serialiser before it used ``_json.jsonable`` (json.dumps' default
    hook), kept here to write studies as the older code did."""

    def default(value):
        if hasattr(value, "to_dict"):
            return value.to_dict()
        if hasattr(value, "tolist"):
            return value.tolist()
        if isinstance(value, (set, frozenset)):
            return sorted(value)
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        raise TypeError(f"cannot store {type(value).__name__} in the study: {value!r}")

    return json.dumps(value, sort_keys=True, default=default)


def awkward_payloads():
    """Plans, configs and results as the runner stores them, with every odd value kind."""
    from scalinglab.plan import ladder
    from scalinglab.run.sweep import run_configs

    plan = ladder((3e4, 1e5), 3, (4.0, 8.0), seed=0, lr_scale=0.3)
    configs = run_configs(plan)
    first = next(iter(configs))
    configs[first] = {
        **configs[first],
        "grad_clip": float("inf"),
        "lr": np.float32(3e-3),
        "steps": np.int64(40),
        "warmup": (1, np.float64(0.5)),
        "tags": {"b", "a"},
        "corpus": Path("/data/plays.txt"),
        "flag": np.bool_(True),
        "vector": np.arange(3.0),
    }
    result = {"final_loss": np.float64("nan"), "tokens_per_second": float("inf")}
    return plan.to_dict(), [r.to_dict() for r in plan.runs], configs, result


def test_the_store_writes_what_the_former_serialiser_wrote():
    plan, specs, configs, result = awkward_payloads()
    for payload in (plan, *specs, configs, result):
        assert _dumps(payload) == former_dumps(payload)
    assert '"grad_clip": Infinity' in _dumps(configs)
    assert '"final_loss": NaN' in _dumps(result)


def test_a_study_written_by_the_former_serialiser_resumes_unchanged(
    tmp_path, monkeypatch
):
    plan, specs, configs, result = awkward_payloads()
    path, first = tmp_path / "old", specs[0]["run_id"]
    with monkeypatch.context() as old_code:
        old_code.setattr(store, "_dumps", former_dumps)
        with Study.create(path, plan, specs, configs) as old:
            old.mark_running(first)
            old.mark_finished(first, result, rows(range(1, 6)))
    before = snapshot(path)
    with Study.create(path, plan, specs, configs) as resumed:
        assert resumed.added == ()
        assert resumed.states()[first] == "finished"
    assert snapshot(path) == before
