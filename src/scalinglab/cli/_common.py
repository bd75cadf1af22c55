"""Small helpers shared by the CLI modules: JSON output and quantity options."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import numpy as np

from ..units import parse_quantity


def jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and non-finite floats to JSON-safe values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    return value


def print_json(payload: Any) -> None:
    """Print one JSON object on stdout (the ``--json`` contract)."""
    sys.stdout.write(json.dumps(jsonable(payload), indent=2, allow_nan=False) + "\n")


def quantity(value: str | None, name: str) -> float | None:
    """Parse an optional CLI quantity such as ``1.3B``."""
    return None if value is None else parse_quantity(value, name=name)
