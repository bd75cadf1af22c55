"""A one-variable power law with an asymptote: L = E + A x^-alpha (loss against compute, N, D, ...)."""

from __future__ import annotations

import inspect
import re

import numpy as np

from ..errors import ScalinglabError
from ._grids import LOG_E_GRID, LOG_SCALE_GRID
from .base import Law, make_law

_EXPONENT_GRID = (0.03, 0.06, 0.125, 0.25, 0.5, 1.0, 2.0)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _power(x, *, E, A, alpha):
    return E + A * x**-alpha


def _power_log_jacobian(x, *, E, A, alpha):
    term = A * x**-alpha
    loss = E + term
    return {"E": 1.0 / loss, "A": term / A / loss, "alpha": -term * np.log(x) / loss}


def _renamed(function, x: str):
    """``function`` with its positional input renamed to ``x`` (make_law reads the signature)."""

    def renamed(*args, **kwargs):
        return function(*args, **kwargs)

    signature = inspect.signature(function)
    params = list(signature.parameters.values())
    renamed.__signature__ = signature.replace(parameters=[params[0].replace(name=x), *params[1:]])
    renamed.__name__ = function.__name__
    return renamed


def power_law(x: str = "C") -> Law:
    """L = E + A * x**-alpha for one input column ``x`` (default ``C``: the loss-vs-compute envelope).

    Parameters
    ----------
    x : name of the input column, e.g. ``"C"``, ``"N"`` or ``"D"``.

    Returns
    -------
    Law
        Registered as ``power`` for ``x="C"`` and as ``power(x)`` otherwise, so
        ``get_law("power(N)")`` rebuilds it.
    """
    if not isinstance(x, str) or not _NAME.match(x) or x in ("E", "A", "alpha"):
        raise ScalinglabError(
            f"power_law(x=...) needs a column name such as 'C', 'N' or 'D' that is not E, A or "
            f"alpha; got {x!r}."
        )
    return make_law(
        _renamed(_power, x),
        {
            "E": dict(init=1.8, lower=0.0, log=True, grid=LOG_E_GRID),
            "A": dict(init=1000.0, lower=0.0, log=True, grid=LOG_SCALE_GRID),
            "alpha": dict(init=0.15, lower=0.0, upper=3.0, grid=_EXPONENT_GRID),
        },
        name="power" if x == "C" else f"power({x})",
        formula=f"L = E + A*{x}**-alpha",
        reference="generic saturating power law (no single published fit)",
        published=False,
        log_jacobian=_renamed(_power_log_jacobian, x),
    )
