"""scalinglab: plan a ladder, run it, fit scaling laws, validate, decide, report.

>>> import scalinglab as sl
>>> result = sl.fit("chinchilla", "runs.csv")            # doctest: +SKIP
>>> result.params["alpha"], result.conf_int()["alpha"]   # doctest: +SKIP

The public names are imported on first use (PEP 562), so ``import scalinglab``
and the command line start without loading pandas or scipy.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .data import RunTable, read_runs
    from .fit import FitResult, fit, load_fit
    from .laws import all_laws, get_law

__all__ = [
    "FitResult",
    "RunTable",
    "__version__",
    "all_laws",
    "fit",
    "get_law",
    "load_fit",
    "read_runs",
]

_HOME = {
    "FitResult": "fit",
    "fit": "fit",
    "load_fit": "fit",
    "RunTable": "data",
    "read_runs": "data",
    "all_laws": "laws",
    "get_law": "laws",
}


class _Package(types.ModuleType):
    """The package module: importing the subpackage ``scalinglab.fit`` binds nothing here,
    so ``scalinglab.fit`` stays the function whatever was imported first."""

    def __setattr__(self, name: str, value: Any) -> None:
        if not (name in _HOME and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    else:
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError:
            raise AttributeError(
                f"module 'scalinglab' has no attribute {name!r}"
            ) from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
