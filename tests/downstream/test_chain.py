"""The two-step task law: recovery, the joint bootstrap, input errors, warnings, save/load."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.downstream import fit_task, load_task_fit
from scalinglab.errors import InputError, ScalinglabError
from scalinglab.fit import fit
from scalinglab.fit.bootstrap import run_weights

from .synthetic import LINK, STEP1, ladder, sigmoid, task_loss

COLUMNS = {"task_loss": "task_loss", "metric": "metric", "run": "run"}


def test_exact_chain_recovers_both_steps_and_extrapolates():
    task = fit_task(ladder(), **COLUMNS, chance=0.25, bootstrap=20)
    assert task.step1.params == pytest.approx(STEP1, rel=1e-4)
    assert task.link_params == pytest.approx(LINK, rel=1e-4)
    truth = sigmoid(task_loss(4e9, 2e11))
    assert task.predict(N=4e9, D=2e11)["metric"] == pytest.approx(truth, abs=1e-6)


def test_rows_each_step_used():
    task = fit_task(ladder(checkpoints=4), **COLUMNS, chance=0.25, bootstrap=20)
    assert task.rows["step1"] == 20 and task.rows["step2"] == 80
    assert "final checkpoint of each of 20 runs" in task.rows["sentence"]
    final_only = fit_task(
        ladder(), **COLUMNS, chance=0.25, bootstrap=20, link_rows="final"
    )
    assert final_only.rows["step2"] == 20


def test_metric_interval_is_step_one_interval_through_the_link():
    # Only step 1 is noisy, the link exact: every joint draw of the metric is the link
    # of that draw's task loss, so the metric's interval is the link of the task loss's.
    frame = ladder(loss_noise=0.01, seed=1)
    frame["metric"] = sigmoid(frame["task_loss"])
    task = fit_task(frame, **COLUMNS, chance=0.25, bootstrap=100)
    band = task.predict_interval(N=3e9, D=1e11, kind="mean")
    low, high = band["task_loss"]
    assert high - low > 0.01 * low
    assert band["metric"] == pytest.approx((sigmoid(high), sigmoid(low)), rel=1e-5)


def test_one_run_resample_drives_both_steps():
    frame = ladder(loss_noise=0.01, metric_noise=0.01, seed=2)
    task = fit_task(frame, **COLUMNS, chance=0.25, bootstrap=30, seed=5)
    assert len(task.kept) >= 25 and task.replicates == 30
    runs = np.unique(frame["run"], return_inverse=True)[1]
    counts = run_weights(np.arange(runs.max() + 1), 30, np.random.default_rng(5))
    final = frame.groupby("run")["D"].transform("max").eq(frame["D"]).to_numpy()
    for i in (0, 17):
        r = task.kept[i]
        step1 = fit(
            "chinchilla",
            {
                "N": frame["N"][final],
                "D": frame["D"][final],
                "loss": frame["task_loss"][final],
            },
            weights=counts[r, runs[final]],
            bootstrap=0,
        )
        step2 = fit(
            task.link_law,
            {"x": frame["task_loss"], "loss": frame["metric"]},
            weights=counts[r, runs],
            objective="mse",
            bootstrap=0,
        )
        names1 = task.step1.law.param_names
        assert task.draws1[i] == pytest.approx(
            [step1.params[n] for n in names1], rel=1e-3
        )
        assert task.draws2[i] == pytest.approx(
            [step2.params[n] for n in task.link_law.param_names], rel=1e-3
        )


def test_save_and_load_predict_identically(tmp_path):
    task = fit_task(
        ladder(loss_noise=0.01, seed=3), **COLUMNS, chance=0.25, bootstrap=40
    )
    again = load_task_fit(task.save(tmp_path / "task.json"))
    for got, want in (
        (again.predict(N=2e9, D=5e10), task.predict(N=2e9, D=5e10)),
        (again.predict_interval(N=2e9, D=5e10), task.predict_interval(N=2e9, D=5e10)),
    ):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        (lambda f: f.assign(metric=f["metric"] * 100), "metric", r"in \[0, 1\]"),
        (lambda f: f.assign(metric=0.3), "metric", "constant"),
        (lambda f: f.assign(task_loss=1.0), "task_loss", "constant"),
    ],
)
def test_bad_columns_are_named(change, column, message):
    with pytest.raises(InputError, match=message) as caught:
        fit_task(change(ladder()), **COLUMNS, bootstrap=20)
    assert caught.value.column == column


def test_chance_above_every_accuracy_is_refused():
    with pytest.raises(InputError, match="chance level 0.9 is not exceeded") as caught:
        fit_task(ladder(), **COLUMNS, chance=0.9, bootstrap=20)
    assert caught.value.column == "metric"


def test_near_chance_and_narrow_range_are_noted():
    flat = ladder().assign(metric=lambda f: 0.25 + 0.02 * (1.2 - f["task_loss"]))
    task = fit_task(flat, **COLUMNS, chance=0.25, link="linear", bootstrap=20)
    assert "near_chance" in {d.code for d in task.notes}
    narrow = ladder(checkpoints=8)
    middle = narrow["task_loss"].median()
    narrow = narrow[(narrow["task_loss"] - middle).abs() < 0.04 * middle]
    task = fit_task(narrow, **COLUMNS, chance=0.25, link="linear", bootstrap=20)
    assert "narrow_link_range" in {d.code for d in task.notes}


def test_prediction_outside_the_seen_task_loss_is_warned():
    task = fit_task(ladder(), **COLUMNS, chance=0.25, bootstrap=20)
    codes = {d.code for d in task.warnings_at(N=1e11, D=1e13)}
    assert "task_loss_outside_link_range" in codes
    assert not task.warnings_at(N=4e8, D=8e9)


def test_floor_is_fitted_unless_held_at_chance():
    frame = ladder(loss_noise=0.005, metric_noise=0.005, seed=6)
    free = fit_task(frame, **COLUMNS, chance=0.25, bootstrap=20)
    held = fit_task(frame, **COLUMNS, chance=0.25, floor="chance", bootstrap=20)
    assert held.link_params["b"] == 0.25 and np.all(held.draws2[:, 3] == 0.25)
    assert free.link_params["b"] != 0.25 and np.std(free.draws2[:, 3]) > 0
    with pytest.raises(ScalinglabError, match="floor must be"):
        fit_task(frame, **COLUMNS, floor="chance", bootstrap=20)


def test_python_api_mirrors_the_cli(tmp_path):
    import scalinglab as sl

    task = sl.task.fit(ladder(), **COLUMNS, bootstrap=20)
    assert isinstance(task, sl.task.TaskFit)
    assert "final checkpoint of each of 20 runs" in task.summary()
    again = sl.task.load(task.save(tmp_path / "t.json"))
    assert again.predict(N=1e9, D=2e10) == task.predict(N=1e9, D=2e10)


def test_joint_bootstrap_reports_monotone_progress_over_both_steps():
    calls = []
    fit_task(
        ladder(loss_noise=0.01, seed=1),
        **COLUMNS,
        chance=0.25,
        bootstrap=300,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(250, 600), (300, 600), (550, 600), (600, 600)]


def test_chain_scales_step_one_noise_by_its_fits_own_normals():
    # One noise mechanism: the task-loss noise of the chain's prediction draws is
    # step 1's FitResult.noise, the normals its own prediction intervals use.
    frame = ladder(loss_noise=0.01, seed=1)
    task = fit_task(frame, **COLUMNS, chance=0.25, bootstrap=40, seed=3)
    mean = task.predict_draws(N=3e9, D=1e11, kind="mean")["task_loss"]
    noisy = task.predict_draws(N=3e9, D=1e11)["task_loss"]
    z = np.log(noisy / mean) / task.step1.new_run_sd(N=3e9, D=1e11)
    assert z == pytest.approx(task.step1.noise(len(mean)), rel=1e-9, abs=1e-12)
