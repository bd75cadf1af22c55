"""Decisions: lifetime (training + inference) optima, data limits, hardware cost, test-time sampling."""

from __future__ import annotations

from .lifetime import Demand, LifetimeOptimum, lifetime_optimum

__all__ = ["Demand", "LifetimeOptimum", "lifetime_optimum"]
