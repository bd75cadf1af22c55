"""Routed (mixture-of-experts) language models: Clark et al. 2022's bilinear law in log N and log E."""

from __future__ import annotations

import numpy as np

from .base import Law, make_law


def saturated_experts(E, E_start, E_max):
    """Clark et al.'s saturating expert count: 1/Ê = 1/(E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max.

    Ê = E_start at E = 1 and tends to E_max for many experts.
    """
    offset = 1.0 / (1.0 / E_start - 1.0 / E_max)
    return 1.0 / (1.0 / (E - 1.0 + offset) + 1.0 / E_max)


def clark2022(N, E, *, a, b, c, d, E_start, E_max):
    """log L = a log N + b log Ê + c log N log Ê + d  (Clark et al. 2022, eq. 7 with Ê)."""
    log_N = np.log(N)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_E = np.log(saturated_experts(E, E_start, E_max))
    return np.exp(a * log_N + b * log_E + c * log_N * log_E + d)


def clark2022_law() -> Law:
    """Clark et al.'s unified law for routed models: dense parameters ``N``, experts ``E``.

    ``N`` is the dense (per-token) parameter count of the base model and ``E``
    the number of experts (1 for the dense model); map the experts column with
    ``--input E=num_experts``. Negative ``b`` means experts help; positive ``c``
    means they help less as the base model grows. ``E_max`` must exceed
    ``E_start`` (otherwise Ê is undefined and the point gives no finite loss).
    The paper's coefficients are not in the shared reference, so there is no preset.
    """
    return make_law(
        clark2022,
        {
            "a": dict(init=-0.08, lower=-2.0, upper=2.0, grid=(-0.15, -0.08, -0.03)),
            "b": dict(init=-0.05, lower=-2.0, upper=2.0, grid=(-0.1, -0.03, 0.0)),
            "c": dict(init=0.0, lower=-1.0, upper=1.0, grid=(-0.005, 0.0, 0.005)),
            "d": dict(init=2.0, lower=-20.0, upper=20.0, grid=(1.0, 2.0, 3.0)),
            "E_start": dict(
                init=2.0, lower=1.0, upper=1e3, log=True, grid=(1.5, 5.0, 20.0)
            ),
            "E_max": dict(
                init=300.0, lower=1.0, upper=1e5, log=True, grid=(100.0, 500.0, 3000.0)
            ),
        },
        name="clark2022",
        formula="log L = a log N + b log Ê + c log N log Ê + d,  "
        "1/Ê = 1/(E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max",
        reference="Clark et al. 2022, arXiv 2202.01169 (Unified Scaling Laws for Routed "
        "Language Models)",
    )
