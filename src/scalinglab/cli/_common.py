"""Small helpers shared by the CLI modules: JSON output and quantity options."""

from __future__ import annotations

import json
import sys
from typing import Any


from .._json import jsonable
from ..units import parse_quantity


def print_json(payload: Any) -> None:
    """Print one JSON object on stdout (the ``--json`` contract)."""
    sys.stdout.write(json.dumps(jsonable(payload), indent=2, allow_nan=False) + "\n")


def quantity(value: str | None, name: str) -> float | None:
    """Parse an optional CLI quantity such as ``1.3B``."""
    return None if value is None else parse_quantity(value, name=name)
