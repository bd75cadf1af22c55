"""WSD cooldown branches: a branch started from a constant-LR trunk equals a from-scratch
WSD run; plans record trunk -> branch; the study trains trunks first; export has one row
per branch."""

from __future__ import annotations

import pytest

from scalinglab.errors import ScalinglabError
from scalinglab.run.config import TrainConfig

torch = pytest.importorskip("torch", reason="the trainer needs torch")

from scalinglab.run.trainer import train  # noqa: E402


def config(**changes) -> TrainConfig:
    base = {
        "n_layer": 1,
        "d_model": 32,
        "n_head": 2,
        "d_ff": 128,
        "n_ctx": 32,
        "seq_len": 32,
        "batch_size": 4,
        "lr": 3e-3,
        "warmup_steps": 3,
        "eval_tokens": 1024,
        "num_threads": 1,
    }
    return TrainConfig(**{**base, **changes})


def test_a_branch_from_the_trunk_equals_a_from_scratch_wsd_run(tmp_path):
    scratch = train(config(steps=30, schedule="wsd", decay_fraction=0.2))
    snapshot = tmp_path / "trunk@24.pt"
    train(config(steps=26, schedule="constant"), snapshots={24: snapshot})
    rows: list[dict] = []
    branch = train(
        config(steps=30, schedule="wsd", decay_fraction=0.2),
        emit=rows.append,
        branch_from=snapshot,
        checkpoint_path=tmp_path / "branch.pt",
    )
    assert branch.final_eval_loss == scratch.final_eval_loss  # bit-identical on the CPU
    assert branch.resumed_from_step == 24 and rows[0]["step"] == 25
    with pytest.raises(
        ScalinglabError, match=r"does not fit this cooldown branch: \['lr'\]"
    ):
        train(config(steps=30, schedule="wsd", lr=1e-3), branch_from=snapshot)
