"""The Slurm executor through submitit's local backend: the same store and resume
semantics as the local pool (a run that fails mid-way resumes from its checkpoint,
no row lost or duplicated)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from scalinglab.errors import ScalinglabError
from scalinglab.run.executors import make_executor
from scalinglab.run.store import Study
from scalinglab.run.sweep import run_study

submitit = pytest.importorskip("submitit", reason="pip install submitit")
cloudpickle = pytest.importorskip("cloudpickle")
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # jobs unpickle it anywhere

LOCAL = {"cluster": "local", "timeout_min": 5}


@dataclass(frozen=True)
class Run:
    run_id: str
    steps: int = 12
    seed: int = 0
    raise_at: int | None = None

    def to_dict(self):
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    runs: tuple

    def to_dict(self):
        return {"runs": [r.to_dict() for r in self.runs]}


def row(spec, step):
    loss = 2.0 + 0.1 * spec["seed"] + 3.0 / step
    return {
        "step": step,
        "tokens": 64.0 * step,
        "flops": 1e5 * step,
        "lr": 1e-3,
        "train_loss": loss,
        "eval_loss": loss if step % 4 == 0 else None,
        "wall_time": 0.0,
    }


def trial(task, emit):
    """Checkpoint every 4 steps; raises once at ``raise_at`` (after its checkpoint)."""
    spec, checkpoint = task.spec.to_dict(), Path(task.checkpoint_path)
    start = json.loads(checkpoint.read_text())["step"] if checkpoint.exists() else 0
    once = Path(task.study_dir) / f"{task.run_id}.raised"
    for step in range(start + 1, spec["steps"] + 1):
        emit(row(spec, step))
        if step % 4 == 0:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            checkpoint.write_text(json.dumps({"step": step}))
        if step == spec["raise_at"] and not once.exists():
            once.touch()
            raise RuntimeError(f"boom at step {step}")
    return {"start": start}


def stored(study_dir):
    with Study.open(study_dir) as study:
        out: dict[str, list] = {}
        for r in study.metric_rows():
            out.setdefault(r.pop("run_id"), []).append(r)
        return out, {r["run_id"]: r for r in study.runs()}


@pytest.mark.timeout(300)
def test_slurm_jobs_store_every_row_once_and_resume_like_the_local_pool(tmp_path):
    plan = Plan((Run("a"), Run("b", seed=1, raise_at=6)))
    first = run_study(
        plan,
        tmp_path / "s",
        executor="slurm",
        executor_options=LOCAL,
        trial=trial,
        progress=False,
    )
    assert (
        first.finished == 1
        and list(first.failed) == ["b"]
        and "boom at step 6" in first.failed["b"]
    )
    again = run_study(
        plan,
        tmp_path / "s",
        executor="slurm",
        executor_options=LOCAL,
        trial=trial,
        progress=False,
    )
    assert (again.ran, again.skipped, again.finished, again.failed) == (1, 1, 2, {})
    rows, runs = stored(tmp_path / "s")
    for run in plan.runs:
        expected = [row(run.to_dict(), s) for s in range(1, 13)]
        assert rows[run.run_id] == expected
    assert runs["b"]["attempts"] == 2 and runs["b"]["final_loss"] == pytest.approx(
        2.1 + 3 / 12
    )
    assert runs["b"]["result"]["start"] == 4  # resumed from its checkpoint
    assert any((tmp_path / "s" / "slurm").iterdir())  # submitit's job folder


def test_executor_options_are_for_slurm_only():
    with pytest.raises(ScalinglabError, match="slurm executor only"):
        make_executor("local", options={"slurm_partition": "gpu"})
    assert (
        make_executor("slurm", options={"cluster": "local", "cpus_per_task": 2}).threads
        == 2
    )


def test_cli_parses_executor_options():
    from scalinglab.cli.runner import _executor_options

    assert _executor_options("slurm_partition=gpu,gpus_per_node=1,cluster=local") == {
        "slurm_partition": "gpu",
        "gpus_per_node": 1,
        "cluster": "local",
    }
    assert _executor_options('{"timeout_min": 60}') == {"timeout_min": 60}
    with pytest.raises(ScalinglabError, match="KEY=VALUE"):
        _executor_options("gpu")


def test_cli_executor_options_need_the_slurm_executor(tmp_path):
    from typer.testing import CliRunner

    from scalinglab.cli import app
    from scalinglab.plan import ladder, save_plan

    plan = save_plan(ladder((3e4, 4.5e4), 2, (1,)), tmp_path / "p.json")
    out = CliRunner().invoke(
        app,
        [
            "run",
            str(plan),
            "--study",
            str(tmp_path / "s"),
            "--executor-options",
            "slurm_partition=gpu",
        ],
    )
    assert out.exit_code == 1 and "slurm executor only" in str(out.exception)
