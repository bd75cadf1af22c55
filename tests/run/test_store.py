"""The study store: WAL mode, exactly-once metric rows, run states, journal replay."""

from __future__ import annotations

import json
import sqlite3

import pytest

from scalinglab.errors import ScalinglabError
from scalinglab.run.store import Study, read_journal

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
