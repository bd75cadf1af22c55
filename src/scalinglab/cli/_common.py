"""Small helpers shared by the CLI modules: JSON output, figures and quantity options."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

from rich.console import Console

from .._json import jsonable
from ..units import parse_quantity


err_console = Console(stderr=True)


def print_json(payload: Any) -> None:
    """Print one JSON object on stdout (the ``--json`` contract)."""
    sys.stdout.write(json.dumps(jsonable(payload), indent=2, allow_nan=False) + "\n")


def quantity(value: str | None, name: str) -> float | None:
    """Parse an optional CLI quantity such as ``1.3B``."""
    return None if value is None else parse_quantity(value, name=name)


def save_plot(figure, path: Optional[Path]) -> None:
    """Save a command's figure (``--plot``) and say where."""
    if path is None:
        return
    from ..plot import save_figure

    save_figure(figure, path)
    err_console.print(f"[dim]figure saved to {path}[/dim]")
