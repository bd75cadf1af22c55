"""The sweep driver and the local executor, with a fast deterministic fake trial.

The fake trial stands in for the trainer with the same contract: rows through
``emit``, a checkpoint every ``checkpoint_every`` steps, resume from it, and rows
after the checkpoint re-emitted after a crash.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from scalinglab.run.executors import available_cores, threads_per_worker
from scalinglab.run.store import PlanChanged, Study
from scalinglab.run.sweep import free_study_dir, run_configs, run_study


@dataclass(frozen=True)
class FakeRun:
    run_id: str
    steps: int = 20
    seed: int = 0
    crash_at: int | None = None  # the worker dies (os._exit) once, at this step
    raise_at: int | None = None  # the trial raises once, at this step
    sleep: float = 0.0

    def to_dict(self):
        return asdict(self)


@dataclass(frozen=True)
class FakePlan:
    runs: tuple

    def to_dict(self):
        return {"runs": [r.to_dict() for r in self.runs]}


def fake_row(spec, step):
    """Deterministic metrics: eval every 5 steps and at the end."""
    last = step == spec["steps"]
    loss = 2.0 + 0.1 * spec["seed"] + 3.0 / step
    return {
        "step": step,
        "tokens": 128.0 * step,
        "flops": 6e5 * step,
        "lr": 1e-3,
        "train_loss": loss,
        "eval_loss": loss + 0.05 if step % 5 == 0 or last else None,
        "wall_time": 0.0,
    }


def fake_trial(task, emit):
    spec = task.spec.to_dict()
    checkpoint = Path(task.checkpoint_path)
    start = json.loads(checkpoint.read_text())["step"] if checkpoint.exists() else 0
    once = Path(task.study_dir) / f"{task.run_id}.failed-once"
    for step in range(start + 1, spec["steps"] + 1):
        time.sleep(spec["sleep"])
        emit(fake_row(spec, step))
        if step in (spec["crash_at"], spec["raise_at"]) and not once.exists():
            once.touch()
            if step == spec["crash_at"]:
                os._exit(7)
            raise RuntimeError(f"boom at step {step}")
        if step % task.checkpoint_every == 0:
            tmp = checkpoint.with_suffix(".tmp")
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"step": step}))
            os.replace(tmp, checkpoint)
    return {
        "threads": task.threads,
        "omp": os.environ["OMP_NUM_THREADS"],
        "start": start,
    }


def expected_rows(plan):
    return {
        r.run_id: [fake_row(r.to_dict(), s) for s in range(1, r.steps + 1)]
        for r in plan.runs
    }


def stored_rows(study_dir):
    with Study.open(study_dir) as study:
        out = {}
        for row in study.metric_rows():
            out.setdefault(row.pop("run_id"), []).append(row)
        return out


def sweep(plan, path, **options):
    return run_study(
        plan, path, trial=fake_trial, progress=False, checkpoint_every=4, **options
    )


PLAN = FakePlan(
    (FakeRun("a", seed=0), FakeRun("b", seed=1, steps=13), FakeRun("c", seed=2))
)


def test_sweep_stores_every_row_once_and_never_redoes_finished_runs(tmp_path):
    report = sweep(PLAN, tmp_path / "s", workers=2)
    assert (report.total, report.finished, report.ran, report.failed) == (3, 3, 3, {})
    assert report.rows_added == 20 + 13 + 20
    assert stored_rows(tmp_path / "s") == expected_rows(PLAN)
    again = sweep(PLAN, tmp_path / "s", workers=2)
    assert (again.ran, again.skipped, again.rows_added) == (0, 3, 0)
    with Study.open(tmp_path / "s") as study:
        runs = study.runs()
        assert [r["attempts"] for r in runs] == [1, 1, 1]
        assert [r["final_loss"] for r in runs] == [
            pytest.approx(2.0 + 0.1 * seed + 3.0 / steps + 0.05, rel=1e-15)
            for seed, steps in ((0, 20), (1, 13), (2, 20))
        ]
        assert [s["outcome"] for s in study.sessions()] == ["finished", "finished"]
        assert not any(study.checkpoint_path(r["run_id"]).exists() for r in runs)


def test_workers_split_the_cores_between_them(tmp_path):
    sweep(PLAN, tmp_path / "s", workers=2)
    with Study.open(tmp_path / "s") as study:
        results = [r["result"] for r in study.runs()]
    threads = threads_per_worker(available_cores(), 2)
    assert {r["threads"] for r in results} == {threads}
    assert {r["omp"] for r in results} == {str(threads)}


def test_worker_death_fails_the_run_and_next_sweep_resumes_it(tmp_path):
    plan = FakePlan((FakeRun("a", crash_at=10), FakeRun("b", seed=1)))
    first = sweep(plan, tmp_path / "s", workers=1)
    assert list(first.failed) == ["a"] and "exit code 7" in first.failed["a"]
    assert first.finished == 1  # "b" still ran after the worker was replaced
    second = sweep(plan, tmp_path / "s", workers=1)
    assert (second.ran, second.skipped, second.failed) == (1, 1, {})
    assert stored_rows(tmp_path / "s") == expected_rows(plan)
    with Study.open(tmp_path / "s") as study:
        result = {r["run_id"]: r["result"] for r in study.runs()}["a"]
    assert result["start"] == 8  # resumed from the step-8 checkpoint, not from scratch


def test_trial_exception_is_recorded_with_its_message(tmp_path):
    plan = FakePlan((FakeRun("a", raise_at=3),))
    report = sweep(plan, tmp_path / "s")
    assert "RuntimeError: boom at step 3" in report.failed["a"]
    with Study.open(tmp_path / "s") as study:
        assert study.states() == {"a": "failed"}
        assert "boom" in study.runs()[0]["error"]
    assert sweep(plan, tmp_path / "s").finished == 1
    assert stored_rows(tmp_path / "s") == expected_rows(plan)


def test_a_changed_plan_is_refused_before_any_run_and_new_study_finds_a_free_dir(
    tmp_path,
):
    sweep(PLAN, tmp_path / "s", workers=1)
    reseeded = FakePlan((FakeRun("a", seed=5), *PLAN.runs[1:]))
    with pytest.raises(PlanChanged, match="a: seed 0 -> 5"):
        sweep(reseeded, tmp_path / "s", workers=1)
    with Study.open(tmp_path / "s") as study:
        assert len(study.sessions()) == 1  # the refused call never started a session
    assert free_study_dir(PLAN, tmp_path / "s", trial=fake_trial) == tmp_path / "s"
    fresh = free_study_dir(reseeded, tmp_path / "s", trial=fake_trial)
    assert fresh == tmp_path / "s-2" and not fresh.exists()
    assert sweep(reseeded, fresh, workers=1).finished == 3
    assert (
        free_study_dir(reseeded, tmp_path / "s", trial=fake_trial) == fresh
    )  # found again: resumable
    assert stored_rows(fresh)["a"] == expected_rows(reseeded)["a"]


def test_a_plan_with_more_runs_runs_only_the_new_ones(tmp_path):
    sweep(PLAN, tmp_path / "s", workers=1)
    bigger = FakePlan((*PLAN.runs, FakeRun("d", seed=3, steps=7)))
    report = sweep(bigger, tmp_path / "s", workers=1)
    assert (report.added, report.ran, report.skipped, report.total) == (("d",), 1, 3, 4)
    assert stored_rows(tmp_path / "s") == expected_rows(bigger)


TRAINER_OWN = ("min_lr_ratio", "decay_fraction", "weight_decay", "beta1", "beta2")
TRAINER_OWN += ("grad_clip", "device", "deterministic")


def test_stored_config_holds_the_resolved_trainer_settings():
    from scalinglab.plan import ladder
    from scalinglab.run.config import TrainConfig

    plan = ladder((3e4, 4.5e4), 2, (3,))
    configs = run_configs(plan)
    trainer = configs[plan.runs[0].run_id]["trainer"]
    assert trainer == {  # the trainer's own settings; lr, steps, shape... are planned
        "batch_size": plan.runs[0].batch_tokens // plan.runs[0].seq_len,
        **{k: TrainConfig.__dataclass_fields__[k].default for k in TRAINER_OWN},
    }
    external = run_configs(plan, command="python train.py {lr}")
    assert external[plan.runs[0].run_id]["command"] == "python train.py {lr}"
    assert "trainer" not in external[plan.runs[0].run_id]


def test_a_changed_trainer_default_is_a_changed_run(tmp_path):
    from scalinglab.plan import ladder

    plan = ladder((3e4, 4.5e4), 2, (3,))
    older = run_configs(plan)  # as if stored by a version with another default
    for config in older.values():
        config["trainer"]["weight_decay"] = 0.05
    specs = [r.to_dict() for r in plan.runs]
    Study.create(tmp_path / "s", plan.to_dict(), specs, older).close()
    with pytest.raises(PlanChanged) as refused:
        run_study(plan, tmp_path / "s", progress=False)
    assert refused.value.diff.changed == {
        r.run_id: {"trainer.weight_decay": (0.05, 0.1)} for r in plan.runs
    }
