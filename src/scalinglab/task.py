"""``sl.task``: task accuracy through task loss, the Python face of ``scalinglab task``.

>>> import scalinglab as sl
>>> task = sl.task.fit("ladder.csv", task_loss="bpb", metric="acc", run="run")  # doctest: +SKIP
>>> task.predict(N=7e9, D=4e12), task.predict_interval(N=7e9, D=4e12)          # doctest: +SKIP
>>> print(task.summary())                                                     # doctest: +SKIP

See :func:`scalinglab.downstream.fit_task` for the method.
"""

from __future__ import annotations

from .downstream.chain import TaskFit
from .downstream.chain import fit_task as fit
from .downstream.chain import load_task_fit as load
from .downstream.many import fit_tasks
from .downstream.single import fit_single_step, fit_single_step_compute
from .downstream.validate import validate_task as validate

__all__ = [
    "TaskFit",
    "fit",
    "fit_single_step",
    "fit_single_step_compute",
    "fit_tasks",
    "load",
    "validate",
]
