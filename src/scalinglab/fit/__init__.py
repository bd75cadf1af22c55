"""The fitting engine: objectives, batched multi-start optimizer, bootstrap, FitResult."""

from .api import fit
from .diagnostics import Diagnostic
from .objectives import Objective, get_objective
from .result import FitResult, load_fit

__all__ = ["Diagnostic", "FitResult", "Objective", "fit", "get_objective", "load_fit"]
