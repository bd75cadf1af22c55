"""Train-to-test: the joint (N, D, k) optimum against a brute-force grid."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.decide.t2 import TaskModel, t2_optimum
from scalinglab.errors import ScalinglabError
from scalinglab.laws.presets import get_preset

_TASK = TaskModel(L50=2.05, scale=0.08, concentration=0.5)
_SETTING = {"budget": 1e23, "queries": 1e8, "tokens_per_sample": 500.0, "k_max": 200}


def _brute_force(preset, task, budget, queries, tokens_per_sample, k_max):
    """Every integer k in 1..k_max times 20,001 log-spaced N; D spends what sampling leaves."""
    k = np.arange(1, k_max + 1)[:, None]
    N = np.logspace(8, 12, 20_001)[None, :]
    D = (budget - 2 * N * queries * k * tokens_per_sample) / (6 * N)
    loss = np.where(
        D > 0, preset.law.predict(preset.params, N=N, D=np.where(D > 0, D, 1.0)), np.inf
    )
    score = np.where(
        np.isfinite(loss),
        task.pass_at_k(np.where(np.isfinite(loss), loss, 10.0), k),
        -1.0,
    )
    i, j = np.unravel_index(np.argmax(score), score.shape)
    return int(k[i, 0]), float(N[0, j]), float(score[i, j])


@pytest.mark.parametrize("name", ["besiroglu2024", "hoffmann2022"])
def test_joint_optimum_equals_brute_force(name):
    preset = get_preset(name)
    best = t2_optimum(preset, _TASK, **_SETTING)
    k, N, score = _brute_force(preset, _TASK, **_SETTING)
    assert best.k == k
    assert best.model.N == pytest.approx(N, rel=5e-3)
    assert best.pass_at_k >= score - 1e-9
    assert best.model.total_flops == pytest.approx(_SETTING["budget"], rel=1e-9)
    assert best.model.inference_flops == pytest.approx(
        2 * best.model.N * 1e8 * best.k * 500, rel=1e-12
    )


def test_test_time_sampling_moves_the_optimum_into_overtraining():
    best = t2_optimum(get_preset("besiroglu2024"), _TASK, **_SETTING)
    assert best.k > 1 and best.pass_at_k > best.one_sample["pass_at_1"]
    assert best.overtraining == pytest.approx(
        best.model.tokens_per_param / best.chinchilla["tokens_per_param"], rel=1e-12
    )
    assert (
        best.overtraining > 1
        and best.model.tokens_per_param > best.one_sample["tokens_per_param"]
    )
    payload = best.to_dict()
    assert {
        "k",
        "pass_at_k",
        "N",
        "D",
        "tokens_per_param",
        "overtraining",
        "scanned",
    } <= set(payload)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"scale": 0.0}, "task scale must be > 0; got 0.0"),
        ({"concentration": -1.0}, "concentration must be > 0; got -1.0"),
        ({"floor": 0.5, "ceiling": 0.4}, "0 <= floor < ceiling <= 1"),
    ],
)
def test_bad_task_names_the_value(kwargs, match):
    with pytest.raises(ScalinglabError, match=match):
        TaskModel(**({"L50": 2.0, "scale": 0.1, "concentration": 1.0} | kwargs))


def test_bad_budget_names_the_value():
    with pytest.raises(ScalinglabError, match="budget must be > 0; got -1.0"):
        t2_optimum(get_preset("besiroglu2024"), _TASK, **(_SETTING | {"budget": -1.0}))
