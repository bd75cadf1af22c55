"""The OLMo ladder (Bhagia et al. 2024) as one task table, and the paper's 8 tasks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Non-embedding parameters per size (SOURCE.md of olmo_ladder).
SIZES = {
    "190M": 190_354_176,
    "370M": 371_262_464,
    "760M": 758_220_288,
    "1B": 1_279_395_840,
    "3B": 3_169_537_280,
}
_BPB = "eval/downstream_bpb/{}_rc_5shot_bpb"
_ACC = "eval/downstream/{}_rc_5shot_len_norm"
_MMLU = [f"mmlu_{s}_test" for s in ("stem", "humanities", "social_sciences", "other")]
# task -> (task-loss column, accuracy column, chance accuracy); MMLU is the mean of its
# four test subsets, as in the paper.
PAPER_TASKS = {
    "mmlu": ("mmlu_test_bpb", "mmlu_test_acc", 0.25),
    "hellaswag": (_BPB.format("hellaswag_val"), _ACC.format("hellaswag_val"), 0.25),
    "arc_challenge": (
        _BPB.format("arc_challenge_test"),
        _ACC.format("arc_challenge_test"),
        0.25,
    ),
    "arc_easy": (_BPB.format("arc_easy_test"), _ACC.format("arc_easy_test"), 0.25),
    "piqa": (_BPB.format("piqa_val"), _ACC.format("piqa_val"), 0.5),
    "csqa": (_BPB.format("csqa_val"), _ACC.format("csqa_val"), 0.2),
    "socialiqa": (_BPB.format("socialiqa_val"), _ACC.format("socialiqa_val"), 1 / 3),
    "openbookqa": (
        _BPB.format("openbookqa_test"),
        _ACC.format("openbookqa_test"),
        0.25,
    ),
}


def ladder_frame(root: Path | str):
    """Every eval row of every ladder run: run, size, N, D, final, the task columns."""
    import pandas as pd

    parts = []
    for path in sorted(Path(root, "data", "ladder-runs").glob("*.csv")):
        part = pd.read_csv(path)
        size = path.stem.split("-")[0]
        tokens = part["throughput/total_tokens"].astype(float)
        part = part.assign(
            run=path.stem,
            size=size,
            N=float(SIZES[size]),
            D=tokens,
            final=tokens == tokens.max(),
        )
        parts.append(part[part["D"] > 0])
    frame = pd.concat(parts, ignore_index=True)
    return frame.assign(
        mmlu_test_bpb=frame[[_BPB.format(t) for t in _MMLU]].mean(axis=1),
        mmlu_test_acc=frame[[_ACC.format(t) for t in _MMLU]].mean(axis=1),
    )


def evaluate(root: Path | str, *, bootstrap: int = 200, seed: int = 0) -> dict:
    """Fit every paper task on 190M-1B, predict the final checkpoint of every 3B run.

    Returns, per task: mean absolute and relative error of the two-step prediction and
    of the two single-step variants ((N, D) -> metric: ``single_*``; C -> metric:
    ``compute_*``), the two-step 95% interval coverage (prediction kind) and its mean
    width, and the task-loss relative error of step 1.
    """
    from scalinglab.downstream import fit_task
    from scalinglab.downstream.single import fit_single_step, fit_single_step_compute

    frame = ladder_frame(root)
    train = frame[frame["size"] != "3B"]
    test = frame[(frame["size"] == "3B") & frame["final"]]
    N, D = test["N"].to_numpy(), test["D"].to_numpy()
    found = {}
    for task, (loss_column, metric, chance) in PAPER_TASKS.items():
        two = fit_task(
            train,
            task_loss=loss_column,
            metric=metric,
            run="run",
            chance=chance,
            bootstrap=bootstrap,
            seed=seed,
            name=task,
        )
        one = fit_single_step(train, two, bootstrap=bootstrap, seed=seed)
        actual = test[metric].to_numpy()
        point = two.predict(N=N, D=D)
        low, high = two.predict_interval(N=N, D=D)["metric"]
        single = one.predict(N=N, D=D)
        compute = fit_single_step_compute(train, two, bootstrap=0, seed=seed)
        by_compute = compute.predict(C=6.0 * N * D)
        found[task] = {
            "abs": float(np.mean(np.abs(point["metric"] - actual))),
            "rel": float(np.mean(np.abs(point["metric"] - actual) / actual)),
            "single_abs": float(np.mean(np.abs(single - actual))),
            "single_rel": float(np.mean(np.abs(single - actual) / actual)),
            "compute_abs": float(np.mean(np.abs(by_compute - actual))),
            "compute_rel": float(np.mean(np.abs(by_compute - actual) / actual)),
            "coverage": float(np.mean((actual >= low) & (actual <= high))),
            "width": float(np.mean(high - low)),
            "task_loss_rel": float(
                np.mean(np.abs(point["task_loss"] / test[loss_column].to_numpy() - 1))
            ),
            "runs": len(test),
        }
    return found
