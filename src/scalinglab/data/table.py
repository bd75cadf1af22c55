"""The validated run table every fit and analysis starts from.

:func:`read_runs` reads a file or a DataFrame, maps the user's columns onto the
canonical ``N`` (parameters), ``D`` (tokens), ``C`` (FLOPs), ``loss`` and ``run``
(plus optional ``U``, unique tokens, and ``step``), parses unit suffixes,
derives D from C = 6 N D or C from D, checks every value, and records what it
assumed. Bad data raises :class:`~scalinglab.errors.InputError` naming the
file, column and rows; nothing is silently dropped or repaired.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, ScalinglabError, ScalinglabWarning
from ..io import RawTable, read_table
from . import _validate as check
from ._columns import CANONICAL, missing_column_error, normalise, resolve_columns
from .conventions import Conventions

__all__ = ["RunTable", "read_runs"]

FLOAT_COLUMNS = ("N", "D", "C", "loss", "U", "step")
# Beyond this factor between C and 6ND the columns probably use different units.
_C_RATIO_WARN = 3.0
_C_EXACT_RTOL = 1e-6


@dataclass(frozen=True, eq=False)
class RunTable:
    """Validated training runs: one row per run, or per checkpoint of a run.

    Attributes
    ----------
    frame : pandas.DataFrame
        Canonical columns ``N``, ``D``, ``C``, ``loss`` (float64) and ``run``
        (str); optional ``U`` and ``step`` (float64); then the user's other
        columns unchanged. Rows sharing a ``run`` are checkpoints of one run.
    source : str
        The file path as given, or ``"<DataFrame>"``.
    mapping : dict
        Canonical name -> the original column name it was read from.
    conventions : Conventions
        How N, C and the loss are counted.
    notes : tuple of str
        What was derived or assumed, e.g. ``"D derived as C / (6 N) for all 245 rows"``.
    row_numbers : numpy.ndarray
        For each row, its number in the source as a user sees it.
    row_convention : str
        What ``row_numbers`` count, e.g. ``"1-based data rows, header excluded"``.
    """

    frame: pd.DataFrame
    source: str
    mapping: dict[str, str]
    conventions: Conventions
    notes: tuple[str, ...] = ()
    row_numbers: np.ndarray | None = field(default=None, repr=False)
    row_convention: str = "1-based rows"

    def __post_init__(self) -> None:
        if self.row_numbers is None:
            object.__setattr__(self, "row_numbers", np.arange(1, len(self.frame) + 1))

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        mapped = ", ".join(f"{k}={v!r}" for k, v in self.mapping.items())
        return (
            f"RunTable({len(self)} rows, {self.n_runs} runs, source={self.source!r}, "
            f"{mapped}, conventions={self.conventions})"
        )

    @property
    def n_runs(self) -> int:
        """Number of distinct runs."""
        return int(self.frame["run"].nunique())

    def has(self, name: str) -> bool:
        """Whether the table has column ``name`` (canonical or the user's)."""
        return name in self.frame.columns

    def array(self, name: str) -> np.ndarray:
        """A float64 copy of column ``name``.

        Raises
        ------
        InputError
            If the column is absent or not numeric.
        """
        if not self.has(name):
            raise InputError(
                f"the run table has no column {name!r}; it has "
                f"{', '.join(repr(str(c)) for c in self.frame.columns)}.",
                source=self.source,
                column=name,
            )
        try:
            return self.frame[name].to_numpy(dtype=np.float64, copy=True)
        except (TypeError, ValueError):
            raise InputError(
                f"column {name!r} is not numeric, so it has no float values.",
                source=self.source,
                column=name,
            ) from None

    def runs(self) -> np.ndarray:
        """Integer run index per row, 0..n_runs-1 in order of first appearance."""
        codes, _ = pd.factorize(self.frame["run"], sort=False)
        return codes.astype(np.int64)

    def subset(self, mask: object) -> RunTable:
        """The rows where boolean ``mask`` is true, with the same metadata.

        Raises
        ------
        ScalinglabError
            If ``mask`` is not boolean with one entry per row, or keeps no rows.
        """
        keep = np.asarray(mask)
        if keep.dtype != bool or keep.shape != (len(self),):
            raise ScalinglabError(
                f"subset needs a boolean mask with one entry per row ({len(self)}); "
                f"got dtype {keep.dtype} and shape {keep.shape}."
            )
        return self._take(keep, f"subset kept {int(keep.sum())} of {len(self)} rows")

    def query(self, expr: str) -> RunTable:
        """The rows matching a pandas query, e.g. ``"N >= 1e9 and loss < 3"``.

        Column names with spaces go in backticks: ``"`Model Size` > 1e9"``.
        """
        try:
            kept = self.frame.query(expr).index
        except Exception as err:  # pandas raises many types for a bad expression
            columns = ", ".join(str(c) for c in self.frame.columns)
            raise InputError(
                f"cannot evaluate the query {expr!r}: {err}. Columns: {columns}; "
                "write names with spaces in backticks.",
                source=self.source,
            ) from None
        keep = np.zeros(len(self), dtype=bool)
        keep[np.asarray(kept, dtype=np.int64)] = True
        return self._take(
            keep, f"query {expr!r} kept {int(keep.sum())} of {len(self)} rows"
        )

    def final(self) -> RunTable:
        """The last checkpoint of each run: its row with the largest ``step``, or ``D``
        when there is no step column (the later row wins a tie).

        A table with one row per run is returned unchanged.
        """
        if self.n_runs == len(self):
            return self
        key = "step" if self.has("step") else "D"
        last = (
            self.frame.sort_values(key, kind="stable")
            .groupby("run", sort=False)
            .tail(1)
        )
        keep = np.zeros(len(self), dtype=bool)
        keep[last.index.to_numpy()] = True
        return self._take(
            keep,
            f"final checkpoint (largest {key}) of each of {self.n_runs} "
            f"runs kept: {int(keep.sum())} of {len(self)} rows",
        )

    def with_inputs(self, inputs: Mapping[str, str]) -> RunTable:
        """The table with law input ``NAME`` read from column ``COLUMN`` for each pair.

        This is how a law takes any column (the CLI's ``--input NAME=COLUMN``):
        ``with_inputs({"P": "streams"})`` adds a float column ``P`` holding
        ``streams``. The values must be finite numbers; the mapping is recorded
        (and enters :meth:`data_hash`).

        Raises
        ------
        InputError
            A missing column, text or missing or infinite values (naming the rows),
            or a NAME that is a canonical column (map those with ``--N`` etc.).
        """
        frame, mapping, notes = self.frame.copy(), dict(self.mapping), list(self.notes)
        where = check.Where(self.source, self.row_numbers, self.row_convention)
        for name, column in inputs.items():
            frame[name] = self._input_column(name, column, where)
            mapping[name] = column
            if name != column:
                notes.append(f"law input {name} read from column {column!r}")
        return replace(self, frame=frame, mapping=mapping, notes=tuple(notes))

    def _input_column(self, name: str, column: str, where: check.Where) -> np.ndarray:
        if name in CANONICAL:
            raise InputError(
                f"{name} is a run-table column; map it with --{name} {column} "
                "instead of --input.",
                source=self.source,
            )
        values = self.array(column)
        bad = ~np.isfinite(values)
        if bad.any():
            raise where.error(
                f"law input {name} must be a finite number; got "
                f"{', '.join(f'{v:g}' for v in values[bad][:3])}. "
                "Fix or remove these rows (--where can select the others).",
                column=column,
                mask=bad,
            )
        return values

    def describe(self) -> dict:
        """JSON-safe overview: rows, runs, distinct N; ranges of N, D, C, loss, D/N."""
        ranges = {name: self.array(name) for name in ("N", "D", "C", "loss")}
        ranges["tokens_per_param"] = ranges["D"] / ranges["N"]
        return {
            "n_rows": len(self),
            "n_runs": self.n_runs,
            "n_model_sizes": int(np.unique(ranges["N"]).size),
            "ranges": {k: [float(v.min()), float(v.max())] for k, v in ranges.items()},
            "conventions": self.conventions.to_dict(),
        }

    def _take(self, keep: np.ndarray, note: str) -> RunTable:
        if not keep.any():
            raise InputError(
                f"{note}; nothing is left to work with.", source=self.source
            )
        return replace(
            self,
            frame=self.frame[keep].reset_index(drop=True),
            notes=(*self.notes, note),
            row_numbers=self.row_numbers[keep],
        )

    def data_hash(self) -> str:
        """SHA-256 of the canonical columns' names and values.

        The same values give the same hash whatever file format they came from;
        the order of rows matters, the user's extra columns do not.
        """
        digest = hashlib.sha256()
        extra = [name for name in self.mapping if name not in CANONICAL]
        for name in (*CANONICAL, *extra):
            if name not in self.frame.columns:
                continue
            digest.update(name.encode() + b"\0")
            column = self.frame[name]
            if name == "run":
                digest.update("\x1f".join(column.astype(str)).encode())
            else:
                digest.update(column.to_numpy(dtype="<f8").tobytes())
            digest.update(b"\0")
        return digest.hexdigest()

    def provenance(self) -> dict:
        """JSON-safe record of where the data came from and what was assumed."""
        return {
            "source": self.source,
            "mapping": dict(self.mapping),
            "conventions": self.conventions.to_dict(),
            "notes": list(self.notes),
            "data_hash": self.data_hash(),
            "n_rows": len(self),
            "n_runs": self.n_runs,
        }


def read_runs(
    source: str | Path | pd.DataFrame | RunTable,
    *,
    N: str | None = None,
    D: str | None = None,
    C: str | None = None,
    loss: str | None = None,
    run: str | None = None,
    U: str | None = None,
    step: str | None = None,
    N_kind: str = "unknown",
    loss_unit: str = "nats",
    columns: Mapping[str, str] | None = None,
    dropna: bool = False,
    needs_compute: bool = True,
    needs_N: bool = True,
) -> RunTable:
    """Read and validate a table of training runs.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame or RunTable
        A ``.csv``, ``.tsv``, ``.parquet``, ``.jsonl`` or ``.json`` file
        (optionally ``.gz``), or a DataFrame. A RunTable is returned unchanged.
    N, D, C, loss, run, U, step : str, optional
        The user's column for each canonical quantity. When omitted, the
        canonical name and then common aliases are looked up case-insensitively
        (e.g. ``params``, ``tokens``, ``flops``, ``eval_loss``, ``run_id``).
    N_kind : {"unknown", "total", "non_embedding", "active"}
        What N counts.
    loss_unit : str
        ``"nats"`` (default), ``"bits"``, ``"bits_per_byte"`` or another unit;
        units containing "normalized" or "relative" allow losses <= 0.
    columns : mapping, optional
        Canonical name -> user column, the same as the keywords (for configs).
    dropna : bool
        Drop rows with a missing value in a mapped column (and say how many in
        ``notes``) instead of raising.
    needs_compute : bool
        Require ``D`` or ``C`` (default). False reads a table without either, for
        a law of ``N`` and other inputs (e.g. experts, parallel streams).
    needs_N : bool
        Require ``N`` (default). False reads a table without it, for a law of
        ``D`` alone (e.g. ``rectified``: fine-tuning data size); C is then
        neither derived nor checked against 6 N D.

    Returns
    -------
    RunTable

    Raises
    ------
    InputError
        Unreadable file, missing or ambiguous column, text in a numeric column,
        or values that are missing, infinite, or not positive; the message
        names the file, column and rows.

    Examples
    --------
    >>> import pandas as pd
    >>> runs = read_runs(pd.DataFrame({"params": ["70M", "1.3B"],
    ...                                "flops": [4.2e18, 1.56e20],
    ...                                "loss": [3.2, 2.6]}))
    >>> runs.array("D").round()
    array([1.e+10, 2.e+10])
    """
    if isinstance(source, RunTable):
        return source
    conventions = Conventions(N=N_kind, loss=loss_unit)
    raw = _raw_table(source)
    explicit = _explicit_mapping(
        columns, N=N, D=D, C=C, loss=loss, run=run, U=U, step=step
    )
    mapping, notes = resolve_columns(
        list(raw.frame.columns), explicit, source=raw.source
    )
    notes = [*raw.notes, *notes]
    _require(mapping, raw, needs_compute, needs_N)
    if "N" in mapping:
        conventions = _N_kind_from_name(conventions, mapping["N"], notes)
    return _build(raw, mapping, conventions, notes, dropna=dropna)


def _raw_table(source: str | Path | pd.DataFrame) -> RawTable:
    if isinstance(source, pd.DataFrame):
        raw = _raw_from_frame(source)
    elif isinstance(source, (str, os.PathLike)):
        raw = read_table(source)
    else:
        raise ScalinglabError(
            "read_runs reads a file path or a pandas DataFrame; "
            f"got {type(source).__name__}."
        )
    if len(raw.frame) == 0:
        raise InputError("the table has a header but no data rows.", source=raw.source)
    return raw


def _raw_from_frame(frame: pd.DataFrame) -> RawTable:
    index = frame.index
    if pd.api.types.is_integer_dtype(index.dtype) and index.is_unique:
        rows, convention = index.to_numpy(), "DataFrame index labels"
    else:
        rows, convention = (
            np.arange(1, len(frame) + 1),
            "1-based row positions in the DataFrame",
        )
    return RawTable(
        frame.reset_index(drop=True).copy(), rows, convention, "<DataFrame>"
    )


def _explicit_mapping(
    columns: Mapping[str, str] | None, **keywords: str | None
) -> dict:
    explicit = dict(keywords)
    for canonical, original in (columns or {}).items():
        if canonical not in CANONICAL:
            raise ScalinglabError(
                f"columns= maps unknown name {canonical!r}; "
                f"the names are {', '.join(CANONICAL)}."
            )
        if explicit.get(canonical) not in (None, original):
            raise ScalinglabError(
                f"{canonical} is given twice: {canonical}={explicit[canonical]!r} and "
                f"columns[{canonical!r}]={original!r}; keep one."
            )
        explicit[canonical] = original
    return explicit


def _require(
    mapping: dict[str, str],
    raw: RawTable,
    needs_compute: bool = True,
    needs_N: bool = True,
) -> None:
    columns = list(raw.frame.columns)
    for canonical in ("N", "loss") if needs_N else ("loss",):
        if canonical not in mapping:
            raise missing_column_error(columns, canonical, raw.source)
    if needs_compute and "D" not in mapping and "C" not in mapping:
        err = missing_column_error(columns, "D", raw.source)
        err.args = (
            f"{err.args[0]} Or give a compute column (--C; aliases flops, compute) "
            "and D is derived as C / (6 N).",
        )
        raise err


def _N_kind_from_name(
    conventions: Conventions, column: str, notes: list[str]
) -> Conventions:
    """Take a column name such as ``n_nonembed`` as evidence of the N convention."""
    name = normalise(column)
    if re.search(r"non_?emb|non_?vocab", name):
        kind = "non_embedding"
    elif "active" in name:
        kind = "active"
    elif "total" in name:
        kind = "total"
    else:
        return conventions
    if conventions.N == "unknown":
        notes.append(
            f"N counted as {kind!r} parameters, inferred from the column name "
            f"{column!r}; pass N_kind to state it"
        )
        return replace(conventions, N=kind)
    if conventions.N != kind:
        message = (
            f"N_kind={conventions.N!r} was given but the N column {column!r} suggests "
            f"{kind!r} parameters; check the counting convention"
        )
        notes.append(message)
        warnings.warn(message + ".", ScalinglabWarning, stacklevel=3)
    return conventions


def _build(
    raw: RawTable,
    mapping: dict[str, str],
    conventions: Conventions,
    notes: list[str],
    *,
    dropna: bool,
) -> RunTable:
    where = check.Where(raw.source, raw.row_numbers, raw.row_convention)
    values = {
        name: check.to_float(raw.frame[mapping[name]], name, mapping[name], where)
        for name in FLOAT_COLUMNS
        if name in mapping
    }
    if "run" in mapping:
        values["run"], run_missing = check.run_ids(raw.frame[mapping["run"]])
    else:
        run_missing = np.zeros(len(raw.frame), dtype=bool)
    keep = _missing_rows(values, run_missing, mapping, where, dropna, notes)
    raw = RawTable(
        raw.frame[keep].reset_index(drop=True),
        raw.row_numbers[keep],
        raw.row_convention,
        raw.source,
    )
    values = {name: array[keep] for name, array in values.items()}
    where = check.Where(raw.source, raw.row_numbers, raw.row_convention)
    _check_values(values, mapping, conventions, where)
    conventions = _fill_compute(values, conventions, notes, where)
    if "run" not in mapping:
        values["run"] = np.array([str(r) for r in raw.row_numbers], dtype=object)
        notes.append(f"no run column: each row is its own run ({len(raw.frame)} runs)")
    frame = _canonical_frame(raw.frame, values, mapping, notes)
    _note_duplicates(frame, where, notes)
    return RunTable(
        frame,
        raw.source,
        dict(mapping),
        conventions,
        tuple(notes),
        raw.row_numbers,
        raw.row_convention,
    )


def _missing_rows(
    values: dict,
    run_missing: np.ndarray,
    mapping: dict,
    where: check.Where,
    dropna: bool,
    notes: list[str],
) -> np.ndarray:
    per_column = {name: np.isnan(a) for name, a in values.items() if name != "run"}
    per_column["run"] = run_missing
    missing = np.logical_or.reduce(list(per_column.values()))
    if not missing.any():
        return np.ones(len(missing), dtype=bool)
    if not dropna:
        name = next(n for n in CANONICAL if n in per_column and per_column[n].any())
        raise check.missing_error(per_column[name], name, mapping[name], where)
    if missing.all():
        raise InputError(
            "every row has a missing value; nothing is left after dropna.",
            source=where.source,
        )
    rows = ", ".join(str(r) for r in where.rows(missing)[:8])
    more = ", ..." if missing.sum() > 8 else ""
    notes.append(
        f"dropped {int(missing.sum())} of {len(missing)} rows with missing values "
        f"(dropna=True): rows {rows}{more} ({where.row_convention})"
    )
    return ~missing


def _check_values(
    values: dict, mapping: dict, conventions: Conventions, where: check.Where
) -> None:
    for name in ("N", "D", "C", "U"):
        if name in values:
            check.check_finite_positive(values[name], name, mapping[name], where)
    check.check_loss(values["loss"], mapping["loss"], conventions.loss, where)
    if "step" in values:
        bad = ~np.isfinite(values["step"]) | (values["step"] < 0)
        if bad.any():
            raise where.error(
                "step must be a finite number >= 0.", column=mapping["step"], mask=bad
            )


def _fill_compute(
    values: dict, conventions: Conventions, notes: list[str], where: check.Where
) -> Conventions:
    if "D" not in values and "C" not in values:
        notes.append("no D or C column: the law needs neither")
        return conventions
    if "N" not in values:
        notes.append("no N column: the law needs none; C not derived from 6 N D")
        return conventions
    n = len(values["N"])
    if "D" not in values:
        values["D"] = values["C"] / (6.0 * values["N"])
        notes.append(f"D derived as C / (6 N) for all {n} rows")
        return replace(conventions, C="6ND")
    if "C" not in values:
        values["C"] = 6.0 * values["N"] * values["D"]
        notes.append(f"C derived as 6 N D for all {n} rows")
        return replace(conventions, C="6ND")
    ratio = values["C"] / (6.0 * values["N"] * values["D"])
    low, high = float(ratio.min()), float(ratio.max())
    if max(abs(low - 1.0), abs(high - 1.0)) <= _C_EXACT_RTOL:
        notes.append(
            f"C and D both given; C = 6 N D holds within {_C_EXACT_RTOL:g} (checked)"
        )
        return replace(conventions, C="6ND")
    notes.append(
        f"C and D both given; C / (6 N D) ranges {low:.4g} to {high:.4g}; "
        "C used as given"
    )
    far = (ratio > _C_RATIO_WARN) | (ratio < 1.0 / _C_RATIO_WARN)
    if far.any():
        rows = ", ".join(str(r) for r in where.rows(far)[:8])
        warnings.warn(
            f"{where.source}: C differs from 6 N D by more than {_C_RATIO_WARN:g}x in "
            f"{int(far.sum())} rows ({rows}; {where.row_convention}); check that N, D "
            "and C "
            "are in parameters, tokens and FLOPs.",
            ScalinglabWarning,
            stacklevel=4,
        )
    return replace(conventions, C="given")


def _canonical_frame(
    original: pd.DataFrame, values: dict, mapping: dict, notes: list[str]
) -> pd.DataFrame:
    order = [
        name for name in ("N", "D", "C", "loss", "run", "U", "step") if name in values
    ]
    data = {
        name: values[name] if name == "run" else values[name].astype(np.float64)
        for name in order
    }
    frame = pd.DataFrame(data)
    frame["run"] = frame["run"].astype(object)
    mapped = set(mapping.values())
    for column in original.columns:
        if column in mapped:
            continue
        name = column
        if column in frame.columns:
            name = f"{column}_original"
            notes.append(
                f"column {column!r} kept as {name!r} because {column} was read "
                f"from {mapping[column]!r}"
            )
        frame[name] = original[column].to_numpy()
    return frame


def _note_duplicates(frame: pd.DataFrame, where: check.Where, notes: list[str]) -> None:
    columns = [c for c in ("N", "D", "C", "loss", "U", "step") if c in frame.columns]
    duplicated = frame.duplicated(subset=columns, keep=False).to_numpy()
    if not duplicated.any():
        return
    rows = ", ".join(str(r) for r in where.rows(duplicated)[:8])
    message = (
        f"{int(duplicated.sum())} rows repeat another row's N, D, C and loss "
        f"(rows {rows}{', ...' if duplicated.sum() > 8 else ''}; "
        f"{where.row_convention}); "
        "kept as given: remove copies if they are not real repeated runs"
    )
    notes.append(message)
    warnings.warn(f"{where.source}: {message}.", ScalinglabWarning, stacklevel=4)
