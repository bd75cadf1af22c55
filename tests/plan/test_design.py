"""Ladder and IsoFLOP designs: exact counts per run, preset hyperparameters, warnings, files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from scalinglab.analysis.hparams_presets import suggest_hparams
from scalinglab.errors import ScalinglabError
from scalinglab.plan import (
    Plan,
    count_params,
    isoflop_grid,
    ladder,
    load_plan,
    save_plan,
    train_flops,
)


def test_ladder_crosses_sizes_and_ratios_with_exact_counts():
    plan = ladder((1e6, 3e7), 6, (5, 10, 20, 40))
    assert len(plan.runs) == 24 and plan.warnings == ()
    targets = np.geomspace(1e6, 3e7, 6)
    for i, run in enumerate(plan.runs):
        target, ratio = targets[i // 4], (5, 10, 20, 40)[i % 4]
        counts, flops = (
            count_params(run.shape),
            train_flops(run.shape, run.D, seq_len=run.seq_len),
        )
        assert (run.N, run.N_non_embedding) == (counts.total, counts.non_embedding)
        assert abs(run.N / target - 1) < 0.02
        assert run.D == run.steps * run.batch_tokens
        assert (
            abs(run.D / (ratio * run.N_target) - 1)
            <= run.batch_tokens / (2 * run.D) + 1e-12
        )
        assert run.C == 6 * run.N * run.D
        assert (
            run.C_exact == flops.exact
            and run.C_exact_no_attention == flops.exact_no_attention
        )
        assert run.C_exact_no_embedding == flops.exact_no_embedding
        assert (
            run.C_exact_no_attention_no_embedding
            == flops.exact_no_attention_no_embedding
        )
        assert run.C_non_embedding == 6 * run.N_non_embedding * run.D


def test_hyperparameters_come_from_the_preset_at_the_runs_size():
    for preset in ("steplaw", "deepseek"):
        plan = ladder((1e5, 1e6), 3, (10, 40), hparams=preset, lr_scale=0.5)
        for run in plan.runs:
            hint = suggest_hparams(run.N_non_embedding, run.D_target, preset=preset)
            assert run.lr == pytest.approx(0.5 * hint.lr, rel=1e-12)
            assert run.batch_tokens % run.seq_len == 0
            assert abs(run.batch_tokens - hint.batch_tokens) <= run.seq_len / 2
            assert hint.source in run.hparams and "x 0.5" in run.hparams


def test_one_ratio_is_flagged_collinear_and_few_sizes_narrow():
    plan = ladder((1e6, 2e6), 2, (20,))
    text = " ".join(plan.warnings)
    assert "collinear" in text and "narrow" in text and "cannot identify" in text
    wide = ladder((1e6, 1e7), 3, (10, 20))
    assert wide.warnings == ()


def test_duplicate_shapes_are_dropped_with_a_warning():
    plan = ladder((1e5, 1.005e5), 3, (10, 20))
    assert len({r.shape for r in plan.runs}) == len(plan.runs) // 2
    assert any("same shape" in w for w in plan.warnings)


def test_isoflop_runs_sit_on_their_budgets_around_the_chinchilla_optimum():
    plan = isoflop_grid((1e14, 1e16), n_budgets=3, points=7)
    assert len(plan.runs) == 21 and plan.warnings == ()
    budgets = sorted({r.budget for r in plan.runs})
    assert budgets == pytest.approx([1e14, 1e15, 1e16], rel=1e-12)
    for C in budgets:
        runs = [r for r in plan.runs if r.budget == C]
        for r in runs:  # whole steps move C by at most half a batch of tokens
            assert abs(r.C / C - 1) <= 6 * r.N * r.batch_tokens / (2 * C) + 1e-12
        N = np.array([r.N for r in runs])
        assert np.all(np.diff(N) > 0)
        centre = math.sqrt(C / 120)
        assert N[0] == pytest.approx(centre / 4, rel=0.03)
        assert N[-1] == pytest.approx(centre * 4, rel=0.03)


def test_isoflop_with_too_few_points_or_budgets_warns():
    text = " ".join(isoflop_grid((1e14, 1e14), n_budgets=1, points=2).warnings)
    assert "bracket" in text and "one budget" in text


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_plan_files_round_trip(tmp_path, suffix):
    plan = ladder((1e5, 1e6), 3, (10, 20), schedule="wsd", seed=3)
    path = save_plan(plan, tmp_path / f"plan{suffix}")
    again = load_plan(path)
    assert again.runs == plan.runs and again.warnings == plan.warnings
    assert again.to_dict() == plan.to_dict()
    assert {r.schedule for r in again.runs} == {"wsd"} and {
        r.seed for r in again.runs
    } == {3}


def test_plan_json_holds_counts_and_conventions(tmp_path):
    path = save_plan(ladder((1e5, 1e6), 3, (10, 20)), tmp_path / "p.json")
    data = json.loads(path.read_text())
    run = data["runs"][0]
    for key in (
        "N",
        "N_non_embedding",
        "D",
        "C",
        "C_exact",
        "C_exact_no_attention",
        "C_exact_no_embedding",
        "C_exact_no_attention_no_embedding",
        "lr",
        "batch_tokens",
        "steps",
        "shape",
    ):
        assert key in run
    assert set(run["shape"]) == {
        "n_layer",
        "d_model",
        "n_head",
        "d_ff",
        "vocab_size",
        "n_ctx",
    }
    assert "C_exact" in data["conventions"]


def test_bad_plan_files_name_the_problem(tmp_path):
    with pytest.raises(ScalinglabError, match=r"\.json, \.yaml or \.yml"):
        save_plan(ladder((1e5, 1e6), 3, (10,)), tmp_path / "plan.txt")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ScalinglabError, match="not valid JSON"):
        load_plan(tmp_path / "bad.json")
    (tmp_path / "keys.json").write_text(json.dumps({"runs": [{"run_id": "a"}]}))
    with pytest.raises(ScalinglabError, match="missing keys"):
        load_plan(tmp_path / "keys.json")
    with pytest.raises(ScalinglabError, match="does not exist"):
        load_plan(tmp_path / "none.json")


def test_bad_design_arguments_are_rejected():
    with pytest.raises(ScalinglabError, match="tokens_per_param"):
        ladder((1e5, 1e6), 3, (0,))
    with pytest.raises(ScalinglabError, match="unknown plan option"):
        ladder((1e5, 1e6), 3, (10,), colour="red")
    with pytest.raises(ScalinglabError, match="schedule"):
        ladder((1e5, 1e6), 3, (10,), schedule="linear")


def test_user_corpus_is_recorded_as_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = ladder((1e5, 1e6), 3, (10,), corpus="text.txt")
    assert {r.corpus for r in plan.runs} == {str(tmp_path / "text.txt")}
    assert isinstance(Plan.from_dict(plan.to_dict()), Plan)
