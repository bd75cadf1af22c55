"""scalinglab: plan a ladder, run it, fit scaling laws, validate, decide, report."""

from ._version import __version__

__all__ = ["__version__"]
