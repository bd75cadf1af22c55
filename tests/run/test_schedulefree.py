"""Schedule-free AdamW in the built-in trainer: trains, evaluates at the averaged weights,
resumes bit-identically, and is checked."""

from __future__ import annotations

import math

import pytest

from scalinglab.errors import ScalinglabError
from scalinglab.run.config import TrainConfig

torch = pytest.importorskip("torch", reason="the trainer needs torch")
schedulefree = pytest.importorskip("schedulefree", reason="pip install schedulefree")

from scalinglab.run.trainer import train


def config(**changes) -> TrainConfig:
    base = dict(
        n_layer=1,
        d_model=32,
        n_head=2,
        d_ff=128,
        n_ctx=32,
        seq_len=32,
        batch_size=8,
        steps=24,
        lr=3e-3,
        warmup_steps=4,
        eval_every=8,
        eval_tokens=2048,
        optimizer="schedulefree",
        schedule="constant",
        num_threads=1,
    )
    return TrainConfig(**{**base, **changes})


def test_schedule_free_learns_and_evaluates_at_the_averaged_weights(monkeypatch):
    rows: list[dict] = []
    modes = []
    original = schedulefree.AdamWScheduleFree.eval

    def spy(self):
        modes.append("eval")
        return original(self)

    monkeypatch.setattr(schedulefree.AdamWScheduleFree, "eval", spy)
    train(config(), emit=rows.append)
    evals = [r["eval_loss"] for r in rows if r["eval_loss"] is not None]
    assert len(evals) == 3 and modes == ["eval"] * 3  # every evaluation at x
    assert evals[-1] < math.log(256) - 0.5
    assert all(
        r["lr"] == pytest.approx(3e-3) for r in rows[4:]
    )  # constant after warmup


def test_schedule_free_resumes_bit_identically(tmp_path):
    straight: list[dict] = []
    train(config(), emit=straight.append)

    class Crash(Exception):
        pass

    def crash(row):
        if row["step"] == 18:
            raise Crash

    ckpt = tmp_path / "sf.pt"
    with pytest.raises(Crash):
        train(config(), emit=crash, checkpoint_path=ckpt, checkpoint_every=8)
    resumed: list[dict] = []
    train(config(), emit=resumed.append, checkpoint_path=ckpt, checkpoint_every=8)
    drop = lambda r: {k: v for k, v in r.items() if k != "wall_time"}
    assert [drop(r) for r in resumed] == [drop(r) for r in straight[16:]]


def test_schedule_free_needs_a_constant_schedule():
    with pytest.raises(ScalinglabError, match="constant"):
        config(schedule="cosine")
    with pytest.raises(ScalinglabError, match="optimizer"):
        config(optimizer="sgd")


def test_schedule_free_is_planned_and_checked():
    from scalinglab.plan import ladder

    plan = ladder((1e5, 4e5), 2, (10,), optimizer="schedulefree", schedule="constant")
    cfg = TrainConfig.from_planned_run(plan.runs[0])
    assert (cfg.optimizer, cfg.schedule) == ("schedulefree", "constant")
    assert "optimizer" not in ladder((1e5, 4e5), 2, (10,)).runs[0].to_dict()
    with pytest.raises(
        ScalinglabError, match="--optimizer schedulefree --schedule constant"
    ):
        ladder((1e5, 4e5), 2, (10,), optimizer="schedulefree")
