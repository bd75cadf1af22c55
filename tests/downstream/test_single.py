"""Single-step baselines: (N, D) -> metric and C -> metric against known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglab.downstream import fit_task
from scalinglab.errors import ScalinglabError
from scalinglab.task import fit_single_step, fit_single_step_compute

from .synthetic import LINK, STEP1, ladder, sigmoid, task_loss

COLUMNS = {"task_loss": "task_loss", "metric": "metric", "run": "run"}


@pytest.fixture(scope="module")
def two_step():
    return fit_task(ladder(), **COLUMNS, chance=0.25, bootstrap=20)


def one_ratio(ratio: float = 20.0):
    """Final checkpoints at one tokens-per-parameter ratio: C alone fixes N and D."""
    N = np.geomspace(4e7, 1.5e9, 8)
    D = ratio * N
    tl = task_loss(N, D)
    return pd.DataFrame(
        {"run": np.arange(8), "N": N, "D": D, "task_loss": tl, "metric": sigmoid(tl)}
    )


def test_single_step_of_n_and_d_recovers_the_composed_chain(two_step):
    one = fit_single_step(ladder(), two_step, bootstrap=0)
    composed = {"a": LINK["a"], "k": LINK["k"], "c": LINK["L0"] - STEP1["E"]}
    composed |= {n: STEP1[n] for n in ("A", "alpha", "B", "beta")} | {"b": 0.25}
    assert one.params == pytest.approx(composed, rel=1e-3)
    truth = sigmoid(task_loss(7e9, 1.4e11))
    assert one.predict(N=7e9, D=1.4e11) == pytest.approx(truth, abs=1e-5)


def test_compute_only_recovers_the_closed_form_at_one_ratio(two_step):
    # With alpha = beta and D = r N: L = E + (A + B r^-alpha) (C / 6r)^(-alpha / 2).
    r, alpha = 20.0, STEP1["alpha"]
    G = (STEP1["A"] + STEP1["B"] * r**-alpha) * (6 * r) ** (alpha / 2)
    one = fit_single_step_compute(one_ratio(r), two_step, bootstrap=0)
    assert one.params["gamma"] == pytest.approx(alpha / 2, rel=1e-3)
    assert one.params["G"] == pytest.approx(G, rel=1e-2)
    assert one.params["c"] == pytest.approx(LINK["L0"] - STEP1["E"], rel=1e-3)
    N = 7e9
    truth = sigmoid(task_loss(N, r * N))
    assert one.predict(C=6 * N * r * N) == pytest.approx(truth, abs=1e-5)


def test_compute_only_misses_what_the_token_ratio_explains(two_step):
    """Across ratios 5-100 the same C gives different accuracies: C alone cannot fit
    them, (N, D) can (exactly)."""
    frame = ladder()
    both = fit_single_step(frame, two_step, bootstrap=0)
    compute = fit_single_step_compute(frame, two_step, bootstrap=0)
    assert both.residual_scale < 1e-5
    assert compute.residual_scale > 1e-3


def test_single_step_needs_the_sigmoid_link():
    frame = ladder(link=lambda x: 0.1 + 0.5 * x)
    linear = fit_task(frame, **COLUMNS, link="linear", bootstrap=20)
    with pytest.raises(ScalinglabError, match="--link linear"):
        fit_single_step_compute(frame, linear, bootstrap=0)


def test_validate_scores_single_steps_only_with_the_sigmoid():
    from scalinglab.task import validate

    options = {**COLUMNS, "holdout": "N >= 1e9", "bootstrap": 20}
    found = validate(ladder(), chance=0.25, **options)
    assert found["scores"]["single_step"]["abs_error"] < 1e-4  # exact data
    assert found["scores"]["compute_only"]["abs_error"] > 1e-3  # ratios 5-100
    linear = validate(ladder(link=lambda x: 0.1 + 0.5 * x), link="linear", **options)
    assert "single_step" not in linear["scores"]
    assert "compute_only" not in linear["rows"][0]
