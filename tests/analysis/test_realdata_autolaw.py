"""--law auto on the shared ladders, the largest 20% of compute held out (issue 12's measurement).

Measured (benchmarks/bench_autolaw.py): auto's median held-out error over 11 ladders
0.556%, against 0.510% for the best law per ladder in hindsight (+9.1%, the goal is
+10%) and 0.551% for chinchilla (the best single law in hindsight); auto is better
than chinchilla on 3 ladders, equal (it kept chinchilla) on 6, worse on 2. Before
the trend, the margin rule and the diagnostics (median |rel error| pooled over the
folds, the lowest taken) it was 0.71% (+40%): kaplan extrapolated best inside the
Gadre and OLMo ladders and worst beyond them. --average (inverse median-error
weights, unchanged): 0.42%, better than chinchilla on 9 of 11. This test guards
those numbers.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def _bench():
    path = REPO_ROOT / "benchmarks" / "bench_autolaw.py"
    spec = importlib.util.spec_from_file_location("bench_autolaw", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_auto_on_the_shared_ladders(shared_data):
    result = _bench().run(shared_data)
    ladders = result["ladders"]
    print(
        {name: (r["chosen"], round(r["auto_error"], 4)) for name, r in ladders.items()}
    )
    assert len(ladders) == 11
    single = min(
        np.median([r["errors"][law] for r in ladders.values()])
        for law in ("chinchilla", "kaplan", "overtraining", "power")
    )
    assert result["median_auto_error"] <= 1.1 * result["median_best_error"]
    assert result["median_auto_error"] <= 1.05 * single
    wins = sum(r["auto_error"] <= r["errors"]["chinchilla"] for r in ladders.values())
    assert wins >= 8
    # kaplan, best inside the OLMo and Gadre ladders and worst beyond, is not taken.
    assert "kaplan" not in {r["chosen"] for r in ladders.values()}
    # --average meets the goal: within 10% of the best law per ladder in
    # hindsight, and at least as good as chinchilla on most ladders.
    assert result["median_average_error"] <= 1.1 * result["median_best_error"]
    wins = sum(
        r["average_error"] <= r["errors"]["chinchilla"] for r in ladders.values()
    )
    assert wins > len(ladders) / 2
