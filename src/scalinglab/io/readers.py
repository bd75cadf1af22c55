"""Read tabular run data from files; the only module that calls pandas I/O.

Every reader returns a :class:`RawTable`: the frame exactly as stored (no type
coercion beyond what the format itself carries), plus the number a user would
use to find each row in the file, so later validation can name bad rows.

Supported formats, chosen by suffix (optionally followed by ``.gz``):

========================  ====================================================
suffix                    format
========================  ====================================================
``.csv``                  comma-separated values with a header row
``.tsv``, ``.tab``        tab-separated values with a header row
``.parquet``, ``.pq``     Apache Parquet
``.jsonl``, ``.ndjson``   one JSON object per line (the runner's export format)
``.json``                 a JSON array of objects (records)
========================  ====================================================
"""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._json import jsonable
from ..errors import InputError

__all__ = ["SUPPORTED_FORMATS", "RawTable", "format_of", "read_table", "write_table"]

SUPPORTED_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}

_ROW_CONVENTION = {
    "csv": "1-based data rows, header excluded",
    "tsv": "1-based data rows, header excluded",
    "parquet": "1-based rows",
    "jsonl": "1-based line numbers",
    "json": "1-based record numbers",
}


@dataclass(frozen=True, eq=False)
class RawTable:
    """A table as read from a file, before any mapping or validation.

    Attributes
    ----------
    frame : pandas.DataFrame
        The data with a fresh ``RangeIndex``.
    row_numbers : numpy.ndarray
        For each row, the number a user would use to find it in the file.
    row_convention : str
        What ``row_numbers`` count, e.g. ``"1-based data rows, header excluded"``.
    source : str
        The path as the caller gave it.
    notes : tuple of str
        What the reader inferred, e.g. a delimiter other than the suffix's.
    """

    frame: pd.DataFrame
    row_numbers: np.ndarray
    row_convention: str
    source: str
    notes: tuple[str, ...] = ()


def format_of(path: str | Path) -> str:
    """Return the format name for ``path`` from its suffix, ignoring a final ``.gz``.

    Raises
    ------
    InputError
        If the suffix is not one of :data:`SUPPORTED_FORMATS`.
    """
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix not in SUPPORTED_FORMATS:
        known = ", ".join(sorted(SUPPORTED_FORMATS))
        raise InputError(
            f"cannot tell the file format from the suffix {suffix or '(none)'!r}. "
            f"Supported suffixes: {known} (each optionally followed by .gz). "
            "Rename the file or convert it to one of these formats.",
            source=str(path),
        )
    return SUPPORTED_FORMATS[suffix]


def read_table(path: str | Path) -> RawTable:
    """Read a run table from ``path``; the format follows the suffix.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.csv``, ``.tsv``, ``.parquet``, ``.jsonl`` or ``.json`` file,
        optionally gzip-compressed (``.csv.gz``, ``.jsonl.gz``, ...).

    Returns
    -------
    RawTable
        The frame plus the row numbers a user sees in the file.

    Raises
    ------
    InputError
        Unknown suffix, missing or empty file, or content that does not parse.
    """
    source = str(path)
    path = Path(path).expanduser()
    if path.is_dir():
        raise InputError("this is a folder; expected a file of runs.", source=source)
    kind = format_of(path)
    if not path.is_file():
        raise InputError(
            "file not found. Check the path (relative paths start from the "
            f"current directory, {Path.cwd()}).",
            source=source,
        )
    if path.stat().st_size == 0:
        raise InputError(
            "the file is empty; expected a header and data rows.", source=source
        )
    frame, rows, *notes = _READERS[kind](path, source)
    if len(frame.columns) == 0:
        raise InputError("the file holds no columns.", source=source)
    return RawTable(
        frame.reset_index(drop=True), rows, _ROW_CONVENTION[kind], source, tuple(notes)
    )


def _read_delimited(path: str | Path, source: str, sep: str) -> tuple:
    frame, rows = _parse_delimited(path, source, sep, ".")
    header = str(frame.columns[0])
    other = _sniff_delimiter(header, sep) if len(frame.columns) == 1 else None
    if other is None:
        return frame, rows
    decimal = "," if other == ";" and _decimal_commas(path) else "."
    frame, rows = _parse_delimited(path, source, other, decimal)
    note = (
        f"the header {header!r} is split on {other!r}, not {sep!r} as the suffix implies"
        + (", with decimal commas" if decimal == "," else "")
    )
    return frame, rows, note


def _sniff_delimiter(header: str, sep: str) -> str | None:
    """The delimiter of a one-column header such as ``N;D;loss``, or None."""
    candidates = "".join(c for c in ";\t|," if c != sep and c in header)
    if not candidates:
        return None
    try:
        return csv.Sniffer().sniff(header, delimiters=candidates).delimiter
    except csv.Error:
        return None


