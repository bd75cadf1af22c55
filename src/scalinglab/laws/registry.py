"""The law registry: one line per law family. ``get_law`` also builds laws from formula strings."""

from __future__ import annotations

from typing import Callable

from ..errors import ScalinglabError
from .base import Law
from .chinchilla import chinchilla_law

LAWS: dict[str, Callable[[], Law]] = {
    "chinchilla": chinchilla_law,
}


def all_laws() -> list[Law]:
    """One instance of every registered law, in registry order."""
    return [factory() for factory in LAWS.values()]


def get_law(spec: str | Law) -> Law:
    """A registered law by name, or a user-defined law from a formula string."""
    if isinstance(spec, Law):
        return spec
    if spec in LAWS:
        return LAWS[spec]()
    if any(ch in spec for ch in "+-*/()"):
        from .formula import formula_law

        return formula_law(spec)
    raise ScalinglabError(
        f"unknown law {spec!r}; choose one of {', '.join(LAWS)} "
        "or give a formula such as \"E + A*N**-alpha + B*D**-beta\"."
    )
