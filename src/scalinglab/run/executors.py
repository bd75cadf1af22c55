"""Executors: run one trial function per planned run, locally, on a Ray cluster or
on Slurm (:mod:`scalinglab.run.slurm`).

A *trial* is a plain picklable function ``trial(task, emit) -> dict``: it trains
(or launches) one run, calls ``emit(row)`` for every metric row and returns a
small result dict. Executors run trials in worker processes and hand the driver
a stream of events; the driver alone writes the study store. Swapping the
executor changes where trials run, never what they compute.

Events are tuples ``(kind, run_id, payload)``:

``("start", id, {"pid": ...})``
    a worker picked the run up;
``("rows", id, [row, ...])``
    metric rows, in step order;
``("done", id, result)``
    the trial returned; every row it emitted was sent before this event;
``("failed", id, message)``
    the trial raised, or its worker died.

Every worker appends its rows to the task's journal file (flushed) *before*
sending them, so rows in flight when the driver dies are not lost: the next
driver replays the journals (see :mod:`scalinglab.run.store`).

Threads: each trial gets ``task.threads`` CPU threads (default: cores divided by
concurrent workers) so that a pool of trainers does not oversubscribe the cores.
Results are identical across executors when the thread counts are equal.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import ScalinglabError

__all__ = ["Task", "Event", "LocalExecutor", "RayExecutor", "make_executor", "threads_per_worker"]

Event = tuple[str, str, Any]
Emit = Callable[[dict[str, Any]], None]
Trial = Callable[["Task", Emit], dict[str, Any]]

_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class Task:
    """Everything a worker needs to run one planned run.

    Attributes
    ----------
    run_id
        The planned run's stable id.
    spec
        The planned run (a ``PlannedRun`` for the built-in trainer, or a dict).
    threads
        CPU threads the trial may use (``torch.set_num_threads``).
    checkpoint_path, journal_path, log_path
        Files inside the study directory (strings, so tasks pickle anywhere).
    checkpoint_every
        Steps between checkpoints, or None for the trial's default.
    command
        External-command template, or None for the built-in trainer.
    study_dir
        The study directory (external commands write their metrics file there).
    device
        The built-in trainer's device ("cuda" in Slurm jobs that ask for GPUs);
        None keeps the config's ("cpu").
    """

    run_id: str
    spec: Any
    threads: int = 1
    checkpoint_path: str | None = None
    journal_path: str | None = None
    log_path: str | None = None
    checkpoint_every: int | None = None
    command: str | None = None
    study_dir: str | None = None
    device: str | None = None


def threads_per_worker(cores: int, workers: int) -> int:
    """CPU threads per trial so that ``workers`` trials share ``cores`` cores."""
    return max(1, cores // max(1, workers))


def available_cores() -> int:
    """Cores this process may use (respects CPU affinity and container limits)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# -- worker side (runs in the worker processes) ------------------------------------


class _Emitter:
    """Journal each row, then send it to the driver in batches."""

    def __init__(self, task: Task, send: Callable[[Event], None], batch_seconds: float) -> None:
        self.task, self.send, self.batch_seconds = task, send, batch_seconds
        self.buffer: list[dict[str, Any]] = []
        self.last_flush = time.monotonic()
        self.journal = None
        if task.journal_path:
            Path(task.journal_path).parent.mkdir(parents=True, exist_ok=True)
            self.journal = open(task.journal_path, "a", encoding="utf-8")

    def __call__(self, row: dict[str, Any]) -> None:
        row = dict(row)
        if self.journal is not None:
            # One write per row, flushed to the OS: survives the death of this process.
            self.journal.write(json.dumps(row, default=float) + "\n")
            self.journal.flush()
        self.buffer.append(row)
        if time.monotonic() - self.last_flush >= self.batch_seconds:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.send(("rows", self.task.run_id, self.buffer))
            self.buffer = []
        self.last_flush = time.monotonic()

    def close(self) -> None:
        self.flush()
        if self.journal is not None:
            self.journal.close()


def run_task(trial: Trial, task: Task, send: Callable[[Event], None], batch_seconds: float) -> dict:
    """Run one trial with a journalling emitter; all rows are sent before returning."""
    _limit_threads(task.threads)
    emitter = _Emitter(task, send, batch_seconds)
    try:
        result = trial(task, emitter)
    finally:
        emitter.close()
    return dict(result or {})


def _limit_threads(threads: int) -> None:
    for name in _THREAD_ENV:
        os.environ[name] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this worker when the driver dies, so no orphan keeps training."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: orphans notice via os.getppid() in _worker_main
    if os.getppid() != parent:  # the driver died before prctl took effect
        os._exit(1)


