"""scalinglab: plan a ladder, run it, fit scaling laws, validate, decide, report.

>>> import scalinglab as sl
>>> result = sl.fit("chinchilla", "runs.csv")            # doctest: +SKIP
>>> result.params["alpha"], result.conf_int()["alpha"]   # doctest: +SKIP
"""

from ._version import __version__
from .data import RunTable, read_runs
from .fit import FitResult, fit, load_fit
from .laws import all_laws, get_law

__all__ = ["FitResult", "RunTable", "__version__", "all_laws", "fit", "get_law", "load_fit", "read_runs"]
