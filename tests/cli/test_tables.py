"""Tables printed to a pipe: full width (no wrapped titles or cells), one row per budget."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _recipes_csv(tmp_path):
    N = np.repeat(np.geomspace(2e7, 2e9, 7), 5)
    D = N * np.tile([5.0, 10.0, 20.0, 40.0, 80.0], 7)

    def loss(N, D):
        return 1.8 + 480 * N**-0.35 + 2000 * D**-0.37

    rng = np.random.default_rng(0)
    L = np.r_[loss(N, D), loss(2**0.5 * N, 2**0.5 * D)]
    L = L * np.exp(0.004 * rng.standard_normal(L.size))
    path = tmp_path / "recipes.csv"
    frame = {
        "N": np.r_[N, N],
        "D": np.r_[D, D],
        "loss": L,
        "recipe": ["A"] * 35 + ["B"] * 35,
    }
    pd.DataFrame(frame).to_csv(path, index=False)
    return path


def test_compare_prints_its_whole_title_and_each_budget_once(invoke, tmp_path):
    code, out, _ = invoke(
        "compare",
        str(_recipes_csv(tmp_path)),
        "--group",
        "recipe",
        "--baseline",
        "A",
        "--bootstrap",
        "20",
    )
    assert code == 0
    lines = out.splitlines()
    title = "compute multiplier vs A (chinchilla, paired by design (same N, D runs in every group))"
    assert lines[0].strip() == title
    budgets = [line.split("│")[2].strip() for line in lines if line.startswith("│")]
    assert len(budgets) == 5 and len(set(budgets)) == 5  # 4.8e+18 was listed twice
    summary = next(line for line in lines if line.startswith("B: multiplier"))
    assert "d log m / d log C" in summary  # one line, not wrapped at 80 columns
