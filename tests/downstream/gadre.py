"""Gadre et al. 2024's models with the paper's 17-task average top-1 error."""

from __future__ import annotations

from pathlib import Path

# The paper's 17-task subset (SOURCE.md of gadre_overtraining, from scaling/constants.py).
SUBSET = [
    "bigbench_operators",
    "pubmed_qa_labeled",
    "hellaswag_zeroshot",
    "boolq",
    "arc_easy",
    "coqa",
    "bigbench_dyck_languages",
    "lambada_openai",
    "bigbench_novel_concepts",
    "winograd",
    "bigbench_cs_algorithms",
    "commonsense_qa",
    "bigbench_qa_wikidata",
    "hellaswag",
    "copa",
    "squad",
    "piqa",
]


def gadre_frame(root: Path | str):
    """The models with ``err17`` (1 - mean accuracy over the subset), and the subset's
    chance error (1 - mean random baseline of ``raw/eval_metadata.csv``)."""
    import pandas as pd

    frame = pd.read_csv(Path(root, "gadre_models.csv"))
    meta = pd.read_csv(Path(root, "raw", "eval_metadata.csv")).set_index("Eval Task")
    chance = 1.0 - float(meta.loc[list(SUBSET), "Random baseline"].mean()) / 100.0
    accuracy = frame[[f"acc_{t}" for t in SUBSET]].mean(axis=1)
    return frame.assign(err17=1.0 - accuracy), chance
