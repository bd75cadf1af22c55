"""Train-to-train pairs of Brandfonbrener et al. 2024's sweep (loss_to_loss)."""

from __future__ import annotations

from pathlib import Path

# Training corpus -> the validation loss of that corpus.
OWN_LOSS = {
    "fineweb-100b": "eval/fineweb_100b_val/CrossEntropyLoss",
    "fineweb-edu-100b": "eval/fineweb_edu_100b_val/CrossEntropyLoss",
    "proof-pile-2": "eval/proof_pile_2_val/CrossEntropyLoss",
    "slimpajama-chunk1": "eval/slimpajama_val/CrossEntropyLoss",
    "smollm-corpus": "eval/smollm_val/CrossEntropyLoss",
    "starcoder": "eval/starcoder_val/CrossEntropyLoss",
}


def train_to_train(root: Path | str, x: str, y: str):
    """Models trained on corpus ``x`` and on ``y`` with the same (params, tokens), each
    on its own corpus's validation loss: columns N, D, C (the isoFLOP budget), lx, ly."""
    import pandas as pd

    sweep = pd.read_csv(Path(root, "sweep.csv"))
    sides = []
    for corpus, name in ((x, "lx"), (y, "ly")):
        part = sweep[sweep["data"] == corpus]
        part = part.groupby(["params", "tokens"], as_index=False).agg(
            **{name: (OWN_LOSS[corpus], "mean"), "C": ("iso_flop", "first")}
        )
        sides.append(part)
    pairs = sides[0].merge(sides[1].drop(columns="C"), on=["params", "tokens"])
    return pairs.rename(columns={"params": "N", "tokens": "D"}).dropna()
