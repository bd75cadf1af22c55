"""Exceptions and warnings shared by every layer.

Errors say what was expected, what arrived and what to do. The CLI turns any
:class:`ScalinglabError` into a one-paragraph message and exit code 1.
"""

from __future__ import annotations


class ScalinglabError(ValueError):
    """Base class for errors caused by the user's input or settings."""


class InputError(ScalinglabError):
    """Bad input data: names the file, column and rows when they are known."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        column: str | None = None,
        rows: list[int] | None = None,
    ) -> None:
        self.source, self.column, self.rows = source, column, rows
        where = []
        if source:
            where.append(source)
        if column:
            where.append(f"column {column!r}")
        if rows:
            shown = ", ".join(str(r) for r in rows[:8])
            more = f" and {len(rows) - 8} more" if len(rows) > 8 else ""
            where.append(f"row{'s' if len(rows) > 1 else ''} {shown}{more}")
        prefix = f"{', '.join(where)}: " if where else ""
        super().__init__(prefix + message)


class FitDidNotConverge(ScalinglabError):
    """Raised only on request (``strict=True``); carries the unconverged result."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result


class ScalinglabWarning(UserWarning):
    """Diagnostic warnings (parameter at a bound, collinear design, ...)."""
