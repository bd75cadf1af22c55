"""Synthetic ladders with known truth for the two-step task law."""

from __future__ import annotations

import numpy as np

# Step 1: task bits per byte as a Chinchilla law of N and D.
STEP1 = {"E": 0.55, "A": 40.0, "B": 80.0, "alpha": 0.3, "beta": 0.3}
# Step 2: the sigmoid link with chance 0.25.
LINK = {"a": 0.6, "k": -8.0, "L0": 0.95, "b": 0.25}
SIZES = (6e7, 1.5e8, 4e8, 1e9)
RATIOS = (5, 10, 20, 50, 100)


def task_loss(N, D, truth=STEP1):
    return (
        truth["E"]
        + truth["A"] * N ** -truth["alpha"]
        + truth["B"] * D ** -truth["beta"]
    )


def sigmoid(x, truth=LINK):
    return truth["a"] / (1 + np.exp(-truth["k"] * (x - truth["L0"]))) + truth["b"]


def ladder(
    *,
    loss_noise: float = 0.0,
    metric_noise: float = 0.0,
    checkpoints: int = 4,
    seed: int = 0,
    link=sigmoid,
):
    """One row per checkpoint (the last one ends the run): run, N, D, task_loss, metric."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = []
    for n in SIZES:
        for ratio in RATIOS:
            final = n * ratio
            for j, d in enumerate(final * np.linspace(0.4, 1.0, checkpoints)):
                tl = task_loss(n, d) * np.exp(loss_noise * rng.standard_normal())
                rows.append(
                    {
                        "run": f"{n:.0e}-{ratio}",
                        "N": n,
                        "D": d,
                        "task_loss": tl,
                        "metric": link(tl) + metric_noise * rng.standard_normal(),
                    }
                )
    return pd.DataFrame(rows)
