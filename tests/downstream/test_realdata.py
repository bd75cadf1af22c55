"""Downstream prediction on the shared real data (realdata; the ladder one also slow).

Measured numbers (bootstrap 200, seed 0; rerun with `-s` to print them):
- olmo_ladder, fit on 190M-1B, predict the final checkpoints of the six 3B runs for
  the paper's 8 tasks: two-step mean relative error 3.1% (0.8-7.3% by task; the
  single-step (N, D) baseline 3.2%, 0.7-5.1%; the compute-only C baseline 2.5%,
  0.6-6.3%), 95% intervals cover 47 of 48 (bootstrap 1000).
- gadre_overtraining: 17-task average top-1 error from C4 loss, exp link on the
  11M-154M models, predicts the 23 0.4B models with mean |error| 1.7 points (max 4.1).
- gadre_overtraining through `task fit --tasks 'acc_*' --only <the 17> --average
  --chances raw/eval_metadata.csv` (sigmoid, step 1 on C4 loss, 72 models below 0.4B,
  bootstrap 20): the average's chance 0.191 (the mean random baseline); the 23 0.4B
  models' average accuracy predicted from (N, D) within 2.3 points mean (max 7.0,
  95% coverage 0.74), from their C4 loss through the link alone 2.3 (max 6.6).
- loss_to_loss train-to-train (fineweb-100b -> each other corpus): kappa 1.04-1.16
  with 95% intervals about 0.005-0.03 wide; the largest budget held out is predicted
  from its L_x within 0.04-0.55% mean (at most 1.2%) relative error.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from scalinglab.downstream import make_link
from scalinglab.downstream.loss2loss import fit_loss2loss
from scalinglab.fit import fit

from .gadre import SUBSET, gadre_frame
from .l2l import OWN_LOSS, train_to_train
from .olmo import PAPER_TASKS, evaluate

pytestmark = pytest.mark.realdata


@pytest.mark.slow
def test_olmo_ladder_3b(shared_data):
    found = evaluate(shared_data / "olmo_ladder", bootstrap=200, seed=0)
    for task, v in found.items():
        print(task, {k: round(x, 4) for k, x in v.items()})
    assert set(found) == set(PAPER_TASKS)
    rel = np.array([v["rel"] for v in found.values()])
    single = np.array([v["single_rel"] for v in found.values()])
    compute = np.array([v["compute_rel"] for v in found.values()])
    coverage = np.mean([v["coverage"] for v in found.values()])
    assert rel.mean() < 0.04  # measured 0.031; the paper's on its 13B run is about 0.06
    assert rel.max() < 0.09  # measured 0.073 (HellaSwag)
    assert rel.mean() < single.mean()  # measured 0.031 vs 0.032 (point fits, no noise)
    # C alone does better here (0.025; why is not established, see docs/downstream.md).
    assert compute.mean() < 0.035 and compute.max() < 0.08  # measured 0.025, 0.063
    assert coverage >= 0.85  # measured 0.98
    assert all(v["task_loss_rel"] < 0.05 for v in found.values())


def test_gadre_average_error_from_c4_loss(shared_data):
    frame, _ = gadre_frame(shared_data / "gadre_overtraining")
    small, large = frame[frame["params"] < 3e8], frame[frame["params"] >= 3e8]
    assert len(large) == 23 and large["params"].nunique() == 1
    x = small["loss_c4_val"].to_numpy()
    result = fit(
        make_link("exp", x),
        {"x": x, "loss": small["err17"].to_numpy()},
        objective="mse",
        bootstrap=200,
        extrapolation=None,
    )
    x_large, actual = large["loss_c4_val"].to_numpy(), large["err17"].to_numpy()
    error = result.predict(x=x_large) - actual
    low, high = result.predict_interval(x=x_large)
    assert np.mean(np.abs(error)) < 0.025  # measured 0.017
    assert np.max(np.abs(error)) < 0.06  # measured 0.041
    assert np.mean((actual >= low) & (actual <= high)) >= 0.7  # measured 0.83


@pytest.mark.slow
def test_gadre_average_through_the_cli_with_chances_from_metadata(
    shared_data, invoke_json, tmp_path
):
    from scalinglab.downstream.chain import load_task_fit_dict

    root = shared_data / "gadre_overtraining"
    frame, chance_error = gadre_frame(root)
    small, large = frame[frame["params"] < 3e8], frame[frame["params"] >= 3e8]
    small.to_csv(tmp_path / "small.csv", index=False)
    saved = tmp_path / "tasks.json"
    fitted = invoke_json(
        "task",
        "fit",
        str(tmp_path / "small.csv"),
        "--N",
        "params",
        "--D",
        "tokens",
        "--tasks",
        "acc_*",
        "--only",
        ",".join(SUBSET),
        "--task-loss",
        "loss_c4_val",
        "--average",
        "--chances",
        str(root / "raw" / "eval_metadata.csv"),
        "--bootstrap",
        "20",
        "-o",
        str(saved),
    )
    chances = {name: t["chance"] for name, t in fitted["tasks"].items()}
    assert chances["boolq"] == 0.5 and chances["squad"] == 0.0
    assert chances["average"] == pytest.approx(1 - chance_error, abs=1e-12)  # 0.191
    average = load_task_fit_dict(json.loads(saved.read_text())["tasks"]["average"])
    N, D = large["params"].to_numpy(), large["tokens"].to_numpy()
    actual = 1 - large["err17"].to_numpy()
    error = average.predict(N=N, D=D)["metric"] - actual
    low, high = average.predict_interval(N=N, D=D)["metric"]
    assert (
        np.mean(np.abs(error)) < 0.03 and np.max(np.abs(error)) < 0.08
    )  # 0.023, 0.070
    assert np.mean((actual >= low) & (actual <= high)) >= 0.7  # measured 0.74
    link = average.link_law.predict(average.link_params, x=large["loss_c4_val"])
    assert np.mean(np.abs(link - actual)) < 0.03  # measured 0.023


@pytest.mark.parametrize("y", [c for c in OWN_LOSS if c != "fineweb-100b"])
def test_loss_to_loss_train_to_train(shared_data, y):
    pairs = train_to_train(shared_data / "loss_to_loss", "fineweb-100b", y)
    full = fit_loss2loss(pairs, x="lx", y="ly", bootstrap=200)
    low, high = full.conf_int()["kappa"]
    assert 1.0 < low <= full.params["kappa"] <= high < 1.25
    top = pairs["C"].max()
    held = fit_loss2loss(pairs[pairs["C"] < top], x="lx", y="ly", bootstrap=200)
    test = pairs[pairs["C"] == top]
    rel = np.abs(held.predict_from_x(test["lx"].to_numpy()) / test["ly"].to_numpy() - 1)
    assert rel.mean() < 0.01 and rel.max() < 0.02


@pytest.mark.parametrize(
    ("target", "chance", "bound", "compute_only"),
    [("GSM8K", 0.0, 0.14, 0.211), ("MMLU", 0.25, 0.08, 0.129)],
)
def test_observational_hold_out_by_compute(
    shared_data, target, chance, bound, compute_only
):
    """Fit below Llama-2-7B's compute (8.4e22 FLOPs), predict the 41 larger models from
    their other benchmarks. Measured (k=1): GSM8K 0.117, MMLU 0.066 mean |error|; a sigmoid
    in log compute alone errs by 0.211 and 0.129 (HumanEval, not tested: 0.122 vs 0.103)."""
    import pandas as pd

    from scalinglab.downstream.observational import fit_observational

    frame = pd.read_csv(shared_data / "obsscaling" / "base_llm_benchmark_eval.csv")
    compute = "FLOPs (1E21)"
    frame = frame[frame[compute].notna()].reset_index(drop=True)
    bench = ["MMLU", "ARC-C", "HellaSwag", "Winograd", "TruthfulQA", "XWinograd"]
    bench = [b for b in bench if b != target]
    below = (frame[compute] < 84).to_numpy()
    found = fit_observational(
        frame,
        benchmarks=bench,
        target=target,
        family="Model Family",
        compute=compute,
        k=1,
        chance=chance,
        bootstrap=50,
        fit_rows=below,
    )
    held = frame[~below].dropna(subset=[*bench, target])
    error = found.predict_from_scores(held[bench].to_numpy()) - held[target].to_numpy()
    assert len(held) == 41
    assert np.mean(np.abs(error)) < bound < compute_only
