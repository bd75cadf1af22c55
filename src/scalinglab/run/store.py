"""The study store: one SQLite database (WAL mode) per study directory.

A study directory holds everything a sweep produces::

    DIR/study.sqlite        plan, run states, every metric row, provenance
    DIR/checkpoints/ID.pt   the latest checkpoint of each unfinished run
    DIR/journal/ID.jsonl    the rows each worker emitted, in order (write-ahead log)
    DIR/logs/ID.log         stdout/stderr of external commands

Only the driver writes the database; workers stream their rows to it and also
append them to their run's journal before training goes on. The journal is what
makes resume lossless: a worker may write a checkpoint at step s while rows up
to s are still in flight to the driver, so after a crash the driver first
replays every journal (``INSERT OR IGNORE`` on the ``UNIQUE(run_id, step)`` key)
and only then resumes runs from their checkpoints. Rows a resumed run emits
again are ignored by the same key, so no row is lost or duplicated.

Each run also stores its resolved config (the planned run plus the trainer's
settings or the external command). Resuming with a plan that changes any stored
run raises :class:`PlanChanged` and writes nothing; a plan may add runs.

Run states: ``pending`` -> ``running`` -> ``finished`` | ``failed``. A run found
``running`` when a new driver opens the study was interrupted (crash, SIGKILL,
Ctrl-C); it becomes ``interrupted`` and is resumed. Finished runs are never
redone; failed runs are retried by the next ``scalinglab run``.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._json import jsonable
from ..errors import ScalinglabError
from ._resume import PlanChanged, PlanDiff, diff_configs

__all__ = ["METRIC_COLUMNS", "RUN_STATES", "PlanChanged", "Study", "read_journal"]

DB_NAME = "study.sqlite"
# 2: runs.config, each run's resolved config (studies of version 1 have the spec only)
SCHEMA_VERSION = 2
METRIC_COLUMNS = (
    "step",
    "tokens",
    "flops",
    "lr",
    "train_loss",
    "eval_loss",
    "wall_time",
)
RUN_STATES = ("pending", "running", "interrupted", "finished", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    spec TEXT NOT NULL,
    config TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    started_at REAL,
    finished_at REAL,
    final_loss REAL,
    result TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    step INTEGER NOT NULL,
    tokens REAL, flops REAL, lr REAL, train_loss REAL, eval_loss REAL, wall_time REAL,
    extra TEXT,
    UNIQUE (run_id, step)
);
CREATE TABLE IF NOT EXISTS sessions (
    session INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    ended_at REAL,
    outcome TEXT,
    info TEXT NOT NULL
);
"""


