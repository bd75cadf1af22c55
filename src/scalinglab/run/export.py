"""Read a study: its status, the run table ``fit`` reads, and every metric row.

Cooldown trunks (runs with ``snapshot_steps``) are left out of the run table:
each of their branches is one row, with ``trunk`` and ``trunk_step`` columns.

``run_table(DIR)`` has one row per finished run with the columns ``scalinglab
fit`` reads by default (``run``, ``N``, ``D``, ``C``, ``loss``) followed by the
plan's columns (``N_non_embedding``, ``C_exact``, ``lr``, ``batch_tokens``, the
model shape, ...). ``loss`` is the run's final held-out (eval) loss in nats per
token; ``N`` counts all parameters, ``C`` is ``6 N D`` and ``C_exact`` the exact
training FLOPs recorded by the planner.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ScalinglabError
from .store import METRIC_COLUMNS, Study

__all__ = ["study_status", "run_table", "curves_table", "export_study", "ExportSummary"]

FIT_COLUMNS = ("run", "N", "D", "C", "loss")
# copied from the plan onto every row (batch_tokens: for critical-batch on curves)
CURVE_RUN_COLUMNS = ("N", "N_non_embedding", "D", "C", "batch_tokens")


def study_status(study_dir: str | Path) -> dict[str, Any]:
    """Progress of every run: state, steps done of steps planned, final loss.

    Returns
    -------
    dict
        ``{"study", "total", "counts": {state: n}, "runs": [...]}``; each run has
        ``run_id``, ``N``, ``D``, ``state``, ``step``, ``steps``, ``progress``
        (0..1), ``rows``, ``final_loss``, ``attempts`` and ``error``.
    """
    with Study.open(study_dir) as study:
        progress = study.progress()
        runs = [_status_row(run, *progress[run["run_id"]]) for run in study.runs()]
    counts: dict[str, int] = {}
    for run in runs:
        counts[run["state"]] = counts.get(run["state"], 0) + 1
    return {"study": str(study_dir), "total": len(runs), "counts": counts, "runs": runs}


def _status_row(run: dict[str, Any], rows: int, last_step: int | None) -> dict[str, Any]:
    spec, steps = run["spec"], run["spec"].get("steps")
    done = steps if run["state"] == "finished" else (last_step or 0)
    return {
        "run_id": run["run_id"], "N": spec.get("N"), "D": spec.get("D"), "state": run["state"],
        "step": last_step, "steps": steps, "progress": done / steps if steps else None,
        "rows": rows, "final_loss": run["final_loss"], "attempts": run["attempts"],
        "error": _first_line(run["error"]),
    }


def run_table(study_dir: str | Path, *, include_unfinished: bool = False) -> pd.DataFrame:
    """One row per run: ``run, N, D, C, loss``, then the plan's columns and ``state``.

    Unfinished runs are left out unless ``include_unfinished`` (their ``loss`` is NaN).
    """
    with Study.open(study_dir) as study:
        runs = study.runs()
    records = [
        {"run": r["run_id"], **_flatten(r["spec"]), "loss": r["final_loss"], "state": r["state"]}
        for r in runs
        if (include_unfinished or r["state"] == "finished")
        and not r["spec"].get("snapshot_steps")  # a cooldown trunk: its branches are the rows
    ]
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return pd.DataFrame(columns=[*FIT_COLUMNS, "state"])
    frame = frame.drop(columns=["run_id"], errors="ignore")
    if "tokens_per_param" not in frame and {"N", "D"} <= set(frame):
        frame["tokens_per_param"] = frame["D"] / frame["N"]
    frame["loss"] = frame["loss"].astype(float)
    return frame[[*_present(frame, FIT_COLUMNS), *_others(frame, FIT_COLUMNS)]]


def curves_table(study_dir: str | Path) -> pd.DataFrame:
    """Every metric row of every run: ``run, step, tokens, flops, lr, train_loss,
    eval_loss, wall_time`` (plus any extra keys a trainer emitted, e.g. the gradient
    noise columns) and the run's planned ``N``, ``N_non_embedding``, ``D``, ``C``,
    ``batch_tokens``."""
    with Study.open(study_dir) as study:
        specs = {r["run_id"]: r["spec"] for r in study.runs()}
        rows = study.metric_rows()
    frame = pd.DataFrame.from_records(rows, columns=None if rows else ["run_id", *METRIC_COLUMNS])
    frame = frame.rename(columns={"run_id": "run"})
    for name in CURVE_RUN_COLUMNS:
        frame[name] = [specs[run].get(name) for run in frame["run"]]
    leading = ("run", *METRIC_COLUMNS)
    return frame[[*_present(frame, leading), *_others(frame, leading)]]


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_study` wrote."""

    path: str
    rows: int
    columns: tuple[str, ...]
    curves: bool
    left_out: tuple[str, ...]  # unfinished runs not in the run table

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field."""
        return asdict(self)


def export_study(study_dir: str | Path, output: str | Path, *, curves: bool = False) -> ExportSummary:
    """Write the run table (or with ``curves`` every metric row) to CSV, TSV or Parquet."""
    frame = curves_table(study_dir) if curves else run_table(study_dir)
    left_out: tuple[str, ...] = ()
    if not curves:
        status = study_status(study_dir)["runs"]
        left_out = tuple(r["run_id"] for r in status if r["state"] != "finished")
    _write(frame, Path(output))
    return ExportSummary(str(output), len(frame), tuple(frame.columns), curves, left_out)


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix in (".csv", ".tsv"):
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    else:
        raise ScalinglabError(
            f"cannot write {path}: expected a .csv, .tsv or .parquet file name; got {suffix!r}."
        )


def _flatten(spec: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in spec.items():
        if isinstance(value, dict):
            flat.update(_flatten(value))  # shape fields become n_layer, d_model, ...
        elif isinstance(value, (list, tuple)):
            flat[key] = json.dumps(value)
        else:
            flat[key] = value
    return flat


def _present(frame: pd.DataFrame, names: tuple[str, ...]) -> list[str]:
    return [n for n in names if n in frame.columns]


def _others(frame: pd.DataFrame, names: tuple[str, ...]) -> list[str]:
    return [c for c in frame.columns if c not in names]


def _first_line(text: str | None) -> str | None:
    if not text:
        return None
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if "Traceback" in lines[0] else lines[0]
