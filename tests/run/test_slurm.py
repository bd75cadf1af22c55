"""The Slurm executor through submitit's local backend: the same store and resume
semantics as the local pool (a run that fails mid-way resumes from its checkpoint,
no row lost or duplicated)."""

from __future__ import annotations

import dataclasses
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


@pytest.mark.parametrize(
    ("options", "device"),
    [
        ({}, "cpu"),
        ({"gpus_per_node": 1}, "cuda"),
        ({"slurm_gpus_per_task": "2"}, "cuda"),
        ({"slurm_gres": "gpu:a100:1"}, "cuda"),
        ({"gpus_per_node": 0}, "cpu"),
        ({"gpus_per_node": 1, "device": "auto"}, "auto"),
    ],
)
def test_jobs_that_ask_for_gpus_train_on_cuda(options, device):
    executor = make_executor("slurm", options={"cluster": "local", **options})
    assert executor.device == device and "device" not in executor.options


def test_an_unknown_device_is_refused():
    with pytest.raises(ScalinglabError, match="device must be one of"):
        make_executor("slurm", options={"device": "tpu"})


def real_text(path):
    import inspect
    import json as json_module
    import pathlib
    import textwrap

    sources = (inspect.getsource(m) for m in (json_module, pathlib, textwrap))
    path.write_text("\n\n".join(sources))
    return path


def tiny_plan(tmp_path):
    from scalinglab.plan import ladder

    corpus = real_text(tmp_path / "text.txt")
    return ladder(
        (3e4, 4.5e4),
        2,
        (3, 6),
        corpus=str(corpus),
        eval_tokens=2048,
        evals_per_run=4,
        lr_scale=0.3,
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_gpu_job_without_a_gpu_fails_with_the_trainers_message(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: the job would train on it")
    plan = tiny_plan(tmp_path)
    plan = dataclasses.replace(plan, runs=plan.runs[:1])
    report = run_study(
        plan,
        tmp_path / "s",
        executor="slurm",
        executor_options={**LOCAL, "gpus_per_node": 1},
        progress=False,
    )
    (message,) = report.failed.values()
    assert "device 'cuda' was requested but torch sees no CUDA GPU" in message


def job_pids(folder):
    """Process ids of the local jobs: each job's controller (submitit's local job id is
    its process id) and the task processes it started, which run the training."""
    controllers = {int(p.name.split("_")[0]) for p in folder.glob("*_submitted.pkl")}
    return controllers | {
        pid for pid, parent in _parents().items() if parent in controllers
    }


def _parents() -> dict[int, int]:
    """Parent process id of every process (Linux /proc)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while listed
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    return parents


def running_steps(db_path):
    import sqlite3

    if not db_path.exists():
        return {}
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        return dict(
            db.execute(
                "SELECT r.run_id, MAX(m.step) FROM runs r JOIN metrics m USING (run_id)"
                " WHERE r.state = 'running' GROUP BY r.run_id"
            )
        )
    except sqlite3.OperationalError:  # tables not created yet
        return {}
    finally:
        db.close()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_builtin_trainer_jobs_killed_mid_run_resume_to_the_local_pools_rows(tmp_path):
    """The real trainer in Slurm jobs (submitit's local backend, job-array options
    given): every job is SIGKILLed once a run has stored rows past its step-10
    checkpoint (a node failure); running the plan again resumes the killed runs from
    their checkpoints. The study then holds exactly the rows and final losses of the
    same plan run by the local process pool, bit for bit."""
    import os
    import signal
    import threading
    import time

    pytest.importorskip("torch")
    plan = tiny_plan(tmp_path)
    options = {**LOCAL, "slurm_array_parallelism": 4, "slurm_partition": "gpu"}
    study = tmp_path / "slurm-study"
    first = []
    driver = threading.Thread(
        target=lambda: first.append(
            run_study(
                plan,
                study,
                executor="slurm",
                executor_options=options,
                checkpoint_every=10,
                progress=False,
            )
        )
    )
    driver.start()
    deadline = time.monotonic() + 600
    steps = {r.run_id: r.steps for r in plan.runs}
    while time.monotonic() < deadline and driver.is_alive():
        running = running_steps(study / "study.sqlite")
        if any(15 <= step < steps[r] - 2 for r, step in running.items()):
            break
        time.sleep(0.05)
    assert driver.is_alive(), "the sweep ended before any run reached step 15"
    killed_at = running_steps(study / "study.sqlite")
    for pid in job_pids(study / "slurm"):
        try:
            os.kill(pid, signal.SIGKILL)  # a node failure: controller and task die
        except ProcessLookupError:  # a task that had already ended
            pass
    driver.join()
    (report,) = first
    assert report.failed and report.finished + len(report.failed) == len(plan.runs)

    again = run_study(
        plan, study, executor="slurm", executor_options=options, progress=False
    )
    assert (again.finished, again.failed) == (len(plan.runs), {})
    reference = run_study(
        plan,
        tmp_path / "local",
        workers=2,
        threads=1,
        checkpoint_every=10,
        progress=False,
    )
    assert reference.finished == len(plan.runs)

    def rows(path):
        with Study.open(path) as s:
            stored = [
                {k: v for k, v in r.items() if k != "wall_time"}
                for r in s.metric_rows()
            ]
            return stored, {r["run_id"]: r for r in s.runs()}

    (slurm_rows, slurm_runs), (local_rows, local_runs) = (
        rows(study),
        rows(tmp_path / "local"),
    )
    assert slurm_rows == local_rows
    for run_id in report.failed:
        assert slurm_runs[run_id]["attempts"] == 2
        resumed = slurm_runs[run_id]["result"]["resumed_from_step"]
        if killed_at.get(run_id, 0) > 10:
            assert resumed is not None and resumed >= 10
    for run_id, run in slurm_runs.items():
        assert run["final_loss"] == local_runs[run_id]["final_loss"]
