"""The SLDBench harness: splits, R^2 and the CLI contract, on a synthetic task and the real ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglab.bench.sldbench import _groups_data_constrained, _scores, run_sldbench
from scalinglab.errors import InputError
from scalinglab.laws import get_law

SIZES = 200 * 2 ** np.arange(13)  # 200 ... 819,200 examples, as SLDBench's columns
TRUTH = {"B": 196.0, "D_l": 40.0, "beta": 0.30, "E": 1.0}


def rectified_folder(root):
    """A rectified task of two 'models' drawn from the law itself (known truth)."""
    task = root / "rectified_scaling_law"
    task.mkdir()
    law = get_law("rectified")
    rows = []
    for name, scale in (("model-a", 1.0), ("model-b", 2.0)):
        loss = law.predict(dict(TRUTH, B=TRUTH["B"] * scale), D=SIZES.astype(float))
        rows.append([name, 5.0, *loss])  # the 0-examples column is not used
    columns = ["model", "0", *(str(s) for s in SIZES)]
    pd.DataFrame(rows, columns=columns).to_csv(task / "synthetic.csv", index=False)
    return root


def test_r2_and_median_error_match_their_definitions():
    actual = np.array([2.0, 2.5, 3.0, 4.0])
    predicted = np.array([2.1, 2.4, 3.3, 3.9])
    expected_r2 = 1 - np.sum((predicted - actual) ** 2) / np.sum((actual - 2.875) ** 2)
    scores = _scores(predicted, actual)
    assert scores["r2"] == pytest.approx(expected_r2, rel=1e-12)
    assert scores["median_rel_error"] == pytest.approx(
        np.median([0.05, 0.04, 0.1, 0.025])
    )


def test_known_truth_task_is_recovered_on_its_held_out_size(tmp_path):
    [task] = run_sldbench(rectified_folder(tmp_path))
    assert task.task == "rectified_scaling_law"
    assert (task.n_train, task.n_heldout) == (24, 2)  # 819,200 held out per model
    assert task.law == task.human_law == "rectified"
    assert task.r2 == pytest.approx(1.0, abs=1e-8)
    assert task.scores["power(D)"]["r2"] < task.r2


def test_a_folder_without_tasks_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="none of the SLDBench tasks"):
        run_sldbench(tmp_path)


@pytest.mark.realdata
def test_data_constrained_columns_are_read_swapped(shared_data):
    """Runs equal in the column "tokens" but not in "unique_tokens" differ in loss
    (the 4.2B runs at tokens = 12B: 2.618 ... 2.527), so "unique_tokens" is D."""
    [(train, test)] = _groups_data_constrained(shared_data / "sldbench_early")
    D, U = (np.concatenate([train[k], test[k]]) for k in ("D", "U"))
    assert np.all(D >= U) and np.sum(D > U) == 153
    frame = pd.read_csv(
        shared_data / "sldbench_early" / "data_constrained_scaling_law" / "data.csv"
    )
    same = frame[(frame["params"] == 4.2465e9) & (frame["tokens"] == 1.2e10)]
    assert len(same) == 5 and np.all(np.diff(same["loss"]) < 0)


@pytest.mark.realdata
@pytest.mark.slow
def test_every_early_task_against_its_human_law(shared_data):
    """Measured R^2 ours / human: data-constrained 0.977 (chinchilla) / 0.960, MoE
    0.640 / 0.640, mixture 0.997 / 0.997, rectified 0.995 / 0.995, lr_bsz 0.845
    (lr_bsz) / 0.760 (steplaw_loss)."""
    tasks = {t.task: t for t in run_sldbench(shared_data / "sldbench_early")}
    assert len(tasks) == 5
    minimum = {
        "data_constrained_scaling_law": 0.95,
        "moe_scaling_law": 0.6,
        "domain_mixture_scaling_law": 0.99,
        "rectified_scaling_law": 0.99,
        "lr_bsz_scaling_law": 0.7,
    }
    for name, floor in minimum.items():
        assert tasks[name].r2 >= tasks[name].human_r2 > floor, name
    assert tasks["lr_bsz_scaling_law"].r2 > tasks["lr_bsz_scaling_law"].human_r2 + 0.05
