"""``task fit|predict|validate`` and ``loss2loss fit``: the contract and exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .synthetic import ladder, sigmoid, task_loss


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "ladder.csv"
    ladder(loss_noise=0.005, metric_noise=0.005, seed=4).to_csv(path, index=False)
    return path


def test_fit_then_predict_contract(invoke, invoke_json, table, tmp_path):
    out = tmp_path / "task.json"
    fitted = invoke_json(
        "task",
        "fit",
        str(table),
        "--N",
        "N",
        "--D",
        "D",
        "--run",
        "run",
        "--task-loss",
        "task_loss",
        "--metric",
        "metric",
        "--link",
        "sigmoid",
        "--chance",
        "0.25",
        "--bootstrap",
        "100",
        "-o",
        str(out),
    )
    assert fitted["rows"]["step1"] == 20 and fitted["rows"]["step2"] == 80
    found = invoke_json(
        "task", "predict", "--fit", str(out), "--N", "2e9", "--D", "4e10"
    )
    truth = sigmoid(task_loss(2e9, 4e10))
    assert found["metric"] == pytest.approx(truth, abs=0.01)
    assert found["task_loss"] == pytest.approx(task_loss(2e9, 4e10), rel=0.01)
    for key in ("metric", "task_loss"):
        low, high = found["ci95"][key]
        assert low < found[key] < high
    code, text, _ = invoke(
        "task", "predict", "--fit", str(out), "--N", "2B", "--D", "40B"
    )
    assert code == 0 and f"{found['metric']:.4f}" in text


def _many_tasks(table, count):
    """Rewrite ``table`` as ``count`` tasks a, b, ...: task i scales the loss by
    1 + i/10 and the metric by 1 - i/10."""
    import pandas as pd

    frame = pd.read_csv(table)
    columns = {}
    for i, name in enumerate("abc"[:count]):
        columns[f"bpb/{name}"] = frame["task_loss"] * (1 + i / 10)
        columns[f"acc/{name}"] = frame["metric"] * (1 - i / 10)
    frame.drop(columns=["task_loss", "metric"]).assign(**columns).to_csv(
        table, index=False
    )


def _fit_many(table, out, *options):
    """``task fit`` arguments for the tasks :func:`_many_tasks` writes."""
    return (
        "task",
        "fit",
        str(table),
        "--run",
        "run",
        "--tasks",
        "acc/*",
        "--task-loss",
        "bpb/*",
        *options,
        "-o",
        str(out),
    )


def test_many_tasks_and_their_average(invoke_json, table, tmp_path):
    _many_tasks(table, 2)
    out = tmp_path / "tasks.json"
    fitted = invoke_json(
        *_fit_many(table, out, "--average", "--chance", "0.2", "--bootstrap", "50")
    )
    assert set(fitted["tasks"]) == {"a", "b", "average"}
    found = invoke_json(
        "task", "predict", "--fit", str(out), "--N", "1e9", "--D", "2e10"
    )
    a, b = (found["tasks"][t]["metric"] for t in ("a", "b"))
    assert found["tasks"]["average"]["metric"] == pytest.approx((a + b) / 2, abs=0.01)


def test_many_tasks_draw_one_progress_count_over_every_tasks_bootstrap(
    invoke, table, tmp_path, monkeypatch
):
    from contextlib import contextmanager

    from scalinglab.cli import task as task_cli

    seen = {"calls": []}

    @contextmanager
    def recording_bar(enabled, label):
        seen["enabled"] = enabled
        yield lambda done, total: seen["calls"].append((done, total))

    monkeypatch.setattr(task_cli, "progress_bar", recording_bar)
    _many_tasks(table, 2)
    args = _fit_many(table, tmp_path / "tasks.json", "--bootstrap", "300")
    code, _, err = invoke(*args)
    assert code == 0 and seen["enabled"], err
    # Each task: 2 steps x 300 replicates, refined in chunks of 250; task b's count
    # follows task a's, over one total of 2 x 600.
    assert seen["calls"] == [
        (offset + done, 1200) for offset in (0, 600) for done in (250, 300, 550, 600)
    ]
    code, _, _ = invoke(*args, "--json")
    assert code == 0 and seen["enabled"] is False


def test_validate_scores_held_out_runs(invoke_json, table):
    found = invoke_json(
        "task",
        "validate",
        str(table),
        "--run",
        "run",
        "--task-loss",
        "task_loss",
        "--metric",
        "metric",
        "--chance",
        "0.25",
        "--holdout",
        "N >= 1e9",
        "--bootstrap",
        "100",
    )
    assert found["scores"]["held_out_runs"] == 5
    assert found["scores"]["abs_error"] < 0.02
    errors = [abs(r["predicted"] - r["metric"]) for r in found["rows"]]
    assert np.mean(errors) == pytest.approx(found["scores"]["abs_error"])
    for key in ("single_step", "compute_only"):
        errors = [abs(r[key] - r["metric"]) for r in found["rows"]]
        assert np.mean(errors) == pytest.approx(found["scores"][key]["abs_error"])
        # Measured 0.0052 and 0.0033 (the two-step 0.0035): at metric noise 0.005 and
        # alpha = beta the ratio's effect at fixed C is within the noise here.
        assert found["scores"][key]["abs_error"] < 0.01


def test_validate_text_compares_the_three_predictions(invoke, table):
    args = ["task", "validate", str(table), "--run", "run", "--task-loss", "task_loss"]
    code, out, err = invoke(
        *args, "--metric", "metric", "--holdout", "N >= 1e9", "--bootstrap", "20"
    )
    assert code == 0, err
    for label in (
        "two-step: mean abs error",
        "single-step (N, D): mean abs error",
        "single-step C: mean abs error",
    ):
        assert label in out


def _fit_one(table, out, *options):
    """``task fit`` arguments for the one task of ``table`` (columns task_loss, metric)."""
    return (
        "task",
        "fit",
        str(table),
        "--task-loss",
        "task_loss",
        "--metric",
        "metric",
        *options,
        "-o",
        str(out),
    )


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"metric": 50.0}, "'metric'"),
        ({"task_loss": 1.0}, "'task_loss'"),
    ],
)
def test_bad_columns_exit_1_naming_the_column(invoke, table, tmp_path, change, needle):
    import pandas as pd

    pd.read_csv(table).assign(**change).to_csv(table, index=False)
    code, _, err = invoke(*_fit_one(table, tmp_path / "x.json"))
    assert code == 1 and needle in err and "Traceback" not in err


def test_chance_above_accuracy_and_unknown_link_exit_1(invoke, table, tmp_path):
    base = _fit_one(table, tmp_path / "x.json")
    code, _, err = invoke(*base, "--chance", "0.95")
    assert code == 1 and "chance level 0.95" in err
    code, _, err = invoke(*base, "--link", "logit")
    assert code == 1 and "--link must be" in err


def test_loss2loss_fit_json_has_kappa(invoke_json, tmp_path):
    import pandas as pd

    N = np.repeat(np.geomspace(2e7, 1e9, 6), 4)
    D = N * np.tile([5.0, 15.0, 40.0, 100.0], 6)
    lx = 1.8 + 300 * N**-0.32 + 500 * D**-0.3
    ly = 1.3 * (lx - 1.8) + 2.4
    path = tmp_path / "pairs.csv"
    pd.DataFrame({"N": N, "D": D, "lx": lx, "ly": ly}).to_csv(path, index=False)
    found = invoke_json(
        "loss2loss", "fit", str(path), "--x", "lx", "--y", "ly", "--bootstrap", "50"
    )
    assert found["params"]["kappa"] == pytest.approx(1.0, rel=1e-3)
    assert found["params"]["E_x"] == pytest.approx(1.8, rel=1e-3)
    low, high = found["ci95"]["kappa"]
    assert low <= found["params"]["kappa"] <= high
    assert json.dumps(found)


def test_fit_plot_draws_the_three_panels(invoke, table, tmp_path):
    from scalinglab.downstream import fit_task
    from scalinglab.plot.downstream import task_figure

    code, _, err = invoke(
        *_fit_one(
            table,
            tmp_path / "t.json",
            *("--run", "run", "--bootstrap", "20", "--plot", str(tmp_path / "t.png")),
        )
    )
    assert code == 0, err
    assert (tmp_path / "t.png").stat().st_size > 10_000
    task = fit_task(
        table, task_loss="task_loss", metric="metric", run="run", bootstrap=20
    )
    figure = task_figure(task, table, N=2e9, D=4e10)
    link_line = figure.axes[1].get_lines()[0]
    x, y = link_line.get_data()
    np.testing.assert_allclose(y, task.link_law.predict(task.link_params, x=x))
    assert len(figure.axes) == 3


def test_predict_plot_draws_the_chained_prediction_with_bands(
    invoke, invoke_json, table, tmp_path
):
    from scalinglab.downstream import load_task_fit
    from scalinglab.plot.downstream import prediction_figure

    saved = tmp_path / "t.json"
    args = ["--task-loss", "task_loss", "--metric", "metric", "--chance", "0.25"]
    code, _, err = invoke(
        "task",
        "fit",
        str(table),
        "--run",
        "run",
        *args,
        "--bootstrap",
        "50",
        "-o",
        str(saved),
    )
    assert code == 0, err
    found = invoke_json(
        "task",
        "predict",
        "--fit",
        str(saved),
        "--N",
        "4e9",
        "--D",
        "8e10",
        "--plot",
        str(tmp_path / "p.png"),
    )
    assert (tmp_path / "p.png").stat().st_size > 10_000
    task = load_task_fit(saved)
    figure = prediction_figure(task, N=4e9, D=8e10)
    for ax, key in zip(figure.axes, ("task_loss", "metric")):
        d, y = ax.get_lines()[0].get_data()
        np.testing.assert_allclose(y, task.predict(N=4e9, D=d)[key])
        # The planned point and its interval bar are the numbers `predict` prints.
        point, _, (bar,) = ax.containers[0].lines
        assert point.get_data()[1][0] == pytest.approx(found[key])
        (_, low), (_, high) = bar.get_segments()[0]
        assert [low, high] == pytest.approx(found["ci95"][key])
        # The interval band holds the point curve.
        edges = ax.collections[0].get_paths()[0].vertices[:, 1]
        assert edges.min() <= y.min() and y.max() <= edges.max()
    assert figure.axes[1].get_lines()[-1].get_ydata()[0] == 0.25  # chance line


@pytest.mark.parametrize(
    ("rows", "header", "scale"),
    [
        ("a,0.25\nb,0.2\n", "task,chance", 1.0),
        ("a,25\nb,20\n", "Eval Task,Random baseline", 100.0),
    ],
)
def test_average_takes_each_tasks_chance_from_the_table(
    invoke_json, table, tmp_path, rows, header, scale
):
    _many_tasks(table, 3)
    chances = tmp_path / "chances.csv"
    chances.write_text(f"{header}\n{rows}")
    fitted = invoke_json(
        *_fit_many(
            table,
            tmp_path / "t.json",
            *("--only", "a,b", "--average", "--chances", str(chances)),
            *("--bootstrap", "20"),
        )
    )
    found = {name: t["chance"] for name, t in fitted["tasks"].items()}
    assert found == pytest.approx({"a": 0.25, "b": 0.2, "average": 0.225})


def test_chance_table_fallback_and_error_metrics(invoke_json, table, tmp_path):
    from scalinglab.downstream.many import task_chances

    _many_tasks(table, 3)
    chances = tmp_path / "chances.csv"
    chances.write_text("task,chance\na,0.25\n")
    fitted = invoke_json(
        *_fit_many(
            table,
            tmp_path / "t.json",
            *("--average", "--chances", str(chances), "--chance", "0.1"),
            *("--bootstrap", "20"),
        )
    )
    found = {name: t["chance"] for name, t in fitted["tasks"].items()}
    assert found == pytest.approx({"a": 0.25, "b": 0.1, "c": 0.1, "average": 0.15})
    # An error metric's chance is 1 - the chance accuracy.
    levels = task_chances(["a", "b"], {"a": 0.25}, default=None, error=True)
    assert levels == {"a": 0.75, "b": None}


@pytest.mark.parametrize(
    ("text", "extra", "needle"),
    [
        ("task,chance\na,25\n", [], "data row 1"),
        ("name,p\na,0.2\n", [], "'task' and 'chance'"),
        ("task,chance\na,0.2\n", ["--only", "a,zz"], "zz"),
    ],
)
def test_bad_chance_table_or_subset_exit_1(
    invoke, table, tmp_path, text, extra, needle
):
    _many_tasks(table, 3)
    chances = tmp_path / "chances.csv"
    chances.write_text(text)
    code, _, err = invoke(
        *_fit_many(
            table,
            tmp_path / "t.json",
            *("--chances", str(chances), *extra, "--bootstrap", "20"),
        )
    )
    assert code == 1 and needle in err
