"""Links from a task loss to a task metric: sigmoid, exponential and linear.

Each link is a :class:`~scalinglab.laws.Law` of one input, ``x`` (the task loss), so
the one fitting engine fits it (objective ``mse`` on the metric's linear scale) and
its run bootstrap resamples it.

.. math::

    \\mathrm{sigmoid}:\\; m = \\frac{a}{1 + e^{-k (x - L_0)}} + b \\quad (k < 0)

    \\mathrm{exp}:\\; m = \\varepsilon - K e^{-\\gamma x}

    \\mathrm{linear}:\\; m = c_0 + c_1 x

References
----------
Bhagia et al. 2024, "Establishing Task Scaling Laws via Compute-Efficient Model
Ladders", eq. 2 (sigmoid). Gadre et al. 2024, "Language models scale reliably with
over-training and on downstream tasks", eq. 4 (exponential, top-1 error).
"""

from __future__ import annotations

import numpy as np

from ..errors import ScalinglabError
from ..laws.base import Law, make_law

__all__ = ["LINKS", "higher_is_better", "make_link"]

LINKS = ("sigmoid", "exp", "linear")


def _sigmoid(x, *, a, k, L0, b):
    """m = a / (1 + exp(-k (x - L0))) + b  (Bhagia et al. 2024, eq. 2)."""
    return a / (1.0 + np.exp(-k * (x - L0))) + b


def _exp(x, *, eps, K, gamma):
    """m = eps - K exp(-gamma x)  (Gadre et al. 2024, eq. 4; m is top-1 error)."""
    return eps - K * np.exp(-gamma * x)


def _linear(x, *, c0, c1):
    """m = c0 + c1 x."""
    return c0 + c1 * x


def higher_is_better(link: str) -> bool:
    """Whether the link's metric improves upwards: accuracy (sigmoid, linear), not error (exp)."""
    return link != "exp"


def make_link(link: str, x: np.ndarray, chance: float | None = None) -> Law:
    """The link law, its start grid spread over the observed task losses ``x``.

    Parameters
    ----------
    link : "sigmoid", "exp" or "linear".
    x : the task losses the link will be fitted on (sets the grid of ``L0``).
    chance : the metric at chance. For the sigmoid it fixes the floor ``b``; the
        other links use it only for warnings.

    Returns
    -------
    Law
        Inputs ``("x",)``; the sigmoid's ``k`` is bounded to [-100, 0] (the metric
        falls as the loss grows), ``a`` and ``b`` to [0, 1].

    Examples
    --------
    >>> law = make_link("sigmoid", np.array([0.8, 1.2]), chance=0.25)
    >>> law.param_names, law.param("b").fixed
    (('a', 'k', 'L0', 'b'), True)
    """
    x = np.asarray(x, dtype=float)
    if link == "sigmoid":
        law = make_law(
            _sigmoid,
            {
                "a": {
                    "init": 0.5,
                    "lower": 0.0,
                    "upper": 1.0,
                    "grid": (0.25, 0.5, 0.75),
                },
                "k": {
                    "init": -5.0,
                    "lower": -100.0,
                    "upper": 0.0,
                    "grid": (-1.0, -3.0, -10.0, -30.0),
                },
                "L0": {
                    "init": float(np.median(x)),
                    "lower": float(x.min() - 10 * np.ptp(x) - 1),
                    "upper": float(x.max() + 10 * np.ptp(x) + 1),
                    "grid": tuple(np.quantile(x, [0.0, 0.25, 0.5, 0.75, 1.0]).tolist())
                    + (float(x.min() - np.ptp(x)), float(x.max() + np.ptp(x))),
                },
                "b": {
                    "init": 0.25,
                    "lower": 0.0,
                    "upper": 1.0,
                    "grid": (0.0, 0.25, 0.5),
                },
            },
            name="sigmoid",
            reference="Bhagia et al. 2024, eq. 2",
        )
        return law if chance is None else law.fix(b=float(chance))
    if link == "exp":
        return make_law(
            _exp,
            {
                "eps": {
                    "init": 0.8,
                    "lower": 0.0,
                    "upper": 1.5,
                    "grid": (0.5, 0.75, 1.0),
                },
                "K": {
                    "init": 1.0,
                    "lower": 0.0,
                    "upper": 1e6,
                    "log": True,
                    "grid": tuple(np.exp([-2.0, 0.0, 2.0, 4.0, 6.0]).tolist()),
                },
                "gamma": {
                    "init": 1.0,
                    "lower": 1e-4,
                    "upper": 50.0,
                    "log": True,
                    "grid": (0.1, 0.3, 1.0, 3.0, 10.0),
                },
            },
            name="exp",
            reference="Gadre et al. 2024, eq. 4",
        )
    if link == "linear":
        return make_law(
            _linear,
            {
                "c0": {"init": 0.5, "grid": (0.0, 1.0)},
                "c1": {"init": 0.0, "grid": (-1.0, 0.0)},
            },
            name="linear",
            reference="",
            published=False,
        )
    raise ScalinglabError(f"unknown link {link!r}; choose one of {', '.join(LINKS)}.")
