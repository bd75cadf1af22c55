"""Single-step task laws, the baselines of the two-step chain: (N, D) -> metric and
C -> metric in one fit.

.. math::

    m(N, D) = \\frac{a}{1 + e^{-k (A N^{-\\alpha} + B D^{-\\beta} - c)}} + b
    \\qquad
    m(C) = \\frac{a}{1 + e^{-k (G C^{-\\gamma} - c)}} + b

The two-step chain composed into one function (``c = L_0 - E``; the task loss's
irreducible term folds into the sigmoid's centre), fitted directly to the final
checkpoints' metric, as Bhagia et al. 2024 (section 5) compare it. The compute-only
form takes ``C = 6 N D``: it cannot tell a long-trained small model from a briefly
trained large one of the same compute.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ScalinglabError
from ..fit.result import FitResult
from ..laws.base import Law, make_law
from ._data import load_frame, task_rows
from .chain import TaskFit

__all__ = [
    "compute_step_law",
    "fit_single_step",
    "fit_single_step_compute",
    "single_step_law",
]


def _single(N, D, *, a, k, c, A, alpha, B, beta, b):
    """m = a / (1 + exp(-k (A N^-alpha + B D^-beta - c))) + b."""
    return a / (1.0 + np.exp(-k * (A * N**-alpha + B * D**-beta - c))) + b


def single_step_law(chance: float | None = None) -> Law:
    """The single-step law; ``chance`` fixes the floor ``b``."""
    scale = {
        "A": {"init": 10.0, "lower": 0.0, "upper": 1e8, "log": True},
        "alpha": {"init": 0.3, "lower": 0.0, "upper": 2.0},
        "B": {"init": 10.0, "lower": 0.0, "upper": 1e8, "log": True},
        "beta": {"init": 0.3, "lower": 0.0, "upper": 2.0},
    }
    return _sigmoid_law(_single, scale, name="single-step sigmoid", chance=chance)


def _compute(C, *, a, k, c, G, gamma, b):
    """m = a / (1 + exp(-k (G C^-gamma - c))) + b."""
    return a / (1.0 + np.exp(-k * (G * C**-gamma - c))) + b


def compute_step_law(chance: float | None = None) -> Law:
    """The compute-only single-step law of ``C``; ``chance`` fixes the floor ``b``."""
    scale = {
        "G": {"init": 1e3, "lower": 0.0, "upper": 1e12, "log": True},
        "gamma": {"init": 0.15, "lower": 0.0, "upper": 2.0},
    }
    return _sigmoid_law(
        _compute, scale, name="single-step sigmoid of compute", chance=chance
    )


def _sigmoid_law(function, scale: dict, *, name: str, chance: float | None) -> Law:
    """The law ``function``: a sigmoid (height ``a``, slope ``k``, centre ``c``) of a
    scale term with parameters ``scale``, above the floor ``b`` (fixed to ``chance``
    when given)."""
    law = make_law(
        function,
        {
            "a": {"init": 0.5, "lower": 0.0, "upper": 1.0},
            "k": {"init": -5.0, "lower": -100.0, "upper": 0.0},
            "c": {"init": 0.5, "lower": -10.0, "upper": 10.0},
            **scale,
            "b": {"init": 0.25, "lower": 0.0, "upper": 1.0},
        },
        name=name,
        reference="Bhagia et al. 2024, section 5",
    )
    return law if chance is None else law.fix(b=float(chance))


def fit_single_step(
    data: Any, two_step: TaskFit, *, bootstrap: int = 1000, seed: int = 0
) -> FitResult:
    """Fit the single-step law of (N, D) to the final checkpoints of the table
    ``two_step`` was fitted on, started from the two-step estimates composed.

    Returns
    -------
    FitResult
        Of the metric on (N, D), objective ``mse``, with a run bootstrap.
    """
    step1, rows = two_step.step1.params, _final_rows(data, two_step)
    init = _link_init(two_step) | {
        n: step1[n] for n in ("A", "alpha", "B", "beta") if n in step1
    }
    inputs = {"N": rows.N[rows.final], "D": rows.D[rows.final]}
    return _fit(single_step_law(_held(two_step)), inputs, rows, init, bootstrap, seed)


def fit_single_step_compute(
    data: Any, two_step: TaskFit, *, bootstrap: int = 1000, seed: int = 0
) -> FitResult:
    """Fit the compute-only single-step law to the final checkpoints of the table
    ``two_step`` was fitted on, with ``C = 6 N D``.

    Started from the two-step link and from ``G``, ``gamma`` of a straight line
    through log(step-1 task loss - E) against log C at the final checkpoints.

    Returns
    -------
    FitResult
        Of the metric on ``C``, objective ``mse``, with a run bootstrap; predict with
        ``result.predict(C=6 * N * D)``.
    """
    rows = _final_rows(data, two_step)
    C = 6.0 * rows.N[rows.final] * rows.D[rows.final]
    init = _link_init(two_step)
    reducible = two_step.step1.predict(N=rows.N[rows.final], D=rows.D[rows.final])
    reducible = reducible - two_step.step1.params.get("E", 0.0)
    if np.all(reducible > 0) and np.ptp(C) > 0:
        slope, intercept = np.polyfit(np.log(C), np.log(reducible), 1)
        init |= {"G": float(np.exp(intercept)), "gamma": float(-slope)}
    law = compute_step_law(_held(two_step))
    return _fit(law, {"C": C}, rows, init, bootstrap, seed)


def _final_rows(data: Any, two_step: TaskFit):
    """The task rows of ``data`` under the columns ``two_step`` was fitted with."""
    if two_step.link != "sigmoid":
        raise ScalinglabError(
            f"the single-step laws compose the sigmoid link; task {two_step.task!r} "
            f"was fitted with --link {two_step.link}."
        )
    frame, source = load_frame(data)
    return task_rows(frame, **two_step.columns, source=source)


def _held(two_step: TaskFit) -> float | None:
    return two_step.chance if two_step.floor == "chance" else None


def _link_init(two_step: TaskFit) -> dict[str, float]:
    """a, k, c = L0 - E (and b unless held) from the two-step fit."""
    link = two_step.link_params
    init = {"a": link["a"], "k": link["k"]}
    init["c"] = link["L0"] - two_step.step1.params.get("E", 0.0)
    if _held(two_step) is None:
        init["b"] = link["b"]
    return init


def _fit(law, inputs, rows, init, bootstrap, seed) -> FitResult:
    from ..fit import fit

    final = rows.final
    return fit(
        law,
        inputs | {"loss": rows.metric[final], "run": rows.run[final].astype(str)},
        objective="mse",
        init=init,
        bootstrap=bootstrap,
        seed=seed,
        extrapolation=None,
    )
