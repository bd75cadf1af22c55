"""The decide commands' contract: optimal's lifetime options, hardware costs, exit codes and messages."""

from __future__ import annotations

import pytest

from scalinglab.decide import Demand, lifetime_optimum
from scalinglab.decide.hardware import PROFILES, parse_cost
from scalinglab.errors import ScalinglabError
from scalinglab.laws.presets import get_preset

_CONTRACT = (
    "N",
    "D",
    "tokens_per_param",
    "train_flops",
    "inference_flops",
    "total_flops",
    "loss",
)


def test_target_loss_with_inference_tokens_json_contract(
    invoke_json, fitted, fitted_json
):
    out = invoke_json(
        "optimal",
        "--fit",
        str(fitted_json),
        "--target-loss",
        "2.3",
        "--inference-tokens",
        "2e12",
    )
    direct = lifetime_optimum(
        fitted, target_loss=2.3, demand=Demand(inference_tokens=2e12)
    )
    for name in _CONTRACT:
        assert out[name] == pytest.approx(getattr(direct, name), rel=1e-12), name
    assert set(out["ci95"]) >= set(_CONTRACT)
    assert out["ci95"]["loss"][0] < 2.3 < out["ci95"]["loss"][1]
    assert out["total_flops"] == pytest.approx(
        out["train_flops"] + out["inference_flops"], rel=1e-12
    )
    assert out["inference_flops"] == pytest.approx(2 * out["N"] * 2e12, rel=1e-12)
    assert out["saving_flops"] > 0 and out["chinchilla"]["N"] > out["N"]


def test_preset_says_it_has_no_intervals(invoke_json):
    out = invoke_json(
        "optimal",
        "--preset",
        "besiroglu2024",
        "--compute",
        "1e23",
        "--inference-tokens",
        "5e12",
        "--unique-tokens",
        "3e12",
    )
    assert out["ci95"] is None and any("no bootstrap draws" in n for n in out["notes"])
    assert out["total_flops"] == pytest.approx(1e23, rel=1e-9)


def test_custom_inference_cost_and_dollar_budget(invoke_json):
    out = invoke_json(
        "optimal",
        "--preset",
        "besiroglu2024",
        "--dollars",
        "1e6",
        "--hardware",
        "h100",
        "--cost",
        "gpus=1024,mfu=0.5",
        "--inference-tokens",
        "1e12",
        "--inference-flops-per-token",
        "2*N + 1e9",
    )
    flops = 1e6 / 2.5 * 989e12 * 0.5 * 3600
    assert out["total_flops"] == pytest.approx(flops, rel=1e-9)
    assert out["inference_flops"] == pytest.approx(
        (2 * out["N"] + 1e9) * 1e12, rel=1e-12
    )
    assert out["costs"]["total"]["dollars"] == pytest.approx(1e6, rel=1e-9)
    assert out["costs"]["total"]["wall_hours"] == pytest.approx(
        1e6 / 2.5 / 1024, rel=1e-9
    )
    assert out["hardware"]["gpus"] == 1024 and out["hardware"]["mfu"] == 0.5


def test_hardware_converts_both_ways():
    h100 = parse_cost("gpus=8", base="h100")
    assert h100.flops(gpu_hours=10.0) == pytest.approx(10 * 3600 * 989e12 * 0.4)
    assert h100.gpu_hours(h100.flops(dollars=123.0)) * h100.price == pytest.approx(
        123.0
    )
    custom = parse_cost("gpus=1024,peak=989e12,mfu=0.4,price=2.5")
    assert custom.wall_hours(custom.flops(gpu_hours=2048.0)) == pytest.approx(2.0)
    assert all(p.source for p in PROFILES.values())


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--compute", "0", "--inference-tokens", "1e12"],
            "must be a finite number > 0; got 0.0",
        ),
        (["--compute", "-1e23", "--inference-tokens", "1e12"], "got -1e+23"),
        (
            ["--target-loss", "1.7", "--inference-tokens", "1e12"],
            "irreducible loss E = 1.817",
        ),
        (
            ["--compute", "1e23", "--hardware", "h100", "--cost", "mfu=1.5"],
            "mfu must be in (0, 1]",
        ),
        (["--compute", "1e23", "--hardware", "h100", "--cost", "mfu=0"], "got 0.0"),
        (
            ["--gpu-hours", "-5", "--hardware", "h100"],
            "GPU-hours must be > 0; got -5.0",
        ),
        (["--dollars", "1e6"], "need --hardware"),
        (["--compute", "1e23", "--hardware", "tpu9"], "unknown hardware 'tpu9'"),
        (
            ["--compute", "1e21,1e23", "--inference-tokens", "1e12"],
            "scalinglab frontier",
        ),
        (["--compute", "1e23", "--inference-tokens", "-1"], "inference_tokens must be"),
    ],
)
def test_bad_input_exits_1_naming_the_value(invoke, args, message):
    code, _out, err = invoke("optimal", "--preset", "besiroglu2024", *args)
    assert code == 1 and message in err and "Traceback" not in err


def test_mfu_outside_unit_interval_is_refused_in_python():
    with pytest.raises(ScalinglabError, match="got 1.2"):
        parse_cost("gpus=1,peak=1e15,mfu=1.2,price=1")
    assert parse_cost("gpus=1,peak=1e15,mfu=1,price=1").mfu == 1.0


def test_plain_optimal_is_unchanged(invoke_json):
    out = invoke_json("optimal", "--preset", "besiroglu2024", "--compute", "5.88e23")
    assert "ci95" not in out and out["N"] == pytest.approx(7.30e10, rel=2e-3)
    assert get_preset("besiroglu2024").draws is None