def _worker_main(trial: Trial, tasks: Any, events: Any, parent: int) -> None:
    """Worker loop. ``events`` is this worker's own pipe to the driver: a send is
    written synchronously (no feeder thread), so a worker that dies mid-run leaves
    whole messages behind and its pipe reads as closed, never as a torn message
    that would block the driver."""
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    while True:
        task = tasks.get()
        if task is None or os.getppid() != parent:
            return
        events.send(("start", task.run_id, {"pid": os.getpid()}))
        try:
            result = run_task(trial, task, events.send, batch_seconds=0.0)
        except BaseException as error:  # noqa: BLE001 - reported to the driver
            events.send(("failed", task.run_id, _describe(error)))
        else:
            events.send(("done", task.run_id, result))


def _describe(error: BaseException) -> str:
    if isinstance(error, ScalinglabError):
        return str(error)
    return "".join(traceback.format_exception(error)).strip()


# -- local process pool --------------------------------------------------------------


class LocalExecutor:
    """A pool of worker processes on this machine, one run per worker at a time.

    Parameters
    ----------
    workers
        Concurrent runs; default the number of cores (capped by the number of runs).
    threads
        CPU threads per run; default cores // workers.
    """

    name = "local"

    def __init__(self, workers: int | None = None, threads: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise ScalinglabError(f"workers must be >= 1; got {workers}.")
        self.workers, self.threads = workers, threads

    def plan_threads(self, n_tasks: int) -> tuple[int, int]:
        """``(workers, threads per run)`` for ``n_tasks`` runs on this machine."""
        cores = available_cores()
        workers = max(1, min(self.workers or cores, n_tasks))
        return workers, self.threads or threads_per_worker(cores, workers)

    def events(self, trial: Trial, tasks: Sequence[Task]) -> Iterator[Event]:
        """Run ``tasks`` and yield their events; stops the workers when closed."""
        workers, threads = self.plan_threads(len(tasks))
        pool = _Pool(trial, workers)
        try:
            yield from pool.run([replace(t, threads=threads) for t in tasks])
        finally:
            pool.stop()


class _Pool:
    """Worker processes, each fed one task at a time through its own queue and
    reporting through its own pipe (see :func:`_worker_main`)."""

    def __init__(self, trial: Trial, size: int) -> None:
        # spawn: the driver may hold threads (rich, sqlite); fork would copy them half-done.
        self.context = mp.get_context("spawn")
        self.trial, self.size = trial, size
        self.workers: list[tuple[Any, Any, Any]] = []  # (process, task queue, event pipe)
        self.assigned: dict[int, Task] = {}  # worker index -> task in flight

    def _start_worker(self) -> tuple[Any, Any, Any]:
        tasks = self.context.Queue()
        reader, writer = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=_worker_main, args=(self.trial, tasks, writer, os.getpid()), daemon=True
        )
        process.start()
        writer.close()  # the worker holds the only write end: its death closes the pipe
        return process, tasks, reader

    def run(self, tasks: list[Task]) -> Iterator[Event]:
        pending, open_ids = list(reversed(tasks)), {t.run_id for t in tasks}
        self.workers = [self._start_worker() for _ in range(min(self.size, len(tasks)))]
        while open_ids:
            self._assign(pending)
            readers = {id(w[2]): i for i, w in enumerate(self.workers)}
            ready = mp_connection.wait([w[2] for w in self.workers], timeout=0.2)
            if not ready:
                yield from self._reap_dead(open_ids)
                continue
            for reader in ready:
                index = readers[id(reader)]
                try:
                    event = reader.recv()
                except (EOFError, OSError):  # the worker died; its last whole events came first
                    yield from self._replace(index, open_ids)
                    continue
                if event[0] in ("done", "failed"):
                    open_ids.discard(event[1])
                    self.assigned.pop(index, None)
                yield event

    def _assign(self, pending: list[Task]) -> None:
        for index, (process, tasks, _) in enumerate(self.workers):
            if pending and index not in self.assigned:
                self.assigned[index] = pending.pop()
                tasks.put(self.assigned[index])

    def _reap_dead(self, open_ids: set[str]) -> Iterator[Event]:
        for index, (process, _, reader) in enumerate(self.workers):
            if not process.is_alive() and not reader.poll():
                yield from self._replace(index, open_ids)

    def _replace(self, index: int, open_ids: set[str]) -> Iterator[Event]:
        """Start a new worker in place of a dead one; fail the run it had."""
        process, _, reader = self.workers[index]
        _join(process, time.monotonic() + 5.0)
        reader.close()
        task = self.assigned.pop(index, None)
        self.workers[index] = self._start_worker()
        if task is not None and task.run_id in open_ids:
            open_ids.discard(task.run_id)
            yield ("failed", task.run_id, f"worker process died (exit code {process.exitcode})")

    def stop(self) -> None:
        for process, tasks, _ in self.workers:
            if process.is_alive():
                tasks.put(None)
        deadline = time.monotonic() + 2.0
        for process, _, _ in self.workers:
            if self.assigned or not _join(process, deadline):
                process.terminate()
        for process, tasks, reader in self.workers:
            if not _join(process, time.monotonic() + 5.0):
                process.kill()
            tasks.cancel_join_thread()
            reader.close()


