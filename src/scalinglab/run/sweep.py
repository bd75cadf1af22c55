"""The sweep driver: run a plan into a study directory, resuming whatever was left.

``run_study(plan, "runs/")`` opens (or creates) the study, replays the workers'
journals of an earlier session, skips finished runs, resumes interrupted ones
from their checkpoints, and streams every metric row into the store. It is the
only writer of the study database. Ctrl-C stops the workers, records which runs
were interrupted and re-raises ``KeyboardInterrupt``; the next call resumes.
"""

from __future__ import annotations

import dataclasses
import fcntl
import importlib.metadata
import os
import platform
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import ScalinglabError
from .executors import Event, Task, Trial, make_executor
from .store import DB_NAME, Study

__all__ = [
    "CHECKPOINTS_PER_RUN",
    "SweepReport",
    "builtin_trial",
    "free_study_dir",
    "run_configs",
    "run_study",
]

# default checkpoint_every = steps // 10: lose at most ~10% of a run on a crash
CHECKPOINTS_PER_RUN = 10
# Not part of a run's design: threads per run is how it is executed, not what it is.
_EXECUTION_FIELDS = ("num_threads",)


@dataclass(frozen=True)
class SweepReport:
    """What one call of :func:`run_study` did.

    Attributes
    ----------
    study_dir
        The study directory.
    total, finished
        Planned runs, and runs finished in the study after this call.
    ran, skipped
        Runs completed by this call, and runs already finished before it.
    resumed
        Runs an earlier session left unfinished (they continue from checkpoints).
    failed
        ``{run_id: error message}`` for runs that failed in this call.
    rows_added
        Metric rows this call added to the store (journal replays included).
    added
        Planned runs this call added to an existing study (the plan extended it).
    """

    study_dir: str
    total: int
    finished: int
    ran: int
    skipped: int
    resumed: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    rows_added: int = 0
    added: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field."""
        return dataclasses.asdict(self)


def run_study(
    plan: Any,
    study_dir: str | Path,
    *,
    executor: str = "local",
    address: str | None = None,
    command: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
    checkpoint_every: int | None = None,
    progress: bool = True,
    trial: Trial | None = None,
    executor_options: dict[str, Any] | None = None,
) -> SweepReport:
    """Run every unfinished run of ``plan`` and store its metrics in ``study_dir``.

    Parameters
    ----------
    plan
        A ``Plan`` or the path of a plan file (JSON or YAML).
    study_dir
        The study directory; created if missing, resumed if it exists.
    executor, address
        ``"local"`` (a process pool on this machine) or ``"ray"`` with an optional
        cluster ``address`` (None, ``"auto"`` or ``"ray://host:port"``), or
        ``"slurm"`` (one submitit job per run, :mod:`scalinglab.run.slurm`).
    command
        External-command template (see :mod:`scalinglab.run.external`); None trains
        with the built-in trainer.
    workers, threads
        Concurrent runs and CPU threads per run (defaults: the cores, and cores //
        workers).
    checkpoint_every
        Steps between checkpoints; default ``steps // 10`` per run.
    progress
        Show rich progress bars on stderr (only when it is a terminal).
    trial
        A custom trial function ``trial(task, emit) -> dict`` (advanced, tests).
    executor_options
        Slurm only: parameters for ``submitit.AutoExecutor.update_parameters``
        (``{"slurm_partition": "gpu", "gpus_per_node": 1}``; ``cluster="local"``
        runs the jobs as local processes).

    Returns
    -------
    SweepReport

    Raises
    ------
    PlanChanged
        ``study_dir`` holds a study whose runs this plan changes or drops
        (see :func:`free_study_dir` for a directory it can run into).
    """
    plan = _load(plan)
    study_dir = Path(study_dir)
    runs = {run.run_id: run for run in plan.runs}
    if command is not None:
        from .external import validate_template

        validate_template(command, runs.values())
        if any(getattr(r, "trunk", None) for r in runs.values()):
            raise ScalinglabError(
                "cooldown branches start from the built-in trainer's trunk snapshots; an "
                "external --command cannot run them. Plan without --cooldowns."
            )
    chosen = make_executor(
        executor,
        address=address,
        workers=workers,
        threads=threads,
        options=executor_options,
    )
    configs = run_configs(plan, command=command, trial=trial)
    specs = [r.to_dict() for r in runs.values()]
    with (
        _exclusive(study_dir),
        Study.create(study_dir, plan.to_dict(), specs, configs) as study,
    ):
        return _Driver(
            study, runs, chosen, command, checkpoint_every, trial, progress
        ).run()


def run_configs(
    plan: Any, *, command: str | None = None, trial: Trial | None = None
) -> dict[str, dict[str, Any]]:
    """Each run's resolved config: what the study stores and compares on resume.

    The planned run's fields, plus ``trainer`` (the built-in trainer's
    :class:`~scalinglab.run.config.TrainConfig` settings the plan does not give,
    defaults included: weight decay, betas, clipping, decay shape, device...) or
    ``command`` (an external-command template). A custom ``trial`` adds nothing:
    only the planned fields are known. The thread count is left out: it is how a
    run is executed, not what it computes.

    Parameters
    ----------
    plan
        A ``Plan`` or the path of a plan file.
    command, trial
        As given to :func:`run_study`: they decide which trainer runs the plan.

    Returns
    -------
    dict
        ``{run_id: config}`` in plan order.
    """
    out = {}
    for run in _load(plan).runs:
        config = run.to_dict()
        if command is not None:
            config["command"] = command
        elif trial in (None, builtin_trial):
            config["trainer"] = _trainer_config(run)
        out[run.run_id] = config
    return out


def free_study_dir(
    plan: Any,
    study_dir: str | Path,
    *,
    command: str | None = None,
    trial: Trial | None = None,
) -> Path:
    """The first of ``DIR``, ``DIR-2``, ``DIR-3``, ... that ``plan`` can run into.

    A directory qualifies when it holds no study, or a study this plan resumes
    (every stored run unchanged; the plan may add runs). Nothing is written, so
    the same call with the same plan finds the same directory again.

    Parameters
    ----------
    plan
        A ``Plan`` or the path of a plan file.
    study_dir
        ``DIR``, the directory asked for.
    command, trial
        As given to :func:`run_study` (they are part of each run's config).

    Returns
    -------
    pathlib.Path
    """
    study_dir = Path(study_dir)
    base = study_dir if study_dir.name else study_dir.resolve()  # "." has no name
    configs = run_configs(plan, command=command, trial=trial)
    for n in range(1, 10_000):
        candidate = study_dir if n == 1 else base.with_name(f"{base.name}-{n}")
        if not (candidate / DB_NAME).is_file():
            return candidate
        with Study.open(candidate) as study:
            compatible = study.compare(configs).compatible
        if compatible:
            return candidate
    raise ScalinglabError(f"no free study directory among {study_dir}-2 ... -9999.")


def builtin_trial(task: Task, emit: Any) -> dict[str, Any]:
    """Train ``task.spec`` (a ``PlannedRun``) with the built-in PyTorch trainer."""
    import torch

    from .config import TrainConfig
    from .trainer import train

    torch.set_num_threads(task.threads)
    config = TrainConfig.from_planned_run(task.spec)
    for name in ("num_threads", "threads", "torch_threads"):
        if hasattr(config, name):
            config = dataclasses.replace(config, **{name: task.threads})
    spec, folder = task.spec, Path(task.checkpoint_path or ".").parent
    trunk = getattr(
        spec, "trunk", None
    )  # cooldown branches and their trunk's snapshots
    result = train(
        config,
        emit=emit,
        checkpoint_path=task.checkpoint_path,
        checkpoint_every=task.checkpoint_every,
        device=task.device,
        snapshots={
            s: snapshot_path(folder, task.run_id, s)
            for s in getattr(spec, "snapshot_steps", None) or ()
        },
        branch_from=snapshot_path(folder, trunk, spec.trunk_step) if trunk else None,
    )
    return _as_dict(result)


def snapshot_path(folder: Path, trunk: str, step: int) -> Path:
    """Where a constant-LR trunk keeps its state at a cooldown branch's start."""
    return folder / f"{trunk}@{step}.pt"


def _phases(todo: list[str], runs: dict[str, Any]) -> list[list[str]]:
    """Runs without a trunk first, then cooldown branches (they start from a trunk)."""
    branch = [rid for rid in todo if getattr(runs[rid], "trunk", None)]
    return [p for p in ([rid for rid in todo if rid not in branch], branch) if p]


class _Driver:
    """One session of a sweep: owns the store and consumes the executor's events."""

    def __init__(
        self,
        study: Study,
        runs: dict[str, Any],
        executor: Any,
        command: str | None,
        checkpoint_every: int | None,
        trial: Trial | None,
        progress: bool,
    ) -> None:
        self.study, self.runs, self.executor, self.command = (
            study,
            runs,
            executor,
            command,
        )
        self.checkpoint_every, self.show = checkpoint_every, progress
        self.trial = trial or (_external_trial() if command else builtin_trial)
        self.failed: dict[str, str] = {}
        self.in_flight: set[str] = set()
        self.ran = self.rows_added = 0

    def run(self) -> SweepReport:
        resumed = tuple(self.study.recover_interrupted())
        states = self.study.states()
        todo = [rid for rid in self.runs if states[rid] != "finished"]
        for run_id in todo:  # rows in flight when an earlier driver died
            self.rows_added += self.study.replay_journal(run_id)
        session = self.study.start_session(self._provenance(len(todo)))
        outcome = "interrupted"
        try:
            with _Progress(self.study, self.runs, self.show) as bars:
                for phase in _phases(todo, self.runs):
                    ready = [rid for rid in phase if self._trunk_finished(rid)]
                    self._consume(
                        self.executor.events(self.trial, self._tasks(ready)), bars
                    )
            outcome = "failed" if self.failed else "finished"
        except KeyboardInterrupt:
            self.study.mark_interrupted(self.in_flight)
            raise
        finally:
            self.study.end_session(session, outcome)
        states = self.study.states()
        return SweepReport(
            str(self.study.path),
            len(self.runs),
            sum(s == "finished" for s in states.values()),
            self.ran,
            len(self.runs) - len(todo),
            resumed,
            self.failed,
            self.rows_added,
            self.study.added,
        )

    def _trunk_finished(self, run_id: str) -> bool:
        trunk = getattr(self.runs[run_id], "trunk", None)
        if trunk is None or self.study.states().get(trunk) == "finished":
            return True
        self._handle(
            "failed", run_id, f"its trunk {trunk} did not finish; rerun to resume it."
        )
        return False

    def _tasks(self, todo: list[str]) -> list[Task]:
        return [
            Task(
                run_id=rid,
                spec=self.runs[rid],
                command=self.command,
                checkpoint_path=str(self.study.checkpoint_path(rid)),
                journal_path=str(self.study.journal_path(rid)),
                log_path=str(self.study.log_path(rid)),
                study_dir=str(self.study.path),
                checkpoint_every=self.checkpoint_every
                or _default_every(self.runs[rid]),
            )
            for rid in sorted(todo, key=self._cost, reverse=True)
        ]

    def _cost(self, run_id: str) -> float:
        """Planned FLOPs; the longest runs start first so that the pool ends together."""
        return float(getattr(self.runs[run_id], "C", 0.0) or 0.0)

    def _consume(self, events: Iterator[Event], bars: _Progress) -> None:
        try:
            for kind, run_id, payload in events:
                self._handle(kind, run_id, payload)
                bars.update(kind, run_id, payload)
        finally:
            events.close()  # stops the workers, also on Ctrl-C

    def _handle(self, kind: str, run_id: str, payload: Any) -> None:
        if kind == "start":
            self.study.mark_running(run_id)
            self.in_flight.add(run_id)
        elif kind == "rows":
            self.rows_added += self.study.insert_rows(run_id, payload)
        elif kind == "done":
            journal = self.study.journal_path(run_id)
            self.study.mark_finished(run_id, payload, _journal_rows(journal))
            self.study.checkpoint_path(run_id).unlink(missing_ok=True)
            self.in_flight.discard(run_id)
            self.ran += 1
        elif kind == "failed":
            self.study.mark_failed(run_id, str(payload))
            self.in_flight.discard(run_id)
            self.failed[run_id] = str(payload)

    def _provenance(self, n_todo: int) -> dict[str, Any]:
        return {
            "scalinglab": __version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "argv": sys.argv,
            "executor": self.executor.name,
            "address": getattr(self.executor, "address", None),
            "command": self.command,
            "runs_to_do": n_todo,
            "torch": _version("torch"),
            "ray": _version("ray"),
        }


def _trainer_config(run: Any) -> dict[str, Any]:
    from .config import TrainConfig

    config = TrainConfig.from_planned_run(run).to_record()
    planned = {**run.to_dict(), **run.shape.to_dict()}  # shared fields: shown once
    return {
        k: v
        for k, v in config.items()
        if k not in planned and k not in _EXECUTION_FIELDS
    }


def _journal_rows(path: Path) -> list[dict[str, Any]]:
    from .store import read_journal

    return read_journal(path)


def _external_trial() -> Trial:
    from .external import external_trial

    return external_trial


def _default_every(run: Any) -> int | None:
    steps = getattr(run, "steps", None)
    return max(1, int(steps) // CHECKPOINTS_PER_RUN) if steps else None


def _load(plan: Any) -> Any:
    if isinstance(plan, (str, os.PathLike)):
        from ..plan import load_plan

        return load_plan(plan)
    if not hasattr(plan, "runs") or not hasattr(plan, "to_dict"):
        raise ScalinglabError(
            f"expected a Plan or the path of a plan file; got {type(plan).__name__}. "
            "Make one with `scalinglab plan ladder ... -o PLAN.json`."
        )
    return plan


def _as_dict(result: Any) -> dict[str, Any]:
    if result is None:
        return {}
    if hasattr(result, "to_dict"):
        return dict(result.to_dict())
    if dataclasses.is_dataclass(result):
        return dataclasses.asdict(result)
    return dict(result)


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


@contextmanager
def _exclusive(study_dir: Path) -> Iterator[None]:
    """One driver per study: a second ``scalinglab run`` on it fails fast."""
    study_dir.mkdir(parents=True, exist_ok=True)
    with open(study_dir / ".lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise ScalinglabError(
                f"another `scalinglab run` is using study {study_dir}; wait for it to finish "
                "or stop it first (a killed driver releases the study at once)."
            ) from error
        yield


class _Progress:
    """Rich progress bars: one for the sweep, one per run in flight."""

    def __init__(self, study: Study, runs: dict[str, Any], show: bool) -> None:
        self.runs, self.bars, self.tasks = runs, None, {}
        if show and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TimeElapsedColumn,
            )

            self.bars = Progress(
                "{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            done = sum(s == "finished" for s in study.states().values())
            self.sweep = self.bars.add_task(
                "sweep (runs)", total=len(runs), completed=done
            )

    def __enter__(self) -> _Progress:
        if self.bars is not None:
            self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bars is not None:
            self.bars.stop()

    def update(self, kind: str, run_id: str, payload: Any) -> None:
        if self.bars is None:
            return
        if kind == "start":
            steps = getattr(self.runs[run_id], "steps", None)
            self.tasks[run_id] = self.bars.add_task(f"  {run_id}", total=steps)
        elif kind == "rows" and run_id in self.tasks and payload:
            row = payload[-1]
            tokens = f"  {row['tokens']:.3g} tokens" if "tokens" in row else ""
            self.bars.update(
                self.tasks[run_id],
                completed=row.get("step", 0),
                description=f"  {run_id}{tokens}",
            )
        elif kind in ("done", "failed"):
            if run_id in self.tasks:
                self.bars.remove_task(self.tasks.pop(run_id))
            self.bars.advance(self.sweep, 1 if kind == "done" else 0)
