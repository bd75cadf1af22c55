"""JSON for saved fits and ``--json`` output: numpy values made JSON-safe, files read with clear errors."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError


def jsonable(value: Any, *, keep_nonfinite: bool = False) -> Any:
    """Convert numpy scalars/arrays, tuples, sets (sorted), paths and objects with
    ``to_dict`` or ``tolist`` to JSON-safe values; non-finite floats become None unless
    ``keep_nonfinite`` (the study store keeps them, as ``NaN``/``Infinity``)."""

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        if isinstance(value, (set, frozenset)):
            return convert(sorted(value))
        if isinstance(value, np.ndarray):
            return convert(value.tolist())
        if isinstance(value, (np.integer, np.bool_, np.str_)):
            return value.item()
        if isinstance(value, (float, np.floating)):
            value = float(value)
            return value if keep_nonfinite or math.isfinite(value) else None
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if hasattr(value, "to_dict"):
            return convert(value.to_dict())
        if hasattr(value, "tolist"):  # other array types (a torch tensor)
            return convert(value.tolist())
        return value

    return convert(value)


def write_json(path: str | Path, payload: Any) -> Path:
    """Write ``payload`` as JSON (one indent level, trailing newline)."""
    path = Path(path)
    path.write_text(json.dumps(jsonable(payload), indent=1, allow_nan=False) + "\n")
    return path


def read_saved(path: str | Path, *, format: int, what: str, make: str) -> dict:
    """A JSON object written by :func:`write_json` whose ``format`` key is ``format``.

    ``what`` names the kind of file (e.g. "scalinglab fit") and ``make`` the
    command that writes one, for the error messages.
    """
    source = str(path)
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(
            f"no such file; save a {what} with `{make} -o FILE`.", source=source
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"not a JSON {what} file ({error}).", source=source) from None
    if not isinstance(data, dict) or data.get("format") != format:
        raise InputError(
            f"not a {what} file (format {format} expected); make one with `{make}`.",
            source=source,
        )
    return data
