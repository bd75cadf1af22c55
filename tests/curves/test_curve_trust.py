"""What a new user of `curve fit` / `curve predict` can trust (issue 8, item 7).

Each test failed before its fix: bound diagnostics, typed-schedule warmup, spec keys,
intervals that exclude their estimate, outlier rows per file, prediction scoring.
"""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.fit.diagnostics import at_bounds
from scalinglab.laws.base import make_law


def _law():
    def law(x, *, a, b):
        """y = a + b x."""
        return a + b * x

    return make_law(
        law,
        {
            "a": dict(init=1.0, lower=1e-3, upper=5.0),
            "b": dict(init=1.0, lower=0.0, upper=3.0),
        },
    )


def test_bound_diagnostic_is_relative_to_the_bound_not_the_range():
    law = _law()
    # 0.022 is 22x the lower bound 0.001 (but within 1% of the range [0.001, 5]): not at it.
    assert at_bounds(law, {"a": 0.022, "b": 1.0}) == []
    flagged = at_bounds(law, {"a": 0.00101, "b": 2.99})
    assert [(d.details["param"], d.details["side"]) for d in flagged] == [
        ("a", "lower"),
        ("b", "upper"),
    ]
    # A bound of 0 keeps the range as its scale: 0.01 of [0, 3] is at the bound.
    assert [d.details["param"] for d in at_bounds(law, {"a": 1.0, "b": 0.01})] == ["b"]
