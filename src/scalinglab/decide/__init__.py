"""Decisions: lifetime (training + inference) optima, data limits, hardware cost, test-time sampling.

>>> from scalinglab.decide import Demand, lifetime_optimum
>>> from scalinglab.laws.presets import get_preset
>>> best = lifetime_optimum(get_preset("besiroglu2024"), target_loss=2.1,
...                         demand=Demand(inference_tokens=1e12))
>>> round(best.tokens_per_param)
74
"""

from __future__ import annotations

from .frontier import Frontier, iso_loss_tokens, lifetime_frontier
from .hardware import PROFILES, Hardware, parse_cost
from .lifetime import Demand, LifetimeOptimum, lifetime_optimum
from .t2 import T2Optimum, TaskModel, t2_optimum
from .testtime import TestTimeFit, beta_pass_at_k, fit_testtime, pass_at_k

__all__ = [
    "PROFILES",
    "Demand",
    "Frontier",
    "Hardware",
    "LifetimeOptimum",
    "T2Optimum",
    "TaskModel",
    "TestTimeFit",
    "beta_pass_at_k",
    "fit_testtime",
    "iso_loss_tokens",
    "lifetime_frontier",
    "lifetime_optimum",
    "parse_cost",
    "pass_at_k",
    "t2_optimum",
]
