"""Weight decay through the AdamW timescale (Power Lines): law recovery, suggest, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.analysis.hparams import fit_hparams, load_hparam_fit
from scalinglab.analysis.weight_decay import fit_timescale, timescale, weight_decay_for
from scalinglab.cli import app
from scalinglab.errors import ScalinglabError

LR_TRUTH = {"coef": 1.79, "N": -0.713, "D": 0.307}
BS_TRUTH = {"coef": 0.58, "D": 0.571}
TAU_TRUTH = {"coef": 0.8, "TPP": -0.5}


def _tau_opt(N, D):
    return TAU_TRUTH["coef"] * (D / N) ** TAU_TRUTH["TPP"]


def _sweep(noise=0.0, seed=0):
    """(N, D) cells x lr x batch x weight decay; loss a bowl in (log lr, log bs, log tau)."""
    rng = np.random.default_rng(seed)
    rows = []
    for N in (2e8, 4e8, 8e8):
        for tpp in (10, 40, 160):
            D = N * tpp
            lr_opt = LR_TRUTH["coef"] * N ** LR_TRUTH["N"] * D ** LR_TRUTH["D"]
            bs_opt = BS_TRUTH["coef"] * D ** BS_TRUTH["D"]
            for lr in lr_opt * 2.0 ** np.arange(-2, 3):
                for bs in bs_opt * 2.0 ** np.arange(-1, 2):
                    wd_opt = weight_decay_for(_tau_opt(N, D), lr, bs, D)
                    for wd in wd_opt * 2.0 ** np.arange(-2, 2.5, 0.5):
                        x, y = np.log(lr / lr_opt), np.log(bs / bs_opt)
                        z = np.log(timescale(lr, bs, wd, D) / _tau_opt(N, D))
                        loss = (2.0 + 0.3e9 / N) * (
                            1 + 0.01 * x * x + 0.006 * y * y + 0.004 * z * z
                        )
                        rows.append(
                            (
                                N,
                                D,
                                lr,
                                bs,
                                wd,
                                loss * (1 + noise * rng.standard_normal()),
                            )
                        )
    return pd.DataFrame(rows, columns=["N", "D", "lr", "bs", "wd", "loss"])


def _arrays(frame):
    return [frame[c].to_numpy() for c in ("N", "D", "lr", "bs", "wd", "loss")]


def test_timescale_and_weight_decay_are_inverse():
    tau = timescale(1e-3, 2**20, 0.1, 1e10)
    assert tau == pytest.approx(2**20 / (1e-3 * 0.1 * 1e10), rel=1e-12)
    assert weight_decay_for(tau, 1e-3, 2**20, 1e10) == pytest.approx(0.1, rel=1e-12)


def test_exact_sweep_recovers_timescale_law():
    fit = fit_timescale(*_arrays(_sweep()), bootstrap=0)
    assert fit.law.params["TPP"] == pytest.approx(TAU_TRUTH["TPP"], rel=1e-6)
    assert fit.law.params["coef"] == pytest.approx(TAU_TRUTH["coef"], rel=1e-6)
    assert all(line.bracketed for line in fit.lines) and len(fit.lines) == 9 * 15


def test_noisy_sweep_interval_covers_true_exponent():
    fit = fit_timescale(*_arrays(_sweep(noise=3e-4, seed=4)), bootstrap=300, seed=1)
    lo, hi = fit.law.ci95["TPP"]
    assert lo < TAU_TRUTH["TPP"] < hi
    assert hi - lo < 0.5  # informative, not just wide
    again = fit_timescale(*_arrays(_sweep(noise=3e-4, seed=4)), bootstrap=300, seed=1)
    assert again.law.ci95 == fit.law.ci95


def test_bootstrapped_point_is_the_fit_on_every_line_not_the_replicate_mean():
    frame = _sweep(noise=3e-3, seed=2)
    frame = frame[frame["N"] < 8e8]  # few cells: replicates with extreme slopes
    fit = fit_timescale(*_arrays(frame), bootstrap=300, seed=0)
    used = [line for line in fit.lines if line.bracketed]
    slope, intercept = np.polyfit(
        np.log([x.D / x.N for x in used]), np.log([x.tau for x in used]), 1
    )
    assert fit.law.params["TPP"] == pytest.approx(slope, rel=1e-9)
    assert fit.law.params["coef"] == pytest.approx(np.exp(intercept), rel=1e-9)


def test_fit_hparams_with_wd_keeps_lr_and_batch_laws_and_suggests_weight_decay(
    tmp_path,
):
    fit = fit_hparams(
        *_arrays(_sweep())[:4],
        _sweep()["loss"].to_numpy(),
        method="quadratic",
        fit_band=0.2,
        bootstrap=40,
        wd=_sweep()["wd"].to_numpy(),
    )
    assert fit.lr_law.params["N"] == pytest.approx(LR_TRUTH["N"], rel=1e-6)
    assert fit.bs_law.params["D"] == pytest.approx(BS_TRUTH["D"], rel=1e-6)
    assert fit.wd_law.params["TPP"] == pytest.approx(TAU_TRUTH["TPP"], abs=1e-6)
    reloaded = load_hparam_fit(fit.save(tmp_path / "hp.json"))
    s = reloaded.suggest(4e8, 1.6e10, lr=1e-3, batch_tokens=2**19)
    assert s.tau == pytest.approx(_tau_opt(4e8, 1.6e10), rel=1e-6)
    assert s.weight_decay == pytest.approx(2**19 / (1e-3 * s.tau * 1.6e10), rel=1e-9)
    assert s.weight_decay_ci[0] < s.weight_decay < s.weight_decay_ci[1]


def test_unbracketed_and_too_few_weight_decays_are_named():
    frame = _sweep()
    one_side = frame[
        frame["wd"]
        <= frame.groupby(["N", "D", "lr", "bs"])["wd"].transform("min") * 1.5
    ]
    with pytest.raises(ScalinglabError, match="at least 3"):
        fit_timescale(*_arrays(one_side), bootstrap=0)
    low = frame[
        frame["wd"]
        <= frame.groupby(["N", "D", "lr", "bs"])["wd"].transform("min") * 2.9
    ]
    with pytest.raises(ScalinglabError, match="extend the weight-decay grid"):
        fit_timescale(*_arrays(low), bootstrap=0)
    zero = frame.assign(wd=frame["wd"].where(frame.index != 5, 0.0))
    with pytest.raises(ScalinglabError, match="row 6"):
        fit_timescale(*_arrays(zero), bootstrap=0)


def test_cli_fit_with_wd_column_and_suggest(tmp_path):
    path, saved = tmp_path / "sweep.csv", tmp_path / "hp.json"
    _sweep().rename(columns={"wd": "weight_decay"}).to_csv(path, index=False)
    runner = CliRunner()
    out = runner.invoke(
        app,
        [
            "hparams",
            "fit",
            str(path),
            "--wd",
            "weight_decay",
            "--method",
            "quadratic",
            "--fit-band",
            "0.2",
            "--bootstrap",
            "30",
            "-o",
            str(saved),
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert {"lr_law", "bs_law", "wd_law"} <= set(payload)
    assert payload["wd_law"]["params"]["TPP"] == pytest.approx(
        TAU_TRUTH["TPP"], abs=1e-6
    )
    out = runner.invoke(
        app,
        [
            "hparams",
            "suggest",
            "--N",
            "4e8",
            "--D",
            "1.6e10",
            "--fit",
            str(saved),
            "--lr",
            "1e-3",
            "--batch",
            "524288",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["weight_decay"] == pytest.approx(
        524288 / (1e-3 * _tau_opt(4e8, 1.6e10) * 1.6e10), rel=1e-6
    )
    plain = runner.invoke(
        app, ["hparams", "fit", str(path), "--bootstrap", "0", "--json", "--bs", "bs"]
    )
    assert "wd_law" not in json.loads(plain.output)


def test_cli_fit_names_a_folder_that_is_not_a_study(tmp_path):
    out = CliRunner().invoke(app, ["hparams", "fit", str(tmp_path)])
    assert out.exit_code == 1 and "not a study" in str(out.exception)
