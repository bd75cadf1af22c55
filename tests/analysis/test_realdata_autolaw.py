"""--law auto on the shared ladders, the largest 20% of compute held out (issue 12's measurement).

Measured (benchmarks/bench_autolaw.py): auto's median held-out error over 11 ladders
0.71%, against 0.51% for the best law per ladder in hindsight, 0.55% for chinchilla
(the best single law in hindsight) and auto at least as good as chinchilla on 6 of
11: the issue's goal (within 10% of the best in hindsight) is not met by choosing
one law, since a law that extrapolated best inside the data (kaplan on the Gadre and
OLMo ladders) can be worst beyond it. --average (inverse-error weights) meets it:
0.42%, at least as good as chinchilla on 9 of 11. This test guards those numbers.
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
    assert result["median_auto_error"] <= 1.5 * single
    wins = sum(r["auto_error"] <= r["errors"]["chinchilla"] for r in ladders.values())
    assert wins >= 5
    # --average meets the goal: within 10% of the best law per ladder in
    # hindsight, and at least as good as chinchilla on most ladders.
    assert result["median_average_error"] <= 1.1 * result["median_best_error"]
    wins = sum(
        r["average_error"] <= r["errors"]["chinchilla"] for r in ladders.values()
    )
    assert wins > len(ladders) / 2
