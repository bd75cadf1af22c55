"""scalinglab.data: the validated run table and its counting conventions."""

from .conventions import C_KINDS, N_KINDS, Conventions
from .table import RunTable, read_runs

__all__ = ["C_KINDS", "N_KINDS", "Conventions", "RunTable", "read_runs"]
