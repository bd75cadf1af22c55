"""JSON for saved fits and ``--json`` output: numpy values made JSON-safe, files read with clear errors."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError


def jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and non-finite floats (to None) to JSON-safe values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.integer, np.bool_, np.str_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    return value


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
