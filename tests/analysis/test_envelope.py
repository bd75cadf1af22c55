"""Approach 1 on loss curves from a known law: exponents, checkpoint policy, edges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglab.analysis.envelope import envelope, usable_rows
from scalinglab.data import read_runs
from scalinglab.errors import InputError

from ._synthetic import TRUTH, chinchilla_loss

A_TRUE = TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])


def curves(sizes=40, checkpoints=60):
    """Constant-LR (every checkpoint usable) curves: loss L(N, D) along D for each N."""
    rows = []
    for i, n in enumerate(np.geomspace(1e7, 1e10, sizes)):
        for d in np.geomspace(0.5 * n, 500 * n, checkpoints):
            rows.append((n, d, chinchilla_loss(n, d), f"r{i}"))
    N, D, L, run = map(np.array, zip(*rows))
    return N.astype(float), D.astype(float), L.astype(float), run


def test_envelope_recovers_the_allocation_exponents():
    N, D, L, run = curves()
    result = envelope(N, D, 6 * N * D, L, run, usable=np.ones(N.size, bool), points=80)
    assert result.a.ci95[0] <= A_TRUE <= result.a.ci95[1]
    assert result.a.exponent == pytest.approx(A_TRUE, abs=0.01)
    assert result.a.exponent + result.b.exponent == pytest.approx(
        1.0, abs=1e-9
    )  # C = 6ND exactly
    assert result.loss_fit.params["E"] == pytest.approx(TRUTH["E"], rel=0.02)


def test_envelope_is_the_lowest_loss_and_never_rises():
    N, D, L, run = curves(sizes=12, checkpoints=30)
    result = envelope(N, D, 6 * N * D, L, run, usable=np.ones(N.size, bool), points=40)
    assert np.all(np.diff(result.loss) < 0)
    # No run is below the envelope at an envelope compute (within interpolation error).
    for c, low in zip(result.C, result.loss):
        for r in np.unique(run):
            rows = run == r
            Cr = 6 * N[rows] * D[rows]
            if Cr.min() <= c <= Cr.max():
                assert (
                    np.exp(np.interp(np.log(c), np.log(Cr), np.log(L[rows])))
                    >= low - 1e-12
                )


def test_edge_sizes_are_left_out_and_said_so():
    N, D, L, run = curves(sizes=10, checkpoints=40)
    result = envelope(N, D, 6 * N * D, L, run, usable=np.ones(N.size, bool))
    assert N.min() not in result.N and N.max() not in result.N
    assert any("smallest or largest" in note for note in result.notes)


def test_mid_schedule_checkpoints_are_refused_unless_declared():
    N, D, L, run = curves(sizes=6, checkpoints=5)
    runs = read_runs(pd.DataFrame({"N": N, "D": D, "loss": L, "run": run}))
    with pytest.raises(InputError, match="--checkpoints final"):
        usable_rows(runs, None)
    with pytest.raises(InputError, match="usable"):
        envelope(N, D, 6 * N * D, L, run)
    final = usable_rows(runs, "final")
    assert final.sum() == 6
    assert np.all(
        runs.array("D")[final]
        == pd.Series(D).groupby(run).max().reindex(run[final]).to_numpy()
    )
    assert usable_rows(runs, "all").all()


def test_checkpoint_column_must_be_boolean():
    N, D, L, run = curves(sizes=4, checkpoints=3)
    frame = pd.DataFrame(
        {
            "N": N,
            "D": D,
            "loss": L,
            "run": run,
            "post_decay": ["yes", "no", "maybe"] * 4,
        }
    )
    with pytest.raises(InputError, match="true/false"):
        usable_rows(read_runs(frame), "post_decay")
    frame["post_decay"] = [1, 0, 1] * 4
    assert (
        usable_rows(read_runs(frame), "post_decay").tolist() == [True, False, True] * 4
    )


def test_too_few_runs_on_the_envelope_raises():
    N, D, L, run = curves(sizes=3, checkpoints=10)
    with pytest.raises(InputError, match="at least 3"):
        envelope(N, D, 6 * N * D, L, run, usable=np.ones(N.size, bool))
