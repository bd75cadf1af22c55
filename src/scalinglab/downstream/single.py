"""Single-step task law: (N, D) -> metric in one fit, the baseline of the two-step chain.

.. math::

    m(N, D) = \\frac{a}{1 + e^{-k (A N^{-\\alpha} + B D^{-\\beta} - c)}} + b

The two-step chain composed into one function (``c = L_0 - E``; the task loss's
irreducible term folds into the sigmoid's centre), fitted directly to the final
checkpoints' metric, as Bhagia et al. 2024 (section 5) compare it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..fit.result import FitResult
from ..laws.base import Law, make_law
from ._data import load_frame, task_rows
from .chain import TaskFit

__all__ = ["fit_single_step", "single_step_law"]


def _single(N, D, *, a, k, c, A, alpha, B, beta, b):
    """m = a / (1 + exp(-k (A N^-alpha + B D^-beta - c))) + b."""
    return a / (1.0 + np.exp(-k * (A * N**-alpha + B * D**-beta - c))) + b


def single_step_law(chance: float | None = None) -> Law:
    """The single-step law; ``chance`` fixes the floor ``b``."""
    law = make_law(
        _single,
        {
            "a": {"init": 0.5, "lower": 0.0, "upper": 1.0},
            "k": {"init": -5.0, "lower": -100.0, "upper": 0.0},
            "c": {"init": 0.5, "lower": -10.0, "upper": 10.0},
            "A": {"init": 10.0, "lower": 0.0, "upper": 1e8, "log": True},
            "alpha": {"init": 0.3, "lower": 0.0, "upper": 2.0},
            "B": {"init": 10.0, "lower": 0.0, "upper": 1e8, "log": True},
            "beta": {"init": 0.3, "lower": 0.0, "upper": 2.0},
            "b": {"init": 0.25, "lower": 0.0, "upper": 1.0},
        },
        name="single-step sigmoid",
        reference="Bhagia et al. 2024, section 5",
    )
    return law if chance is None else law.fix(b=float(chance))


def fit_single_step(
    data: Any, two_step: TaskFit, *, bootstrap: int = 1000, seed: int = 0
) -> FitResult:
    """Fit the single-step law to the final checkpoints of the table ``two_step`` was
    fitted on, started from the two-step estimates composed (sigmoid link only).

    Returns
    -------
    FitResult
        Of the metric on (N, D), objective ``mse``, with a run bootstrap.
    """
    from ..fit import fit

    frame, source = load_frame(data)
    columns = two_step.columns
    rows = task_rows(frame, **columns, source=source)
    step1, link = two_step.step1.params, two_step.link_params
    init = {
        "a": link["a"],
        "k": link["k"],
        "c": link["L0"] - step1["E"],
        **{n: step1[n] for n in ("A", "alpha", "B", "beta")},
    }
    held = two_step.chance if two_step.floor == "chance" else None
    if held is None:
        init["b"] = link["b"]
    final = rows.final
    return fit(
        single_step_law(held),
        {
            "N": rows.N[final],
            "D": rows.D[final],
            "loss": rows.metric[final],
            "run": rows.run[final].astype(str),
        },
        objective="mse",
        init=init,
        bootstrap=bootstrap,
        seed=seed,
        extrapolation=None,
    )
