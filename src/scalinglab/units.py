"""Human quantities such as "1.3B", "300M", "2e10", "6.7k" to plain floats."""

from __future__ import annotations

import re

import numpy as np

from .errors import ScalinglabError

_SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12, "p": 1e15}
_PATTERN = re.compile(
    r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([kKmMbBgGtTpP]?)\s*$"
)


def parse_quantity(value: str | float, *, name: str = "value") -> float:
    """Parse ``"1.3B"`` -> 1.3e9. Suffixes k, M, B (or G), T, P are powers of 1000.

    >>> parse_quantity("300M")
    300000000.0
    """
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    match = _PATTERN.match(str(value))
    if not match:
        raise ScalinglabError(
            f"{name} must be a number such as 7e9, 1.3B or 300M; got {value!r}."
        )
    number, suffix = match.groups()
    return float(number) * _SUFFIXES[suffix.lower()]


def parse_range(text: str, *, name: str = "range") -> tuple[float, float]:
    """Parse ``"1e6..3e7"`` (or ``"1M..30M"``) into ``(low, high)`` with low < high."""
    parts = str(text).split("..")
    if len(parts) != 2:
        raise ScalinglabError(
            f"{name} must look like LOW..HIGH (e.g. 1e6..3e7); got {text!r}."
        )
    low, high = (parse_quantity(p, name=name) for p in parts)
    if not low < high:
        raise ScalinglabError(f"{name}: LOW must be below HIGH; got {text!r}.")
    return low, high


def plain(value: object) -> str:
    """A number (Python or numpy, scalar or array) as a message shows it: ``-1``, ``1e+09``.

    Error messages use this instead of ``repr``, which prints ``np.float64(-1.0)``.

    >>> plain(np.float64(-1.0)), plain(np.array([0.0, 1e20]))
    ('-1', '0, 1e+20')
    """
    values = np.ravel(np.asarray(value, dtype=float))
    return ", ".join(f"{v:.6g}" for v in values)