class Study:
    """A study directory and its database.

    Parameters
    ----------
    path
        The study directory. Created by :meth:`create`; :meth:`open` requires it.
    connection
        An open SQLite connection to ``path / "study.sqlite"``.

    Attributes
    ----------
    added
        Runs that :meth:`create` appended to an existing study (its plan extended
        the study's); empty otherwise.

    Examples
    --------
    >>> study = Study.create(tmp, plan_dict, run_specs)  # doctest: +SKIP
    >>> study.insert_rows("run-a", [{"step": 1, "train_loss": 5.2}])  # doctest: +SKIP
    """

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self.added: tuple[str, ...] = ()

    # -- opening -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | Path,
        plan: dict[str, Any],
        runs: list[dict[str, Any]],
        configs: dict[str, dict[str, Any]] | None = None,
    ) -> Study:
        """Open the study at ``path``, creating it for ``plan`` if it does not exist.

        Parameters
        ----------
        path
            The study directory.
        plan
            The plan as a dict (stored for provenance).
        runs
            The plan's runs as dicts, each with a ``run_id``.
        configs
            ``{run_id: resolved config}``: everything that determines the run's
            metrics. A run without one is compared by its dict in ``runs``.

        Raises
        ------
        PlanChanged
            An existing study holds a run whose stored config differs from the
            planned one, or a run the plan lacks. Nothing is written. A plan that
            only adds runs extends the study (they are listed in ``added``).
        """
        _check_unique([r["run_id"] for r in runs])
        configs = {r["run_id"]: (configs or {}).get(r["run_id"], r) for r in runs}
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        study = cls(path, _connect(path / DB_NAME))
        if not study.run_ids():
            study._initialise(plan, runs, configs)
            return study
        diff = study.compare(configs)
        if not diff.compatible:
            study.close()
            raise PlanChanged(str(path), diff)
        study._extend(plan, runs, configs, diff.added)
        return study

    @classmethod
    def open(cls, path: str | Path) -> Study:
        """Open an existing study for reading (status, export) or resuming."""
        path = Path(path)
        if not (path / DB_NAME).is_file():
            raise ScalinglabError(
                f"{path} is not a study directory (no {DB_NAME} in it). Create one with "
                "`scalinglab run PLAN.json --study DIR`."
            )
        return cls(path, _connect(path / DB_NAME))

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _initialise(
        self,
        plan: dict[str, Any],
        runs: list[dict[str, Any]],
        configs: dict[str, dict[str, Any]],
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            db.execute("INSERT INTO meta VALUES ('plan', ?)", (_dumps(plan),))
            db.execute("INSERT INTO meta VALUES ('created_at', ?)", (str(time.time()),))
            _insert_runs(db, runs, configs, start=0)

    def _extend(
        self,
        plan: dict[str, Any],
        runs: list[dict[str, Any]],
        configs: dict[str, dict[str, Any]],
        added: tuple[str, ...],
    ) -> None:
        """Upgrade a version-1 study and append the plan's new runs, atomically."""
        has_config = "config" in self._columns("runs")
        if has_config and not added:
            return
        with self.transaction() as db:
            if not has_config:
                db.execute("ALTER TABLE runs ADD COLUMN config TEXT")
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            if added:
                start = db.execute("SELECT MAX(position) + 1 FROM runs").fetchone()[0]
                new = [r for r in runs if r["run_id"] in added]
                _insert_runs(db, new, configs, start=start)
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('plan', ?)", (_dumps(plan),)
                )
        self.added = added

    def compare(self, configs: dict[str, dict[str, Any]]) -> PlanDiff:
        """How planned run configs differ from the stored ones (reads only).

        A run stored without a config (a study written before configs were kept)
        is compared by its stored spec against the planned config's same fields.

        Parameters
        ----------
        configs
            ``{run_id: resolved config}`` of the plan, in plan order.

        Returns
        -------
        PlanDiff
            Changed and removed stored runs, and the plan's new runs.
        """
        # Through JSON, as stored: tuples become lists, numpy numbers plain numbers.
        configs = json.loads(_dumps(configs))
        stored = self._stored_configs()
        for run_id, (config, is_spec) in stored.items():
            if is_spec and run_id in configs:
                configs[run_id] = _restrict(configs[run_id], config)
        return diff_configs({r: c for r, (c, _) in stored.items()}, configs)

    def _stored_configs(self) -> dict[str, tuple[dict[str, Any], bool]]:
        """``{run_id: (config, True if it is only the spec)}`` in plan order."""
        column = "config" if "config" in self._columns("runs") else "NULL"
        cursor = self._db.execute(
            f"SELECT run_id, spec, {column} FROM runs ORDER BY position"
        )
        return {
            run_id: (json.loads(config or spec), config is None)
            for run_id, spec, config in cursor
        }

    def _columns(self, table: str) -> set[str]:
        return {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}

    # -- paths ---------------------------------------------------------------

    def checkpoint_path(self, run_id: str) -> Path:
        """Where the run's checkpoint lives (inside the study directory)."""
        return self.path / "checkpoints" / f"{run_id}.pt"

    def journal_path(self, run_id: str) -> Path:
        """The run's write-ahead journal of metric rows."""
        return self.path / "journal" / f"{run_id}.jsonl"

    def log_path(self, run_id: str) -> Path:
        """Where an external command's stdout and stderr go."""
        return self.path / "logs" / f"{run_id}.log"

    # -- transactions --------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside commits together or not at all."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- plan and runs -------------------------------------------------------

    def plan(self) -> dict[str, Any]:
        """The stored plan, as saved by :meth:`create`."""
        return json.loads(self._meta("plan"))

    def run_ids(self) -> list[str]:
        """Run ids in plan order."""
        return [
            r[0] for r in self._db.execute("SELECT run_id FROM runs ORDER BY position")
        ]

    def runs(self) -> list[dict[str, Any]]:
        """Every run with its spec, state, attempts, final loss and result."""
        rows = self._db.execute(
            "SELECT run_id, spec, state, attempts, started_at, finished_at, final_loss,"
            " result, error FROM runs ORDER BY position"
        ).fetchall()
        keys = (
            "run_id",
            "spec",
            "state",
            "attempts",
            "started_at",
            "finished_at",
            "final_loss",
            "result",
            "error",
        )
        out = [dict(zip(keys, row)) for row in rows]
        for run in out:
            run["spec"] = json.loads(run["spec"])
            run["result"] = json.loads(run["result"]) if run["result"] else None
        return out

    def states(self) -> dict[str, str]:
        """``{run_id: state}`` for every run."""
        return dict(self._db.execute("SELECT run_id, state FROM runs"))

    def recover_interrupted(self) -> list[str]:
        """Mark runs left ``running`` by a dead driver as ``interrupted``; return their ids."""
        ids = [
            r[0]
            for r in self._db.execute("SELECT run_id FROM runs WHERE state='running'")
        ]
        with self.transaction() as db:
            db.execute("UPDATE runs SET state='interrupted' WHERE state='running'")
        return ids

    def mark_running(self, run_id: str) -> None:
        """A worker has started (or resumed) the run."""
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET state='running', attempts=attempts+1, started_at=?,"
                " error=NULL WHERE run_id=?",
                (time.time(), run_id),
            )

    def mark_finished(
        self, run_id: str, result: dict[str, Any], rows: Iterable[dict[str, Any]] = ()
    ) -> float | None:
        """Store the last rows and the result, and mark the run finished, atomically.

        The final loss is the eval loss of the run's last evaluated metric row.
        """
        with self.transaction() as db:
            _insert_rows(db, run_id, rows)
            final = db.execute(
                "SELECT eval_loss FROM metrics WHERE run_id=? AND eval_loss IS NOT NULL"
                " ORDER BY step DESC LIMIT 1",
                (run_id,),
            ).fetchone()
            final_loss = None if final is None else final[0]
            db.execute(
                "UPDATE runs SET state='finished', finished_at=?, final_loss=?, result=?,"
                " error=NULL WHERE run_id=?",
                (time.time(), final_loss, _dumps(result), run_id),
            )
        return final_loss

    def mark_failed(self, run_id: str, error: str) -> None:
        """The run raised or its worker died; the next ``scalinglab run`` retries it."""
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET state='failed', error=? WHERE run_id=?",
                (error, run_id),
            )

    def mark_interrupted(self, run_ids: Iterable[str]) -> None:
        """The driver stopped (Ctrl-C) while these runs were in flight."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE runs SET state='interrupted' WHERE run_id=? AND state='running'",
                [(r,) for r in run_ids],
            )

    # -- metric rows ---------------------------------------------------------

    def insert_rows(self, run_id: str, rows: Iterable[dict[str, Any]]) -> int:
        """Insert metric rows in one transaction; rows already stored are ignored.

        Returns the number of rows actually added.
        """
        with self.transaction() as db:
            return _insert_rows(db, run_id, rows)

    def replay_journal(self, run_id: str) -> int:
        """Insert every row from the run's journal that the database lacks."""
        return self.insert_rows(run_id, read_journal(self.journal_path(run_id)))

    def metric_rows(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """Metric rows ordered by run (plan order) and step, with extra fields merged in."""
        where, args = ("WHERE m.run_id=?", (run_id,)) if run_id else ("", ())
        cursor = self._db.execute(
            "SELECT m.run_id, m."
            + ", m.".join(METRIC_COLUMNS)
            + ", m.extra FROM metrics m"
            f" JOIN runs r USING (run_id) {where} ORDER BY r.position, m.step",
            args,
        )
        out = []
        for values in cursor:
            row = dict(zip(("run_id", *METRIC_COLUMNS), values[:-1]))
            row.update(json.loads(values[-1]) if values[-1] else {})
            out.append(row)
        return out

    def progress(self) -> dict[str, tuple[int, int | None]]:
        """``{run_id: (rows stored, last step stored or None)}``."""
        cursor = self._db.execute(
            "SELECT r.run_id, COUNT(m.step), MAX(m.step) FROM runs r"
            " LEFT JOIN metrics m USING (run_id) GROUP BY r.run_id"
        )
        return {run_id: (count, last) for run_id, count, last in cursor}

    # -- provenance ----------------------------------------------------------

    def start_session(self, info: dict[str, Any]) -> int:
        """Record one driver invocation (executor, command, versions, host)."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO sessions (started_at, info) VALUES (?, ?)",
                (time.time(), _dumps(info)),
            )
        return int(cursor.lastrowid)

    def end_session(self, session: int, outcome: str) -> None:
        """Close a session record with its outcome (finished, interrupted, failed)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE sessions SET ended_at=?, outcome=? WHERE session=?",
                (time.time(), outcome, session),
            )

    def sessions(self) -> list[dict[str, Any]]:
        """Every driver session, oldest first."""
        cursor = self._db.execute(
            "SELECT session, started_at, ended_at, outcome, info FROM sessions ORDER BY session"
        )
        return [
            {
                "session": s,
                "started_at": a,
                "ended_at": e,
                "outcome": o,
                **json.loads(i),
            }
            for s, a, e, o, i in cursor
        ]

    def _meta(self, key: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        if row is None:
            raise ScalinglabError(
                f"study {self.path} has no {key!r} record; is it damaged?"
            )
        return row[0]


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Rows of a journal file; a torn last line (crash mid-write) is skipped."""
    if not path.is_file():
        return []
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # only the line being written when the process died
    return rows


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so every write is explicit.
    db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: durable across process crashes
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.executescript(_SCHEMA)
    return db


def _insert_rows(
    db: sqlite3.Connection, run_id: str, rows: Iterable[dict[str, Any]]
) -> int:
    records = [_row_record(run_id, row) for row in rows]
    before = db.total_changes
    db.executemany(
        "INSERT OR IGNORE INTO metrics (run_id, "
        + ", ".join(METRIC_COLUMNS)
        + ", extra)"
        " VALUES (?" + ", ?" * (len(METRIC_COLUMNS) + 1) + ")",
        records,
    )
    return db.total_changes - before


def _row_record(run_id: str, row: dict[str, Any]) -> tuple[Any, ...]:
    if row.get("step") is None:
        raise ScalinglabError(
            f"run {run_id}: a metric row has no 'step'; got {sorted(row)}."
        )
    values = [int(row["step"])] + [_number(row.get(k)) for k in METRIC_COLUMNS[1:]]
    extra = {k: v for k, v in row.items() if k not in METRIC_COLUMNS and k != "run_id"}
    return (run_id, *values, _dumps(extra) if extra else None)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _dumps(value: Any) -> str:
    """Stored JSON: keys sorted, non-finite floats kept (``NaN``, ``Infinity``)."""
    return json.dumps(jsonable(value, keep_nonfinite=True), sort_keys=True)


def _check_unique(ids: list[str]) -> None:
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ScalinglabError(
            f"the plan has duplicate run ids {repeated}; every run needs its own id."
        )


def _insert_runs(
    db: sqlite3.Connection,
    runs: list[dict[str, Any]],
    configs: dict[str, dict[str, Any]],
    *,
    start: int,
) -> None:
    db.executemany(
        "INSERT INTO runs (run_id, position, spec, config) VALUES (?, ?, ?, ?)",
        [
            (r["run_id"], start + i, _dumps(r), _dumps(configs[r["run_id"]]))
            for i, r in enumerate(runs)
        ],
    )


def _restrict(config: dict[str, Any], like: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``config`` whose keys ``like`` has (comparing a legacy spec)."""
    return {k: v for k, v in config.items() if k in like}
