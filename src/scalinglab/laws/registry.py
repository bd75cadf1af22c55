"""The law registry: one line per law family. ``get_law`` also builds laws from formula strings."""

from __future__ import annotations

import re
from typing import Callable, Iterable

from ..errors import ScalinglabError
from .base import Law
from .chinchilla import chinchilla_law
from .data_constrained import data_constrained_law
from .kaplan import kaplan_law
from .mixing import mixing_law
from .moe import clark2022_law, krajewski2024_law, ludziejewski2025_law
from .overtraining import overtraining_law
from .parscale import parscale_law
from .power import power_law
from .precision import kumar2024_law, kumar2024_ptq_law
from .rectified import rectified_law
from .sparsity import jin2025_law
from .vocab import tao2024_law

LAWS: dict[str, Callable[[], Law]] = {
    "chinchilla": chinchilla_law,
    "kaplan": kaplan_law,
    "overtraining": overtraining_law,
    "data_constrained": data_constrained_law,
    "power": power_law,
    "parscale": parscale_law,
    "clark2022": clark2022_law,
    "rectified": rectified_law,
    "mixing": mixing_law,
    "tao2024": tao2024_law,
    "kumar2024": kumar2024_law,
    "kumar2024_ptq": kumar2024_ptq_law,
    "jin2025": jin2025_law,
    "krajewski2024": krajewski2024_law,
    "ludziejewski2025": ludziejewski2025_law,
}

_POWER_OF = re.compile(r"^power\((\w+)\)$")
_MIXING_OF = re.compile(r"^mixing\(([\w\s,]+)\)$")


def all_laws() -> list[Law]:
    """One instance of every registered law, in registry order."""
    return [factory() for factory in LAWS.values()]


def get_law(spec: str | Law, *, inputs: Iterable[str] = ()) -> Law:
    """A registered law by name, ``power(X)`` for a power law in column X, or a law from a formula string.

    Parameters
    ----------
    spec : a registry name, ``power(X)``, a formula string or a :class:`Law`.
    inputs : names that must be inputs of the law (the CLI's ``--input NAME=COLUMN``).
        In a formula they become inputs besides ``N, D, C, U, M, x, step``; a
        registered law must already take them.

    Raises
    ------
    ScalinglabError
        An unknown name, or an input the law does not take.
    """
    inputs = tuple(inputs)
    law = _lookup(spec, inputs)
    foreign = [name for name in inputs if name not in law.inputs]
    if foreign:
        raise ScalinglabError(
            f"law {law.name!r} takes the inputs {', '.join(law.inputs)}; "
            f"{', '.join(foreign)} is not one of them. Name one of its inputs in "
            "--input NAME=COLUMN, or write a formula that uses it."
        )
    return law


def _lookup(spec: str | Law, inputs: tuple[str, ...]) -> Law:
    if isinstance(spec, Law):
        return spec
    if not isinstance(spec, str):
        raise ScalinglabError(
            f"a law is a name or a formula string; got {type(spec).__name__} {spec!r}."
        )
    spec = spec.strip()
    if spec in LAWS:
        return LAWS[spec]()
    power_of = _POWER_OF.match(spec)
    if power_of:
        return power_law(x=power_of.group(1))
    mixing_of = _MIXING_OF.match(spec)
    if mixing_of:
        return mixing_law([d.strip() for d in mixing_of.group(1).split(",")])
    if any(ch in spec for ch in "+-*/()"):
        from .formula import INPUT_NAMES, formula_law

        extra = [name for name in inputs if name not in INPUT_NAMES]
        return formula_law(spec, extra_inputs=extra)
    raise ScalinglabError(
        f"unknown law {spec!r}; choose one of {', '.join(LAWS)} "
        'or give a formula such as "E + A*N**-alpha + B*D**-beta".'
    )