def _join(process: Any, deadline: float) -> bool:
    process.join(max(0.0, deadline - time.monotonic()))
    return not process.is_alive()


# -- Ray ---------------------------------------------------------------------------------


def _ray_task(trial: Trial, task: Task, channel: Any) -> dict:
    """Body of the Ray remote function: rows go to the driver through a Ray queue."""
    channel.put(("start", task.run_id, {"pid": os.getpid()}))
    return run_task(trial, task, channel.put, batch_seconds=0.25)


class RayExecutor:
    """Run each trial as a Ray task (one task per run, ``threads`` CPUs each).

    Parameters
    ----------
    address
        None starts (or reuses) a local Ray instance; ``"auto"`` joins the cluster
        this machine belongs to; ``"ray://host:10001"`` connects to a remote one. If
        Ray is already initialised in this process, that instance is used.
    threads
        CPUs per run; default cluster CPUs divided by min(runs, cluster CPUs).

    Notes
    -----
    Checkpoints and journals are written at the study directory's path on the
    node that runs the trial: resume across nodes needs a shared file system.
    """

    name = "ray"

    def __init__(self, address: str | None = None, threads: int | None = None) -> None:
        self.address, self.threads = address, threads

    def plan_threads(self, n_tasks: int) -> tuple[int, int]:
        """``(concurrent runs, threads per run)`` on the connected cluster."""
        ray = _import_ray()
        cpus = int(ray.cluster_resources().get("CPU", 1))
        threads = self.threads or threads_per_worker(cpus, min(n_tasks, cpus))
        return max(1, cpus // threads), threads

    def events(self, trial: Trial, tasks: Sequence[Task]) -> Iterator[Event]:
        """Submit every task and yield their events as they arrive."""
        ray = _import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        try:
            yield from self._run(ray, trial, list(tasks))
        finally:
            if started_here:
                ray.shutdown()

    def _run(self, ray: Any, trial: Trial, tasks: list[Task]) -> Iterator[Event]:
        from ray.util.queue import Queue

        channel = Queue(actor_options={"num_cpus": 0})
        threads = self.plan_threads(len(tasks))[1]
        remote = ray.remote(_ray_task).options(num_cpus=threads, max_retries=0)
        refs = {remote.remote(trial, replace(t, threads=threads), channel): t.run_id for t in tasks}
        try:
            while refs:
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=0.2)
                yield from _drain(channel)
                for ref in ready:
                    yield _outcome(ray, ref, refs.pop(ref))
        finally:
            for ref in refs:
                ray.cancel(ref, force=True)
            ray.kill(channel.actor)


def _drain(channel: Any) -> Iterator[Event]:
    while not channel.empty():
        yield from channel.get_nowait_batch(channel.qsize())


def _outcome(ray: Any, ref: Any, run_id: str) -> Event:
    try:
        return ("done", run_id, ray.get(ref))
    except Exception as error:  # noqa: BLE001 - RayTaskError wraps the trial's error
        cause = getattr(error, "cause", None) or error
        return ("failed", run_id, _describe(cause))


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as error:
        raise ScalinglabError(
            "the ray executor needs Ray: `pip install 'scalinglab[ray]'` (or `pip install ray`)."
        ) from error
    return ray


def make_executor(
    name: str, *, address: str | None = None, workers: int | None = None,
    threads: int | None = None, options: dict[str, Any] | None = None,
) -> Any:
    """The executor called ``name`` (``"local"``, ``"ray"`` or ``"slurm"``).

    ``options`` are the Slurm executor's submitit parameters (slurm only).
    """
    if options and name != "slurm":
        raise ScalinglabError("--executor-options apply to the slurm executor only; add --executor slurm.")
    if name == "slurm":
        from .slurm import SlurmExecutor

        return SlurmExecutor(options, threads=threads)
    if name == "local":
        if address is not None:
            raise ScalinglabError("--address applies to the ray executor only; add --executor ray.")
        return LocalExecutor(workers=workers, threads=threads)
    if name == "ray":
        return RayExecutor(address=address, threads=threads)
    raise ScalinglabError(f"unknown executor {name!r}; choose 'local', 'ray' or 'slurm'.")
