"""One-page HTML reports of a scaling-law study, and notebook display of results.

>>> from scalinglab.report import load_runs, write_report      # doctest: +SKIP
>>> runs, warnings, study = load_runs("runs.csv")               # doctest: +SKIP
>>> write_report("report.html", runs, laws=["chinchilla"])      # doctest: +SKIP

Imports are lazy: result classes mix in :class:`~scalinglab.report._display.Display`
without pulling in the report machinery.
"""

from __future__ import annotations

__all__ = ["Report", "build_report", "load_runs", "write_report"]


def __getattr__(name: str):
    if name in __all__:
        from . import build

        return getattr(build, name)
    raise AttributeError(f"module 'scalinglab.report' has no attribute {name!r}")
