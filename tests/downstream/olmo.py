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
        run = path.stem
        part["run"] = run
        part["size"] = run.split("-")[0]
        part["N"] = float(SIZES[part["size"].iloc[0]])
        part["D"] = part["throughput/total_tokens"].astype(float)
        part = part[part["D"] > 0]
        part["final"] = part["D"] == part["D"].max()
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame["mmlu_test_bpb"] = frame[[_BPB.format(t) for t in _MMLU]].mean(axis=1)
    frame["mmlu_test_acc"] = frame[[_ACC.format(t) for t in _MMLU]].mean(axis=1)
    return frame.reset_index(drop=True).assign(
        final=lambda f: f["final"].astype(bool) & np.isfinite(f["D"])
    )
