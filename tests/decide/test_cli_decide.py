"""The decide commands' contract: optimal's lifetime options, hardware costs, exit codes and messages."""

from __future__ import annotations

import json

import pytest

from scalinglab.cli import main
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


@pytest.fixture
def invoke(capsys):
    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _json(invoke, *args):
    code, out, err = invoke(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_target_loss_with_inference_tokens_json_contract(invoke, fitted, fitted_json):
    out = _json(
        invoke,
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
    assert set(out["ci95"]) >= set(_CONTRACT) - {"loss"}
    assert out["total_flops"] == pytest.approx(
        out["train_flops"] + out["inference_flops"], rel=1e-12
    )
    assert out["inference_flops"] == pytest.approx(2 * out["N"] * 2e12, rel=1e-12)
    assert out["saving_flops"] > 0 and out["chinchilla"]["N"] > out["N"]


def test_preset_says_it_has_no_intervals(invoke):
    out = _json(
        invoke,
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


def test_custom_inference_cost_and_dollar_budget(invoke):
    out = _json(
        invoke,
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
    code, out, err = invoke("optimal", "--preset", "besiroglu2024", *args)
    assert code == 1 and message in err and "Traceback" not in err


def test_mfu_outside_unit_interval_is_refused_in_python():
    with pytest.raises(ScalinglabError, match="got 1.2"):
        parse_cost("gpus=1,peak=1e15,mfu=1.2,price=1")
    assert parse_cost("gpus=1,peak=1e15,mfu=1,price=1").mfu == 1.0


def test_plain_optimal_is_unchanged(invoke):
    out = _json(invoke, "optimal", "--preset", "besiroglu2024", "--compute", "5.88e23")
    assert "ci95" not in out and out["N"] == pytest.approx(7.30e10, rel=2e-3)
    assert get_preset("besiroglu2024").draws is None
