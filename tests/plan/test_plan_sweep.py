"""plan sweep: lr x batch (x weight decay) grids, exact counts, one D per cell; run and fit."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from scalinglab.analysis.hparams_presets import suggest_hparams
from scalinglab.cli import app
from scalinglab.errors import ScalinglabError
from scalinglab.plan import count_params, ladder, load_plan, save_plan, train_flops
from scalinglab.plan.sweep import parse_grid, sweep
from scalinglab.run.config import TrainConfig
from scalinglab.run.sweep import run_study

TAU = {"coef": 0.8, "TPP": -0.5}


def test_parse_grid_forms_and_errors():
    assert parse_grid("16..256:5", "--bs").values == (16.0, 32.0, 64.0, 128.0, 256.0)
    assert parse_grid("3e-4..3e-2:3", "--lr").values == pytest.approx(
        (3e-4, 3e-3, 3e-2)
    )
    relative = parse_grid("0.25x..4x:5", "--lr")
    assert relative.relative and relative.values == (0.25, 0.5, 1.0, 2.0, 4.0)
    assert parse_grid("1x", "--bs").resolve(37.0) == (37.0,)
    assert parse_grid("0.1,0.01", "--wd").values == (0.01, 0.1)
    for bad in ("a..b:3", "-1..2:3", "1..2:0"):
        with pytest.raises(ScalinglabError, match="--lr"):
            parse_grid(bad, "--lr")


def test_sweep_grid_exact_counts_and_one_D_per_cell():
    plan = sweep(
        [1e6, 4e6],
        tokens_per_param=[20],
        lr=parse_grid("3e-4..3e-2:7", "lr"),
        batch=parse_grid("16..256:5", "bs"),
    )
    assert plan.kind == "sweep" and len(plan.runs) == 2 * 7 * 5
    cells = {(r.N, r.D) for r in plan.runs}
    assert len(cells) == 2  # every batch size trains on the same tokens
    for r in plan.runs:
        assert r.D == r.steps * r.batch_tokens and r.D % (256 * r.seq_len) == 0
        assert r.C_exact == pytest.approx(
            train_flops(r.shape, r.D, seq_len=r.seq_len).exact, rel=1e-12
        )
        assert abs(r.D / (20 * r.N) - 1) < 0.05
    assert plan.settings["total_C_exact"] == pytest.approx(
        sum(r.C_exact for r in plan.runs)
    )
    assert sorted({r.lr for r in plan.runs}) == pytest.approx(
        np.geomspace(3e-4, 3e-2, 7)
    )


def test_relative_grids_centre_on_the_preset_and_weight_decay_reaches_the_trainer():
    plan = sweep(
        [1e5],
        D=[2e6],
        batch=parse_grid("0.5x..2x:3", "bs"),
        weight_decay=parse_grid("0.01..1:3", "wd"),
        lr_scale=0.5,
    )
    run = plan.runs[0]
    preset = suggest_hparams(count_params(run.shape).non_embedding, 2e6)
    lrs = sorted({r.lr for r in plan.runs})
    assert lrs[2] == pytest.approx(
        preset.lr * 0.5, rel=1e-12
    )  # 1x of the scaled preset
    sequences = sorted({r.batch_tokens // r.seq_len for r in plan.runs})
    assert all(math.log2(b).is_integer() for b in sequences)
    assert sorted({r.weight_decay for r in plan.runs}) == pytest.approx(
        [0.01, 0.1, 1.0]
    )
    config = TrainConfig.from_planned_run(plan.runs[-1])
    assert config.weight_decay == plan.runs[-1].weight_decay == pytest.approx(1.0)


def test_plan_file_round_trip_and_ladders_unchanged(tmp_path):
    plan = sweep(
        [1e5],
        tokens_per_param=[20],
        lr=parse_grid("1e-3,1e-2", "lr"),
        batch=parse_grid("8", "bs"),
        weight_decay=parse_grid("0.1", "wd"),
    )
    assert load_plan(save_plan(plan, tmp_path / "p.json")).runs == plan.runs
    assert "weight_decay" not in ladder((1e5, 2e5), 2, (10,)).runs[0].to_dict()
    with pytest.raises(ScalinglabError, match="exactly one"):
        sweep([1e5])
    with pytest.raises(ScalinglabError, match="whole sequences"):
        sweep([1e5], D=[1e6], batch=parse_grid("8.5", "bs"))


def test_cli_plan_sweep_prints_total_cost(tmp_path):
    out = CliRunner().invoke(
        app,
        [
            "plan",
            "sweep",
            "--N",
            "1e5,2e5",
            "--D",
            "20x",
            "--lr",
            "1e-3..1e-2:3",
            "--bs",
            "8,16",
            "-o",
            str(tmp_path / "s.json"),
        ],
    )
    assert out.exit_code == 0, out.output
    plan = load_plan(tmp_path / "s.json")
    assert len(plan.runs) == 2 * 3 * 2
    assert f"total cost: {sum(r.C_exact for r in plan.runs):.4g} FLOPs" in out.output
    bad = CliRunner().invoke(app, ["plan", "sweep", "--N", "1e5", "--D", "20x,1e6"])
    assert bad.exit_code == 1


def bowl_trial(task, emit):
    """Stands in for the trainer: a loss bowl around known lr, batch and timescale optima."""
    spec = task.spec.to_dict()
    N, D, lr, bs, wd = (
        spec[k] for k in ("N", "D", "lr", "batch_tokens", "weight_decay")
    )
    lr_opt, bs_opt = 0.02 * (N / 1e5) ** -0.5, 2048 * (D / 2e6) ** 0.5
    tau_opt = TAU["coef"] * (D / N) ** TAU["TPP"]
    x, y, z = (
        np.log(lr / lr_opt),
        np.log(bs / bs_opt),
        np.log(bs / (lr * wd * D) / tau_opt),
    )
    loss = (2.0 + 1e5 / N) * (1 + 0.01 * x * x + 0.006 * y * y + 0.004 * z * z)
    emit(
        {
            "step": spec["steps"],
            "tokens": float(D),
            "flops": spec["C"],
            "lr": lr,
            "train_loss": loss,
            "eval_loss": loss,
            "wall_time": 0.0,
        }
    )
    return {}


def test_run_a_sweep_then_fit_the_study(tmp_path):
    plan = sweep(
        [1e5, 4e5],
        tokens_per_param=[10, 40],
        lr=parse_grid("0.25x..4x:5", "lr"),
        batch=parse_grid("0.5x..2x:3", "bs"),
        weight_decay=parse_grid("0.003..3:7", "wd"),
    )
    report = run_study(
        plan, tmp_path / "study", trial=bowl_trial, progress=False, workers=1
    )
    assert report.finished == len(plan.runs) == 4 * 5 * 3 * 7
    out = CliRunner().invoke(
        app,
        [
            "hparams",
            "fit",
            str(tmp_path / "study"),
            "--wd",
            "weight_decay",
            "--bootstrap",
            "50",
            "--method",
            "quadratic",
            "--fit-band",
            "0.5",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["wd_law"]["params"]["TPP"] == pytest.approx(TAU["TPP"], abs=1e-6)
    # lr and batch laws see each (lr, batch)'s best loss over a weight-decay grid 3.2x apart,
    # whose leftover timescale error shifts their optima slightly: near, not exact.
    assert payload["lr_law"]["params"]["N"] == pytest.approx(-0.5, abs=0.02)
    assert payload["bs_law"]["params"]["D"] == pytest.approx(0.5, abs=0.02)
