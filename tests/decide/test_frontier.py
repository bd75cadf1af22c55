"""The frontier: each row is the lifetime optimum; the optimum slides along the iso-loss curve."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scalinglab.cli import main
from scalinglab.decide import Demand, lifetime_optimum
from scalinglab.decide.frontier import iso_loss_tokens, lifetime_frontier
from scalinglab.laws.presets import get_preset


def test_rows_are_lifetime_optima_and_move_to_smaller_models():
    preset = get_preset("besiroglu2024")
    demands = [0.0, 1e11, 1e12, 1e13]
    frontier = lifetime_frontier(preset, inference_tokens=demands, target_losses=[2.1])
    assert frontier.axis == "inference_tokens"
    for row, T in zip(frontier.table(), demands):
        direct = lifetime_optimum(
            preset, target_loss=2.1, demand=Demand(inference_tokens=T)
        )
        assert row["N"] == direct.N and row["total_flops"] == direct.total_flops
    N = [row["N"] for row in frontier.table()]
    assert np.all(np.diff(N) < 0)
    # Every optimum lies on the iso-loss curve of the target.
    D = iso_loss_tokens(preset, 2.1, np.array(N))
    assert D == pytest.approx([row["D"] for row in frontier.table()], rel=1e-9)


def test_budget_sweep_axis():
    frontier = lifetime_frontier(
        get_preset("hoffmann2022"), inference_tokens=[1e12], budgets=[1e21, 1e22, 1e23]
    )
    assert frontier.axis == "budget"
    assert [row["budget"] for row in frontier.table()] == [1e21, 1e22, 1e23]
    assert np.all(np.diff([row["loss"] for row in frontier.table()]) < 0)


def test_frontier_cli_json_and_figure(capsys, tmp_path):
    figure = tmp_path / "frontier.svg"
    args = ["frontier", "--preset", "besiroglu2024", "--target-loss", "2.1"]
    args += ["--inference-tokens", "0,1e12", "--plot", str(figure), "--json"]
    with pytest.raises(SystemExit) as stop:  # typer exits 0 after a command
        main(args)
    assert stop.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert [row["inference_tokens"] for row in out["rows"]] == [0.0, 1e12]
    assert out["rows"][1]["tokens_per_param"] > out["rows"][0]["tokens_per_param"]
    assert figure.read_text().startswith("<?xml")