def _decimal_commas(path: str | Path) -> bool:
    """Whether a ';'-separated file writes numbers with decimal commas (``3,1``)."""
    with _open_text(path) as handle:
        body = "".join(itertools.islice(handle, 50))
    return (
        re.search(r"(^|;)\s*-?\d+,\d+([eE][-+]?\d+)?\s*(;|$)", body, re.MULTILINE)
        is not None
    )


def _parse_delimited(
    path: str | Path, source: str, sep: str, decimal: str
) -> tuple[pd.DataFrame, np.ndarray]:
    try:
        # utf-8-sig drops the byte-order mark spreadsheet exports put before the header
        frame = pd.read_csv(
            path, sep=sep, decimal=decimal, compression="infer", encoding="utf-8-sig"
        )
    except pd.errors.EmptyDataError:
        raise InputError(
            "the file is empty; expected a header and data rows.", source=source
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputError(
            f"could not parse the file as {'TSV' if sep == chr(9) else 'CSV'}: {err}. "
            "Check the delimiter and quoting.",
            source=source,
        ) from None
    return frame, np.arange(1, len(frame) + 1)


def _read_csv(path: str | Path, source: str) -> tuple:
    return _read_delimited(path, source, ",")


def _read_tsv(path: str | Path, source: str) -> tuple:
    return _read_delimited(path, source, "\t")


def _read_parquet(path: str | Path, source: str) -> tuple[pd.DataFrame, np.ndarray]:
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several unrelated types
        raise InputError(
            f"could not read the file as Parquet: {err}.", source=source
        ) from None
    return frame, np.arange(1, len(frame) + 1)


def _open_text(path: str | Path):
    if str(path).lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig")


def _read_jsonl(path: str | Path, source: str) -> tuple[pd.DataFrame, np.ndarray]:
    records, lines = [], []
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            records.append(_parse_record(line, source, number, "line"))
            lines.append(number)
    if not records:
        raise InputError("the file holds no JSON objects.", source=source)
    return pd.DataFrame.from_records(records), np.asarray(lines, dtype=np.int64)


def _parse_record(text: str, source: str, number: int, unit: str) -> dict:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            f"{unit} {number} is not valid JSON ({err.msg} at column {err.colno}); "
            "expected one JSON object per line.",
            source=source,
            rows=[number],
        ) from None
    return _check_object(record, source, number, unit)


def _check_object(record: object, source: str, number: int, unit: str) -> dict:
    if not isinstance(record, dict):
        raise InputError(
            f"{unit} {number} holds a JSON {type(record).__name__}, expected an object "
            'such as {"N": 1e8, "D": 2e9, "loss": 3.1}.',
            source=source,
            rows=[number],
        )
    return record


def _read_json(path: str | Path, source: str) -> tuple[pd.DataFrame, np.ndarray]:
    with _open_text(path) as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as err:
            raise InputError(
                f"not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}). "
                "A file with one object per line should be named .jsonl.",
                source=source,
            ) from None
    if not isinstance(data, list) or not data:
        raise InputError(
            "expected a non-empty JSON array of objects (records), e.g. "
            '[{"N": 1e8, "D": 2e9, "loss": 3.1}, ...]; '
            f"got {type(data).__name__}{' (empty)' if not data else ''}.",
            source=source,
        )
    records = [
        _check_object(r, source, i, "record") for i, r in enumerate(data, start=1)
    ]
    return pd.DataFrame.from_records(records), np.arange(1, len(records) + 1)


_READERS = {
    "csv": _read_csv,
    "tsv": _read_tsv,
    "parquet": _read_parquet,
    "jsonl": _read_jsonl,
    "json": _read_json,
}


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` in the format its suffix names; inverse of :func:`read_table`.

    Floats are written so that they read back bit-identically.

    Raises
    ------
    InputError
        If the suffix is not one of :data:`SUPPORTED_FORMATS`.
    """
    kind = format_of(path)
    path = Path(path)
    if kind in ("csv", "tsv"):
        frame.to_csv(
            path, sep="," if kind == "csv" else "\t", index=False, compression="infer"
        )
    elif kind == "parquet":
        frame.to_parquet(path, index=False)
    else:
        _write_json(frame, path, lines=kind == "jsonl")
    return path


def _write_json(frame: pd.DataFrame, path: Path, *, lines: bool) -> None:
    records = jsonable(frame.to_dict(orient="records"))
    if lines:
        text = "".join(json.dumps(r) + "\n" for r in records)
    else:
        text = json.dumps(records, indent=1)
    opener = gzip.open if str(path).lower().endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as handle:
        handle.write(text)