@pytest.fixture
def attempts_csv(tmp_path):
    """One row per attempt, two models, p ~ Beta per problem; also the same data as n/c counts."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = []
    for model, (a, b) in {"small": (0.3, 4.0), "large": (0.6, 2.0)}.items():
        for i, p in enumerate(rng.beta(a, b, size=60)):
            rows += [(model, f"q{i}", int(hit)) for hit in rng.random(16) < p]
    frame = pd.DataFrame(rows, columns=["model", "problem", "correct"])
    frame.to_csv(tmp_path / "attempts.csv", index=False)
    counts = frame.groupby(["model", "problem"], as_index=False)["correct"].agg(
        ["size", "sum"]
    )
    counts.rename(columns={"size": "n", "sum": "c"}).to_csv(
        tmp_path / "counts.csv", index=False
    )
    return tmp_path


def test_testtime_fit_json_contract_and_both_layouts_agree(invoke_json, attempts_csv):
    from scalinglab.decide.testtime import pass_at_k

    args = [
        "--problem",
        "problem",
        "--model",
        "model",
        "--k",
        "1,4,16,1000",
        "--bootstrap",
        "50",
    ]
    per_attempt = invoke_json(
        "testtime",
        "fit",
        str(attempts_csv / "attempts.csv"),
        "--correct",
        "correct",
        *args,
    )
    per_problem = invoke_json(
        "testtime",
        "fit",
        str(attempts_csv / "counts.csv"),
        "--n",
        "n",
        "--c",
        "c",
        *args,
    )
    assert per_attempt == per_problem
    large = next(m for m in per_attempt["models"] if m["model"] == "large")
    assert set(large["params"]) == {"a", "b"} and [
        r["k"] for r in large["pass_at_k"]
    ] == [1, 4, 16, 1000]
    import pandas as pd

    counts = pd.read_csv(attempts_csv / "counts.csv").query("model == 'large'")
    expected = pass_at_k(counts["n"].to_numpy(), counts["c"].to_numpy(), 4).mean()
    assert large["pass_at_k"][1]["observed"] == pytest.approx(expected, rel=1e-12)
    assert (
        large["pass_at_k"][3]["observed"] is None
        and 0 < large["pass_at_k"][3]["beta_forecast"] < 1
    )


def test_testtime_fit_single_model_prints_params_at_top_level(
    invoke_json, attempts_csv, tmp_path
):
    out = invoke_json(
        "testtime",
        "fit",
        str(attempts_csv / "attempts.csv"),
        "--problem",
        "problem",
        "--correct",
        "correct",
        "--k",
        "2",
        "--bootstrap",
        "0",
        "--plot",
        str(tmp_path / "tt.png"),
    )
    assert (
        set(out["params"]) == {"a", "b"}
        and out["pass_at_k"][0]["observed_ci95"] is None
    )
    assert (tmp_path / "tt.png").stat().st_size > 0


def test_testtime_bad_samples_exit_1_naming_rows(invoke, tmp_path):
    (tmp_path / "over.csv").write_text("problem,n,c\nq1,10,3\nq2,10,12\n")
    code, _out, err = invoke(
        "testtime",
        "fit",
        str(tmp_path / "over.csv"),
        "--problem",
        "problem",
        "--n",
        "n",
        "--c",
        "c",
    )
    assert code == 1 and "c=12 > n=10" in err and "row 2" in err
    (tmp_path / "bad.csv").write_text("problem,correct\nq1,1\nq1,maybe\n")
    code, _out, err = invoke(
        "testtime",
        "fit",
        str(tmp_path / "bad.csv"),
        "--problem",
        "problem",
        "--correct",
        "correct",
    )
    assert code == 1 and "'maybe'" in err and "row 2" in err
    code, _out, err = invoke(
        "testtime",
        "fit",
        str(tmp_path / "bad.csv"),
        "--problem",
        "problm",
        "--correct",
        "correct",
    )
    assert code == 1 and "no column 'problm'" in err


def test_testtime_optimal_json_and_bad_task(invoke, invoke_json, tmp_path):
    from scalinglab.decide.t2 import TaskModel, t2_optimum

    args = [
        "testtime",
        "optimal",
        "--preset",
        "besiroglu2024",
        "--budget",
        "1e23",
        "--queries",
        "1e8",
        "--tokens-per-sample",
        "500",
        "--k-max",
        "100",
    ]
    out = invoke_json(
        *args,
        "--task",
        "L50=2.05,scale=0.08,concentration=0.5",
        "--plot",
        str(tmp_path / "t2.png"),
    )
    assert (tmp_path / "t2.png").stat().st_size > 0
    assert max(out["scanned"], key=lambda row: row["pass_at_k"])["k"] == out["k"]
    direct = t2_optimum(
        get_preset("besiroglu2024"),
        TaskModel(L50=2.05, scale=0.08, concentration=0.5),
        budget=1e23,
        queries=1e8,
        tokens_per_sample=500,
        k_max=100,
    )
    assert out["k"] == direct.k and out["N"] == pytest.approx(direct.model.N, rel=1e-12)
    assert out["overtraining"] > 1
    code, _out, err = invoke(*args, "--task", "L50=2.05,scale=0.08")
    assert code == 1 and "missing concentration" in err
    code, _out, err = invoke(*args, "--task", "L50=2.05,scale=-1,concentration=1")
    assert code == 1 and "scale must be > 0; got -1.0" in err


def test_bad_inference_cost_expression_names_its_option(invoke):
    code, _out, err = invoke(
        "optimal",
        "--preset",
        "besiroglu2024",
        "--compute",
        "1e23",
        "--inference-tokens",
        "1e12",
        "--inference-flops-per-token",
        "2*M",
    )
    assert code == 1 and "--inference-flops-per-token may use only N" in err
