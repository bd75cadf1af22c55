"""LR and batch-size laws, presets, critical batch size, and the `hparams` CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.analysis.critical_batch import (
    fit_critical_batch,
    fit_tradeoff,
    steps_to_target,
)
from scalinglab.analysis.hparams import cell_optima, fit_hparams
from scalinglab.analysis.hparams_presets import suggest_hparams
from scalinglab.cli import app

LR_TRUTH = dict(coef=1.79, N=-0.713, D=0.307)
BS_TRUTH = dict(coef=0.58, D=0.571)


def _sweep(noise=0.0, seed=0):
    """Cells on a (N, D) grid; loss a convex bowl in (log lr, log bs) around the true optimum."""
    rng = np.random.default_rng(seed)
    rows = []
    for N in (2e8, 4e8, 8e8, 1.6e9):
        for D in (5e9, 2e10, 8e10):
            lr_opt = LR_TRUTH["coef"] * N ** LR_TRUTH["N"] * D ** LR_TRUTH["D"]
            bs_opt = BS_TRUTH["coef"] * D ** BS_TRUTH["D"]
            for lr in lr_opt * 2.0 ** np.arange(-3, 3.5, 0.5):
                for bs in bs_opt * 2.0 ** np.arange(-3, 3.5, 1.0):
                    x, y = np.log(lr / lr_opt), np.log(bs / bs_opt)
                    loss = (2.0 + 1e9 / N * 0.3) * (
                        1 + 0.01 * x * x + 0.004 * x * y + 0.006 * y * y
                    )
                    rows.append(
                        (N, D, lr, bs, loss * (1 + noise * rng.standard_normal()))
                    )
    return pd.DataFrame(rows, columns=["N", "D", "lr", "bs", "loss"])


def _arrays(frame):
    return [frame[c].to_numpy() for c in ("N", "D", "lr", "bs", "loss")]


def test_quadratic_method_recovers_exact_laws():
    fit = fit_hparams(
        *_arrays(_sweep()), method="quadratic", fit_band=0.2, bootstrap=50
    )
    for law, truth in ((fit.lr_law, LR_TRUTH), (fit.bs_law, BS_TRUTH)):
        for name, value in truth.items():
            assert law.params[name] == pytest.approx(value, rel=1e-6), name
    assert all(c.bracketed for c in fit.cells)


def test_cell_optimum_interval_covers_truth_under_noise():
    frame = _sweep(noise=1e-3, seed=3)
    cells = cell_optima(*_arrays(frame), fit_band=0.1, bootstrap=200, seed=0)
    covered = [
        c.lr_ci[0]
        < LR_TRUTH["coef"] * c.N ** LR_TRUTH["N"] * c.D ** LR_TRUTH["D"]
        < c.lr_ci[1]
        for c in cells
    ]
    assert np.mean(covered) >= 0.75


def test_band_method_brackets_truth_and_bootstrap_is_deterministic():
    frame = _sweep(noise=5e-4, seed=1)
    a = fit_hparams(*_arrays(frame), threshold=0.005, bootstrap=300, seed=7)
    b = fit_hparams(*_arrays(frame), threshold=0.005, bootstrap=300, seed=7)
    assert a.lr_law.params == b.lr_law.params
    lo, hi = a.lr_law.ci95["N"]
    assert lo < LR_TRUTH["N"] < hi


def test_presets_match_published_examples():
    # formulas.md 7.4: pred-opt-lr-bs 7e9 1.4e12 -> eta ~ 9.3e-4, B ~ 5.0M tokens
    step = suggest_hparams(7e9, 1.4e12, preset="steplaw")
    assert step.lr == pytest.approx(9.3e-4, rel=0.01)
    assert step.batch_tokens == pytest.approx(5.0e6, rel=0.01)
    deep = suggest_hparams(1e9, 2e10, preset="deepseek")
    C = 6 * 1e9 * 2e10
    assert deep.lr == pytest.approx(0.3118 * C**-0.125, rel=1e-12)


def test_tradeoff_recovers_critical_batch():
    batch = np.array([32, 64, 128, 256, 512, 1024, 2048], float)
    S_min, B_crit = 1.5e4, 300.0
    steps = S_min * (1 + B_crit / batch)
    fit = fit_tradeoff(batch, steps, bootstrap=100)
    assert fit.B_crit == pytest.approx(B_crit, rel=1e-10)
    assert fit.S_min == pytest.approx(S_min, rel=1e-10)
    # the defining identity at every batch size: (S/S_min - 1)(E/E_min - 1) = 1
    E = batch * steps
    np.testing.assert_allclose(
        (steps / fit.S_min - 1) * (E / fit.E_min - 1), 1.0, rtol=1e-8
    )


def test_tradeoff_interval_leaves_out_refits_the_model_cannot_describe():
    # noisy steps at batch sizes mostly above B_crit: a few resamples see no trade-off
    rng = np.random.default_rng(3)
    batch = np.array([256, 512, 1024, 2048, 4096], float)
    steps = 1.5e4 * (1 + 300.0 / batch) * np.exp(0.08 * rng.standard_normal(5))
    fit = fit_tradeoff(batch, steps, bootstrap=400, seed=0)
    picks = np.random.default_rng(0).integers(0, 5, size=(400, 5))
    outside = 0
    for pick in picks:  # each resample refitted by plain least squares
        X = np.column_stack([1 / steps[pick], 1 / (batch[pick] * steps[pick])])
        S_min, E_min = np.linalg.lstsq(X, np.ones(5), rcond=None)[0]
        outside += np.unique(pick).size < 2 or S_min <= 0 or E_min <= 0
    assert fit.dropped == outside > 0
    assert np.isnan(fit.draws).sum() == outside
    low, high = fit.ci95["B_crit"]
    assert 0 < low < fit.B_crit < high
    assert fit.ci95["S_min"][0] > 0 and fit.ci95["E_min"][0] > 0


def test_critical_batch_trend_against_loss_from_curves():
    # curves L(S) at batch B whose steps to a target L follow S = S_min(L)(1 + B_crit(L)/B)
    targets = np.array([3.4, 3.2, 3.0, 2.9])
    b_crit = 50.0 * targets**-4.0 * 1e2  # a power law in the loss, exponent -4
    s_min = 1e3 * (targets - 2.5) ** -2.0
    rows = []
    for B in (16, 32, 64, 128, 256, 512):
        S = s_min * (1 + b_crit / B)
        for t, s in zip(targets, S):
            rows.append((B, s, t))
    batch, steps, goal = map(np.array, zip(*rows))
    result = fit_critical_batch(batch, steps, goal, bootstrap=50)
    np.testing.assert_allclose(
        [t.B_crit for t in result.tradeoffs], b_crit, rtol=1e-8
    )  # highest target first
    assert result.vs_loss.params["loss"] == pytest.approx(-4.0, rel=1e-8)
    # steps_to_target interpolates between logged steps
    assert steps_to_target([0, 10, 20], [4.0, 3.0, 2.0], 2.5) == pytest.approx(15.0)
    assert np.isnan(steps_to_target([0, 10], [4.0, 3.0], 2.5))


def test_cli_hparams_fit_and_suggest(tmp_path):
    path = tmp_path / "sweep.csv"
    frame = _sweep()
    frame["bs_seq"] = frame["bs"] / 2048
    frame.to_csv(path, index=False)
    runner = CliRunner()
    saved = tmp_path / "hp.json"
    result = runner.invoke(
        app,
        [
            "hparams",
            "fit",
            str(path),
            "--N",
            "N",
            "--D",
            "D",
            "--lr",
            "lr",
            "--bs",
            "bs_seq",
            "--seq-len",
            "2048",
            "--loss",
            "loss",
            "--method",
            "quadratic",
            "--fit-band",
            "0.2",
            "--bootstrap",
            "50",
            "-o",
            str(saved),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["lr_law"]["params"]["N"] == pytest.approx(LR_TRUTH["N"], rel=1e-6)
    assert payload["bs_law"]["params"]["D"] == pytest.approx(BS_TRUTH["D"], rel=1e-6)
    assert set(payload["lr_law"]["ci95"]) == {"coef", "N", "D"}
    out = runner.invoke(
        app,
        [
            "hparams",
            "suggest",
            "--N",
            "1e9",
            "--D",
            "2e10",
            "--fit",
            str(saved),
            "--json",
        ],
    )
    suggestion = json.loads(out.output)
    assert suggestion["lr"] == pytest.approx(1.79 * 1e9**-0.713 * 2e10**0.307, rel=1e-6)
    bad = runner.invoke(app, ["hparams", "fit", str(path), "--lr", "eta"])
    assert bad.exit_code == 1 and "no column 'eta'" in str(
        bad.exception
    )  # main() prints it


def test_cli_critical_batch(tmp_path):
    batch = np.array([32, 64, 128, 256, 512, 1024], float)
    pd.DataFrame({"bs": batch, "steps": 2e4 * (1 + 200 / batch)}).to_csv(
        tmp_path / "cb.csv", index=False
    )
    out = CliRunner().invoke(
        app, ["critical-batch", str(tmp_path / "cb.csv"), "--json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["tradeoffs"][0]["B_crit"] == pytest.approx(
        200.0, rel=1e-8
    )
