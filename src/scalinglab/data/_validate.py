"""Turn raw columns into float64 arrays and check them, naming file, column and rows."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, ScalinglabError
from ..units import parse_quantity
from ._columns import describe
from .conventions import loss_may_be_negative

# Columns whose values may carry unit suffixes ("1.3B", "300M").
QUANTITY_COLUMNS = ("N", "D", "C", "U")
POSITIVE_COLUMNS = ("N", "D", "C", "U")


@dataclass(frozen=True)
class Where:
    """Where a table came from, to name rows the way the user sees them."""

    source: str
    row_numbers: np.ndarray
    row_convention: str

    def rows(self, mask: np.ndarray) -> list:
        """Row numbers (as the user sees them) where ``mask`` is true."""
        return [_plain(r) for r in self.row_numbers[np.asarray(mask, dtype=bool)]]

    def error(
        self, message: str, *, column: str | None, mask: np.ndarray
    ) -> InputError:
        """An :class:`InputError` naming file, column and the rows where ``mask``."""
        rows = self.rows(mask)
        parts = [self.source]
        if column is not None:
            parts.append(f"column {column!r}")
        parts.append(f"{_row_list(rows)} ({self.row_convention})")
        err = InputError(f"{', '.join(parts)}: {message}")
        err.source, err.column, err.rows = self.source, column, rows
        return err


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _row_list(rows: list) -> str:
    shown = ", ".join(str(r) for r in rows[:8])
    more = f" and {len(rows) - 8} more" if len(rows) > 8 else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


def to_float(
    series: pd.Series, canonical: str, original: str, where: Where
) -> np.ndarray:
    """Convert one column to float64; text that is not a number is an error.

    Missing cells become NaN (checked later); N, D, C and U accept unit
    suffixes such as ``"1.3B"``.
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        raise where.error(
            f"{describe(canonical)} must hold numbers; the column holds "
            f"true/false values. Pick another column with --{canonical}.",
            column=original,
            mask=np.ones(len(series), dtype=bool),
        )
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    units = canonical in QUANTITY_COLUMNS
    values = np.empty(len(series), dtype=np.float64)
    bad = np.zeros(len(series), dtype=bool)
    for i, cell in enumerate(series.tolist()):
        values[i], bad[i] = _cell_to_float(cell, units)
    if bad.any():
        examples = ", ".join(repr(v) for v in series[bad].tolist()[:3])
        expected = (
            "numbers such as 7e9, 1.3B or 300M" if units else "numbers such as 2.31"
        )
        raise where.error(
            f"{describe(canonical)} must hold {expected}; got text {examples}. "
            f"Fix these cells, or pick another column with --{canonical}.",
            column=original,
            mask=bad,
        )
    return values


def _cell_to_float(cell: object, units: bool) -> tuple[float, bool]:
    if cell is None or cell is pd.NA or (isinstance(cell, float) and math.isnan(cell)):
        return math.nan, False
    if isinstance(cell, (bool, np.bool_)):
        return math.nan, True
    if isinstance(cell, (int, float, np.integer, np.floating)):
        return float(cell), False
    text = str(cell).strip()
    if not text:
        return math.nan, False
    try:
        return float(text), False
    except ValueError:
        pass
    if not units:
        return math.nan, True
    try:
        return parse_quantity(text), False
    except ScalinglabError:
        return math.nan, True


def run_ids(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Run ids as strings (whole floats without ``.0``) and the mask of missing ids."""
    missing = series.isna().to_numpy()
    if pd.api.types.is_float_dtype(series.dtype):
        finite = series[~missing]
        if np.all(np.isfinite(finite)) and np.all(finite == np.round(finite)):
            series = series.astype("Int64")
    text = np.array(
        [None if m else str(v) for v, m in zip(series.tolist(), missing, strict=True)],
        dtype=object,
    )
    empty = np.array([isinstance(t, str) and not t.strip() for t in text])
    return text, missing | empty


def check_finite_positive(
    values: np.ndarray, canonical: str, original: str, where: Where
) -> None:
    """N, D, C and U must be finite and > 0."""
    _check_finite(values, canonical, original, where)
    bad = values <= 0
    if bad.any():
        raise where.error(
            f"{describe(canonical)} must be > 0; got "
            f"{_count(bad, 'non-positive value')} ({_examples(values[bad])}). "
            "If this column holds log10 values, convert them with 10**x before "
            "reading; otherwise fix or remove these rows.",
            column=original,
            mask=bad,
        )


def check_loss(values: np.ndarray, original: str, unit: str, where: Where) -> None:
    """Loss must be finite, and > 0 unless ``unit`` is a normalised (signed) unit."""
    _check_finite(values, "loss", original, where)
    if loss_may_be_negative(unit):
        return
    bad = values <= 0
    if bad.any():
        raise where.error(
            f"loss must be > 0 in loss unit {unit!r}; got "
            f"{_count(bad, 'non-positive value')} ({_examples(values[bad])}). "
            "If these are normalised losses that may be negative, pass "
            "loss_unit='normalized' (--loss-unit normalized); otherwise fix or remove "
            "these rows.",
            column=original,
            mask=bad,
        )


def _check_finite(
    values: np.ndarray, canonical: str, original: str, where: Where
) -> None:
    bad = np.isinf(values)
    if bad.any():
        raise where.error(
            f"{describe(canonical)} must be finite; got {_examples(values[bad])}. "
            "Fix or remove these rows.",
            column=original,
            mask=bad,
        )


def _count(mask: np.ndarray, noun: str) -> str:
    """``"3 rows"``, ``"1 row"``: how many entries of ``mask`` are true."""
    count = int(np.count_nonzero(mask))
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _examples(values: np.ndarray) -> str:
    shown = ", ".join(f"{v:g}" for v in values[:3])
    return shown + (", ..." if len(values) > 3 else "")


def missing_error(
    mask: np.ndarray, canonical: str, original: str, where: Where
) -> InputError:
    """The error for missing (empty or NaN) cells in a required column."""
    return where.error(
        f"{describe(canonical)} is missing (empty or NaN) in {_count(mask, 'row')}. "
        "Fill these cells, remove the rows, or pass dropna=True (--dropna) to drop "
        "rows with missing values.",
        column=original,
        mask=mask,
    )
