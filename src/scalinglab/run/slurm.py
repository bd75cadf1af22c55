"""The Slurm executor: one submitit job per planned run, submitted as a job array.

Workers cannot stream to the driver over a pipe here, so the driver follows
each run's journal file (which every worker already writes and flushes before
anything else, see :mod:`scalinglab.run.executors`) and turns new lines into
``rows`` events; a job's end becomes ``done`` or ``failed``. The study store,
checkpoints and resume work as with the local pool: the study directory must be
on a file system the compute nodes share.

``options`` go to ``submitit.AutoExecutor.update_parameters`` unchanged, e.g.
``{"slurm_partition": "gpu", "gpus_per_node": 1, "timeout_min": 120}``; the key
``cluster`` picks submitit's backend (``"slurm"`` by default, ``"local"`` runs
the jobs as local processes, which is how the tests exercise this executor).
Job logs go to ``STUDY/slurm/``.

GPU selection: a job that asks for GPUs (``gpus_per_node``, ``slurm_gpus_per_node``,
``slurm_gpus_per_task`` > 0, or ``slurm_gres`` naming a gpu) trains the built-in
model on ``cuda`` (the GPU Slurm assigned it through ``CUDA_VISIBLE_DEVICES``);
others on the CPU. The key ``device`` (``cpu``, ``cuda`` or ``auto``) overrides.
Job arrays: every call submits its runs as one array; ``slurm_array_parallelism``
caps how many run at once (submitit's default is 256).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import ScalinglabError
from .executors import Event, Task, Trial, _describe, run_task

__all__ = ["SlurmExecutor"]

#: Seconds between polls of the jobs and their journals.
POLL_SECONDS = 0.5
#: Options whose positive value asks for GPUs.
_GPU_OPTIONS = ("gpus_per_node", "slurm_gpus_per_node", "slurm_gpus_per_task")
_DEVICES = ("cpu", "cuda", "auto")


def _job_body(trial: Trial, task: Task) -> dict:
    """What each Slurm job runs: the trial, journalling its rows (nothing is sent)."""
    return run_task(trial, task, lambda event: None, batch_seconds=0.0)


class SlurmExecutor:
    """Run each trial as a Slurm job through submitit (``pip install 'scalinglab[slurm]'``).

    Parameters
    ----------
    options
        Passed to ``submitit.AutoExecutor.update_parameters``; ``cluster`` (slurm,
        local or debug) chooses the backend and ``device`` the built-in trainer's
        device (default: ``cuda`` when the options ask for GPUs, else ``cpu``).
    threads
        CPU threads per run (``cpus_per_task`` unless ``options`` sets it); default 1.
    """

    name = "slurm"

    def __init__(
        self, options: dict[str, Any] | None = None, threads: int | None = None
    ) -> None:
        self.options = dict(options or {})
        self.cluster = self.options.pop("cluster", None)
        self.device = self.options.pop("device", None) or _default_device(self.options)
        if self.device not in _DEVICES:
            raise ScalinglabError(
                f"--executor-options device must be one of {_DEVICES}; got {self.device!r}."
            )
        self.threads = threads or int(self.options.get("cpus_per_task", 1))

    def plan_threads(self, n_tasks: int) -> tuple[int, int]:
        """``(concurrent runs, threads per run)``: every run is its own job."""
        return max(1, n_tasks), self.threads

    def events(self, trial: Trial, tasks: Sequence[Task]) -> Iterator[Event]:
        """Submit the tasks as one job array and yield their events as they happen."""
        if not tasks:
            return
        tasks = [replace(t, threads=self.threads, device=self.device) for t in tasks]
        jobs = self._submit(trial, tasks)
        try:
            yield from _follow(jobs)
        finally:
            for job, _ in jobs.values():
                if not job.done():
                    job.cancel(check=False)

    def _submit(self, trial: Trial, tasks: list[Task]) -> dict[str, tuple[Any, Task]]:
        submitit = _import_submitit()
        folder = Path(tasks[0].study_dir or ".") / "slurm"
        executor = submitit.AutoExecutor(folder=folder, cluster=self.cluster)
        try:
            executor.update_parameters(
                **{"cpus_per_task": self.threads, **self.options}
            )
        except (TypeError, ValueError) as error:
            raise ScalinglabError(
                f"--executor-options rejected by submitit: {error}"
            ) from error
        with executor.batch():  # one job array
            submitted = [
                (executor.submit(_job_body, trial, task), task) for task in tasks
            ]
        return {task.run_id: (job, task) for job, task in submitted}


def _default_device(options: dict[str, Any]) -> str:
    """``cuda`` when the job asks for GPUs, else ``cpu``."""
    gpus = any(_positive(options.get(k)) for k in _GPU_OPTIONS)
    return "cuda" if gpus or "gpu" in str(options.get("slurm_gres", "")) else "cpu"


def _positive(value: Any) -> bool:
    try:
        return int(value) > 0
    except (TypeError, ValueError):
        return False


def _follow(jobs: dict[str, tuple[Any, Task]]) -> Iterator[Event]:
    offsets = dict.fromkeys(jobs, 0)
    started: set[str] = set()
    while jobs:
        for run_id in list(jobs):
            job, task = jobs[run_id]
            done = job.done()
            if run_id not in started and (
                done or job.state not in ("PENDING", "UNKNOWN")
            ):
                started.add(run_id)
                yield ("start", run_id, {"job_id": job.job_id})
            rows, offsets[run_id] = _new_rows(task.journal_path, offsets[run_id])
            if rows:
                yield ("rows", run_id, rows)
            if done:
                del jobs[run_id]
                yield _outcome(job, run_id)
        if jobs:
            time.sleep(POLL_SECONDS)


def _new_rows(path: str | None, offset: int) -> tuple[list[dict], int]:
    """Complete journal lines after byte ``offset``, and the offset after them."""
    if not path or not Path(path).is_file():
        return [], offset
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read()
    complete = data[: data.rfind(b"\n") + 1]
    rows = [json.loads(line) for line in complete.splitlines() if line.strip()]
    return rows, offset + len(complete)


def _outcome(job: Any, run_id: str) -> Event:
    try:
        return ("done", run_id, job.result())
    except Exception as error:  # noqa: BLE001 - submitit wraps the job's error
        return ("failed", run_id, _describe(error))


def _import_submitit() -> Any:
    try:
        import submitit
    except ImportError as error:
        raise ScalinglabError(
            "the slurm executor needs submitit: `pip install 'scalinglab[slurm]'` "
            "(or `pip install submitit`)."
        ) from error
    return submitit
