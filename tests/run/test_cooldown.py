"""WSD cooldown branches: a branch started from a constant-LR trunk equals a from-scratch
WSD run; plans record trunk -> branch; the study trains trunks first; export has one row
per branch."""

from __future__ import annotations

import pytest

from scalinglab.errors import ScalinglabError
from scalinglab.run.config import TrainConfig

torch = pytest.importorskip("torch", reason="the trainer needs torch")

from scalinglab.run.trainer import train


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


def test_ladder_with_cooldowns_runs_trunks_then_branches_and_exports_branches(tmp_path):
    from scalinglab.plan import ladder
    from scalinglab.run.export import run_table
    from scalinglab.run.sweep import run_study

    plan = ladder(
        (3e4, 4.5e4), 2, (1, 2), schedule="wsd", cooldowns=(0.2,), eval_tokens=2048
    )
    trunks = [r for r in plan.runs if r.snapshot_steps]
    branches = [r for r in plan.runs if r.trunk]
    assert len(trunks) == 2 and len(branches) == 4
    for b in branches:
        trunk = next(t for t in trunks if t.run_id == b.trunk)
        assert b.trunk_step in trunk.snapshot_steps and b.trunk_step == b.steps - round(
            0.2 * b.steps
        )
        assert (b.lr, b.batch_tokens, b.warmup_steps) == (
            trunk.lr,
            trunk.batch_tokens,
            trunk.warmup_steps,
        )
    assert plan.settings["compute_ratio"] == pytest.approx(
        plan.settings["C_exact_total"] / plan.settings["C_exact_rungs_from_scratch"]
    )
    report = run_study(plan, tmp_path / "study", progress=False, workers=1, threads=1)
    assert report.finished == 6 and not report.failed
    table = run_table(tmp_path / "study")
    assert sorted(table["run"]) == sorted(b.run_id for b in branches)
    assert set(table["trunk"]) == {t.run_id for t in trunks}
    longest = max(branches, key=lambda b: b.steps)
    scratch = train(TrainConfig.from_planned_run(longest, num_threads=1))
    loss = table.set_index("run").loc[longest.run_id, "loss"]
    assert loss == pytest.approx(scratch.final_eval_loss, rel=1e-6)


def test_an_external_command_cannot_run_cooldown_branches(tmp_path):
    from scalinglab.plan import ladder
    from scalinglab.run.sweep import run_study

    plan = ladder((3e4, 4.5e4), 2, (1, 2), schedule="wsd", cooldowns=(0.2,))
    with pytest.raises(ScalinglabError, match="cannot run them"):
        run_study(
            plan,
            tmp_path / "s",
            command="python train.py --metrics {metrics_path}",
            progress=False,
        )
