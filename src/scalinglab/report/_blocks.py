"""The pieces a report section is made of, and the helpers that format them.

A :class:`Section` holds paragraphs, notes, tables and figures in reading order,
or only ``why`` when the data does not allow it. Figures become inline SVG.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Tables with more rows than this start collapsed.
COLLAPSE_ROWS = 12
_FIGURE_IDS = itertools.count()


@dataclass(frozen=True)
class Paragraph:
    text: str
    kind: str = "paragraph"


@dataclass(frozen=True)
class Notes:
    """A list: ``kind`` "notes" (warnings), "facts" (plain) or "code" (commands)."""

    items: tuple[str, ...]
    kind: str = "notes"


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    collapsed: bool = False
    numeric: bool = True  # right-align the cells that hold numbers
    kind: str = "table"


@dataclass(frozen=True)
class Figure:
    svg: str
    caption: str
    kind: str = "figure"


@dataclass
class Section:
    key: str
    title: str
    blocks: list = field(default_factory=list)
    why: str | None = None


def table(
    caption: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    numeric: bool = True,
) -> Table:
    """A table of formatted cells; long ones collapse; ``numeric=False`` keeps text alignment."""
    cells = tuple(
        tuple(c if isinstance(c, str) else fmt(c) for c in row) for row in rows
    )
    return Table(
        caption,
        tuple(columns),
        cells,
        collapsed=len(cells) > COLLAPSE_ROWS,
        numeric=numeric,
    )


def figure(fig: Any, caption: str) -> Figure:
    """A matplotlib figure as inline SVG (ids salted per figure so several can share a page)."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    salt = f"f{next(_FIGURE_IDS)}"
    with plt.rc_context({"svg.hashsalt": salt}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return Figure(_inline_svg(buffer.getvalue()), caption)


def _inline_svg(text: str) -> str:
    """The <svg> element alone, without its RDF metadata or namespace URLs (HTML needs neither)."""
    svg = text[text.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, count=1, flags=re.DOTALL)
    return re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg, count=2)


def fmt(value: Any, digits: int = 4) -> str:
    """A number as people read it: 4 significant digits, exponent form when large or small."""
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    value = float(value)
    if not np.isfinite(value):
        return "inf" if value == np.inf else "-inf" if value == -np.inf else "-"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.{digits - 1}e}".replace("e+", "e")
    return f"{value:.{digits}g}"


def interval(low: Any, high: Any) -> str:
    """``[low, high]`` with the same formatting as :func:`fmt`."""
    return f"[{fmt(low)}, {fmt(high)}]"


def percent(value: float, signed: bool = False) -> str:
    return f"{value:+.2%}" if signed else f"{value:.2%}"
