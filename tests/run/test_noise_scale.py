"""The gradient noise scale (McCandlish et al. 2018): the two-batch-size estimator
against a closed form, the trainer's microbatch measurement, its rows and resume."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from scalinglab.analysis.critical_batch import gradient_noise, noise_scale_at_target
from scalinglab.errors import ScalinglabError
from scalinglab.run.config import TrainConfig

torch = pytest.importorskip("torch", reason="the trainer needs torch")

from scalinglab.run.trainer import _noise_step, train


def test_estimator_inverts_the_expected_norms_exactly():
    """E|G_B|^2 = |G|^2 + tr(Sigma)/B; given the exact expectations it returns both."""
    grad_sq, trace = 0.7, 123.0
    small, big = grad_sq + trace / 8, grad_sq + trace / 32
    assert gradient_noise(small, big, 8, 32) == pytest.approx(
        (grad_sq, trace), rel=1e-12
    )
    with pytest.raises(ScalinglabError, match="b_small < b_big"):
        gradient_noise(small, big, 32, 8)


class LinearRegression(torch.nn.Module):
    """y = x . w* + eps; loss 0.5 mean (x . w - y)^2; returns (prediction, loss) like GPT."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(w.clone())

    def forward(self, x, y):
        pred = x @ self.w
        return pred, 0.5 * (pred - y).square().mean()


def test_trainer_measurement_matches_the_closed_form_of_linear_regression():
    """x ~ N(0, I_d), eps ~ N(0, s^2), parameters w = w* + delta. The per-example gradient
    is g = x (x . delta - eps): G = delta and, by Isserlis' theorem,
    Sigma = |delta|^2 I + delta delta^T + s^2 I, so tr(Sigma) = (d + 1)|delta|^2 + d s^2.
    Averaged over 3000 batches of 32 (4 microbatches) both estimates land within 4
    standard errors of the closed form, and the summed gradient is the full batch's."""
    d, s, batch, k, n = 20, 0.5, 32, 4, 3000
    gen = torch.Generator().manual_seed(0)
    w_star = torch.randn(d, generator=gen)
    delta = 0.3 * torch.randn(d, generator=gen)
    model = LinearRegression(w_star + delta)
    true_sq = float(delta.square().sum())
    true_trace = (d + 1) * true_sq + d * s**2
    grad_sq, trace = np.empty(n), np.empty(n)
    for i in range(n):
        x = torch.randn(batch, d, generator=gen)
        y = x @ w_star + s * torch.randn(batch, generator=gen)
        state = {"noise": [0.0] * 4}
        loss = _noise_step(model, x, y, k, state, torch.device("cpu"))
        grad_sq[i], trace[i] = state["noise"][:2]
        if i == 0:
            full = torch.autograd.grad(model(x, y)[1], model.w)[0]
            assert torch.allclose(model.w.grad, full, rtol=1e-5, atol=1e-7)
            assert float(loss.detach()) == pytest.approx(
                float(model(x, y)[1].detach()), rel=1e-6
            )
        model.w.grad = None
    for estimate, truth in ((grad_sq, true_sq), (trace, true_trace)):
        stderr = estimate.std(ddof=1) / math.sqrt(n)
        assert abs(estimate.mean() - truth) < 4 * stderr, (
            estimate.mean(),
            truth,
            stderr,
        )
        assert stderr < 0.05 * truth  # the test can tell a wrong formula from noise
    b_simple = trace.mean() / grad_sq.mean()
    assert b_simple == pytest.approx(true_trace / true_sq, rel=0.1)


def config(**changes) -> TrainConfig:
    base = {
        "n_layer": 1,
        "d_model": 32,
        "n_head": 2,
        "d_ff": 64,
        "n_ctx": 32,
        "seq_len": 32,
        "batch_size": 8,
        "steps": 12,
        "lr": 3e-3,
        "warmup_steps": 2,
        "eval_tokens": 512,
        "num_threads": 1,
        "log_every": 4,
    }
    return TrainConfig(**{**base, **changes})


def test_noise_logging_keeps_the_update_and_adds_columns():
    plain, noisy = [], []
    train(config(), emit=plain.append)
    train(config(noise_microbatches=4), emit=noisy.append)
    assert [r["train_loss"] for r in noisy] == pytest.approx(
        [r["train_loss"] for r in plain], rel=1e-5
    )
    assert "noise_scale" not in plain[-1]
    for row in noisy:
        assert row["grad_sq"] > 0 and row["grad_trace"] > 0
        assert 0 < row["noise_scale"] < math.inf
    assert "noise_microbatches" not in config().to_record()  # old studies still match


