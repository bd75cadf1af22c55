"""The CLI contract of isoflop, envelope, chinchilla, validate, compare-laws and compare."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.cli import app, main

from ._synthetic import TRUTH, chinchilla_loss, isoflop_design
from .test_compare import S, T, scaled

runner = CliRunner()


def _invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result


def _json(*args):
    result = _invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def isoflop_csv(tmp_path):
    N, D, C = isoflop_design(np.geomspace(1e18, 1e21, 7), span=30.0, points=9)
    L = chinchilla_loss(N, D) * np.exp(
        0.003 * np.random.default_rng(0).standard_normal(N.size)
    )
    path = tmp_path / "iso.csv"
    pd.DataFrame({"params": N, "flops": C, "val_loss": L}).to_csv(path, index=False)
    return path


@pytest.fixture
def recipes_csv(tmp_path):
    N = np.repeat(np.geomspace(1e7, 3e9, 8), 6)
    D = N * np.tile(np.geomspace(2, 200, 6), 8)
    L = np.r_[chinchilla_loss(N, D), chinchilla_loss(N, D, scaled(TRUTH, S, T))]
    L = L * np.exp(0.005 * np.random.default_rng(1).standard_normal(L.size))
    path = tmp_path / "recipes.csv"
    pd.DataFrame(
        {
            "N": np.r_[N, N],
            "D": np.r_[D, D],
            "loss": L,
            "recipe": ["A"] * N.size + ["B"] * N.size,
        }
    ).to_csv(path, index=False)
    return path


def test_isoflop_json_contract(isoflop_csv, tmp_path):
    out = _json(
        "isoflop",
        isoflop_csv,
        "--N",
        "params",
        "--loss",
        "val_loss",
        "--C",
        "flops",
        "--draws",
        300,
        "--plot",
        tmp_path / "iso.png",
    )
    assert len(out["budgets"]) == 7
    for b in out["budgets"]:
        assert {"C", "N_opt", "loss_opt"} <= set(b)
        assert b["ci95"]["N_opt"][0] <= b["N_opt"] <= b["ci95"]["N_opt"][1]
    a_true = TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])
    assert out["a"]["ci95"][0] <= a_true <= out["a"]["ci95"][1]
    assert out["b"]["ci95"][0] <= 1 - a_true <= out["b"]["ci95"][1]
    assert (tmp_path / "iso.png").stat().st_size > 1000


def test_validate_json_contract(recipes_csv, tmp_path):
    out = _json(
        "validate",
        recipes_csv,
        "--law",
        "chinchilla",
        "--N",
        "N",
        "--D",
        "D",
        "--loss",
        "loss",
        "--holdout",
        "N >= 1e9",
        "--where",
        "recipe == 'A'",
        "--bootstrap",
        50,
        "--plot",
        tmp_path / "v.svg",
    )
    assert len(out["heldout"]) == 12
    for p in out["heldout"]:
        assert {"actual", "predicted", "rel_error", "in_ci95"} <= set(p)
        assert p["rel_error"] == pytest.approx(
            (p["predicted"] - p["actual"]) / p["actual"]
        )
    assert out["median_abs_rel_error"] == pytest.approx(
        np.median([abs(p["rel_error"]) for p in out["heldout"]])
    )
    assert (tmp_path / "v.svg").exists()


def test_compare_json_contract(recipes_csv):
    out = _json(
        "compare",
        recipes_csv,
        "--law",
        "chinchilla",
        "--group",
        "recipe",
        "--baseline",
        "A",
        "--bootstrap",
        200,
    )
    b = out["multiplier"]["B"]
    assert b["ci95"][0] <= S * T <= b["ci95"][1]
    assert len(b["budgets"]) >= 5 and all(
        {"C", "value", "ci95"} <= set(r) for r in b["budgets"]
    )
    assert b["C"] == pytest.approx(
        float(np.median(6 * pd.read_csv(recipes_csv).eval("N * D")))
    )


def test_compare_laws_ranks(recipes_csv):
    out = _json(
        "compare-laws",
        recipes_csv,
        "--laws",
        "power(N),chinchilla",
        "--holdout-top",
        0.25,
        "--by",
        "N",
        "--where",
        "recipe == 'A'",
        "--bootstrap",
        30,
    )
    assert [r["law"] for r in out["ranking"]] == ["chinchilla", "power(N)"]


def test_chinchilla_side_by_side(isoflop_csv):
    out = _json(
        "chinchilla",
        isoflop_csv,
        "--N",
        "params",
        "--loss",
        "val_loss",
        "--C",
        "flops",
        "--budgets",
        "1e20,1e22",
        "--bootstrap",
        100,
    )
    assert {"isoflop", "parametric", "envelope"} <= set(out["approaches"]) | set(
        out["skipped"]
    )
    iso = out["approaches"]["isoflop"]
    assert len(iso["tokens_per_param"]) == 2
    assert isinstance(out["disagreements"], list)


def _main_error(capsys, *args) -> str:
    """Run through ``main`` (which maps input errors to exit 1) and return stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    assert exit_info.value.code == 1
    return capsys.readouterr().err


def test_envelope_refuses_checkpoints_without_policy(tmp_path, capsys):
    rows = [
        (n, d, chinchilla_loss(n, d), f"r{i}")
        for i, n in enumerate(np.geomspace(1e7, 1e9, 6))
        for d in np.geomspace(n, 100 * n, 5)
    ]
    path = tmp_path / "curves.csv"
    pd.DataFrame(rows, columns=["N", "D", "loss", "run"]).to_csv(path, index=False)
    message = _main_error(capsys, "envelope", path, "--run", "run")
    assert "--checkpoints final" in message and "Traceback" not in message
    out = _json(
        "envelope", path, "--run", "run", "--checkpoints", "all", "--bootstrap", 50
    )
    assert 0 < out["a"]["value"] < 1


def test_bad_input_exits_1_without_traceback(recipes_csv, capsys):
    message = _main_error(
        capsys, "compare", recipes_csv, "--group", "recipe", "--baseline", "Z"
    )
    assert "values are A, B" in message
    message = _main_error(capsys, "validate", recipes_csv, "--holdout", "N > 1e12")
    assert "holds out no rows" in message