def test_noise_logging_resumes_bit_identically(tmp_path):
    """The noise sums and EMAs live in the checkpoint: a crash and resume between
    rows (checkpoint at step 5, rows every 2) gives the straight run's rows from step 6."""
    cfg = config(noise_microbatches=2, log_every=2)
    straight: list[dict] = []
    train(cfg, emit=straight.append)

    class Crash(Exception):
        pass

    def crash_at_step_8(row):
        if row["step"] == 8:
            raise Crash

    ckpt = tmp_path / "run.pt"
    with pytest.raises(Crash):
        train(cfg, emit=crash_at_step_8, checkpoint_path=ckpt, checkpoint_every=5)
    second: list[dict] = []
    train(cfg, emit=second.append, checkpoint_path=ckpt, checkpoint_every=5)
    drop = lambda r: {k: v for k, v in r.items() if k != "wall_time"}
    assert [drop(r) for r in second] == [drop(r) for r in straight[2:]]


@pytest.mark.parametrize("k", [1, 3, -2, 2.0])
def test_noise_microbatches_is_checked(k):
    with pytest.raises(ScalinglabError, match="noise_microbatches"):
        config(noise_microbatches=k)


def test_noise_scale_at_target_reads_the_row_where_the_target_is_reached():
    steps = np.array([10, 20, 30, 40])
    loss = np.array([4.0, 3.0, 2.5, 2.0])
    noise = np.array([np.nan, 100.0, 200.0, 300.0])
    assert noise_scale_at_target(steps, loss, noise, 2.6) == 100.0  # reached at 28
    assert noise_scale_at_target(steps, loss, noise, 3.0) == 100.0
    assert math.isnan(noise_scale_at_target(steps, loss, noise, 1.0))
    assert math.isnan(
        noise_scale_at_target(steps, loss, noise, 3.5)
    )  # none logged by 15


def test_critical_batch_cli_shows_the_noise_scale_beside_b_crit(tmp_path):
    """Curves whose steps to each target follow S = S_min (1 + B_crit / B) and whose
    logged noise scale equals B_crit at that loss (McCandlish's prediction), with
    unevaluated rows (no loss) between: the CLI reports both, equal."""
    from typer.testing import CliRunner

    from scalinglab.cli import app

    levels = np.linspace(3.6, 2.8, 41)
    b_crit = 1e4 * levels**-4.0
    s_min = 1e3 * (levels - 2.5) ** -2.0
    rows = []
    for batch in (64, 128, 256, 512, 1024):
        for level, b, s in zip(levels, b_crit, s_min):
            step = s * (1 + b / batch)
            rows += [(batch, step, level, b), (batch, step + 0.5, np.nan, b)]
    path = tmp_path / "curves.csv"
    columns = ["batch_tokens", "step", "eval_loss", "noise_scale"]
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)

    def critical_batch(targets: str, noise: str, *extra: str):
        args = ["critical-batch", str(path), "--bs", "batch_tokens", "--steps", "step"]
        args += ["--loss", "eval_loss", "--targets", targets, "--noise-scale", noise]
        return CliRunner().invoke(app, [*args, *extra])

    out = critical_batch("3.4,3.2,3.0", "noise_scale", "--bootstrap", "0", "--json")
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    for tradeoff in payload["tradeoffs"]:
        target = tradeoff["target"]
        noise = payload["noise_scale"][str(target)]
        assert tradeoff["B_crit"] == pytest.approx(1e4 * target**-4.0, rel=1e-6)
        assert noise["median"] == pytest.approx(tradeoff["B_crit"], rel=1e-6)
        assert noise["runs"] == 5
    text = critical_batch("3.4", "noise_scale", "--bootstrap", "0")
    assert "gradient noise scale B_simple" in text.output
    bad = critical_batch("3.4", "gns")
    assert bad.exit_code == 1 and "--noise-scale" in str(
        bad.output + str(bad.exception)
    )


def test_plans_carry_the_option_to_the_trainer():
    from scalinglab.plan import ladder
    from scalinglab.plan.sweep import parse_grid, sweep

    plan = sweep(
        [1e5],
        tokens_per_param=[10],
        lr=parse_grid("3e-3", "lr"),
        batch=parse_grid("4..16:3", "bs"),
        noise_microbatches=4,
    )
    for run in plan.runs:
        assert run.to_dict()["noise_microbatches"] == 4
        assert TrainConfig.from_planned_run(run).noise_microbatches == 4
    assert "noise_microbatches" not in ladder((1e5, 4e5), 2, (10,)).runs[0].to_dict()
    with pytest.raises(
        ScalinglabError, match="does not split into 3 equal microbatches"
    ):
        sweep(
            [1e5],
            tokens_per_param=[10],
            lr=parse_grid("3e-3", "lr"),
            batch=parse_grid("4", "bs"),
            noise_microbatches=3,
        )
    with pytest.raises(ScalinglabError, match="noise_microbatches must be 0"):
        ladder((1e5, 4e5), 2, (10,), noise_microbatches=1)
