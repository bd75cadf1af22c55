"""Curve ingestion (CSV, JSONL, W&B export, TensorBoard event files) and the `curve` CLI."""

from __future__ import annotations

import json
import struct

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.cli import app
from scalinglab.errors import InputError
from scalinglab.io.logs import crc32c, masked_crc32c, read_curves, read_schedule
from scalinglab.schedules import constant, cosine

TRUTH = dict(L0=2.74, A=0.45, alpha=0.6, C=0.35)


def _tissue(schedule, steps):
    from scipy.signal import lfilter

    lr = schedule.lr
    drop = np.concatenate([[0.0], lr[:-1] - lr[1:]])
    drop[: int(np.argmax(lr)) + 1] = 0.0
    S2 = np.cumsum(lfilter([1.0], [1.0, -0.999], drop))
    return (
        TRUTH["L0"]
        + TRUTH["A"] * np.cumsum(lr)[steps] ** -TRUTH["alpha"]
        - TRUTH["C"] * S2[steps]
    )


def _frame(schedule, name, every=25):
    steps = np.arange(schedule.phases().warmup[1], schedule.steps, every)
    return pd.DataFrame(
        {
            "run": name,
            "step": steps,
            "lr": schedule.lr[steps],
            "loss": _tissue(schedule, steps),
        }
    )


@pytest.fixture()
def curves_csv(tmp_path):
    frame = pd.concat(
        [
            _frame(cosine(4000, 3e-4, final=3e-5, warmup=200), "cos"),
            _frame(constant(4000, 3e-4, warmup=200), "const"),
        ]
    )
    path = tmp_path / "curves.csv"
    frame.to_csv(path, index=False)
    return path


# -- TensorBoard event files written frame by frame ------------------------------------


def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte = value & 0x7F
        value >>= 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def _field(number: int, wire: int, payload: bytes) -> bytes:
    key = _varint((number << 3) | wire)
    return key + (_varint(len(payload)) + payload if wire == 2 else payload)


def _event(step: int, tag: str, value: float, as_tensor: bool = False) -> bytes:
    if as_tensor:  # TF2 style: a scalar TensorProto with dtype DT_FLOAT and float_val
        tensor = _field(1, 0, _varint(1)) + _field(5, 2, struct.pack("<f", value))
        summary_value = _field(1, 2, tag.encode()) + _field(8, 2, tensor)
    else:  # torch SummaryWriter style: simple_value
        summary_value = _field(1, 2, tag.encode()) + _field(
            2, 5, struct.pack("<f", value)
        )
    summary = _field(1, 2, summary_value)
    return (
        _field(1, 1, struct.pack("<d", 1.7e9))
        + _field(2, 0, _varint(step))
        + _field(5, 2, summary)
    )


def _write_events(path, records):
    with open(path, "wb") as handle:
        for data in records:
            header = struct.pack("<Q", len(data))
            handle.write(
                header
                + struct.pack("<I", masked_crc32c(header))
                + data
                + struct.pack("<I", masked_crc32c(data))
            )


def test_crc32c_standard_check_value():
    assert crc32c(b"123456789") == 0xE3069283


def test_tensorboard_event_files_folder(tmp_path):
    schedule = cosine(3000, 3e-4, final=3e-5, warmup=100)
    steps = np.arange(100, 3000, 50)
    loss = _tissue(schedule, steps)
    for run, as_tensor in (("a", False), ("b", True)):
        (tmp_path / run).mkdir()
        records = [_field(3, 2, b"brain.Event:2")]
        records += [
            _event(int(s), "train/lr", float(schedule.lr[s]), as_tensor)
            for s in steps[::2]
        ]
        records += [
            _event(int(s), "train/loss", float(v), as_tensor)
            for s, v in zip(steps, loss)
        ]
        _write_events(tmp_path / run / "events.out.tfevents.1700000000.host", records)
    curves = read_curves(tmp_path)
    assert [c.name for c in curves] == ["a", "b"]
    for c in curves:
        np.testing.assert_array_equal(c.steps, steps)
        np.testing.assert_allclose(c.loss, loss, rtol=1e-6)  # float32 storage
        # LR logged at every other loss step: exact there, linearly interpolated between
        np.testing.assert_allclose(c.lr[::2], schedule.lr[steps[::2]], rtol=1e-6)
        np.testing.assert_allclose(c.lr, schedule.lr[steps], rtol=0, atol=1e-6)


def test_tensorboard_bad_checksum_names_offset(tmp_path):
    path = tmp_path / "events.out.tfevents.1"
    _write_events(path, [_event(1, "loss", 3.0)])
    raw = bytearray(path.read_bytes())
    raw[9] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="byte 0"):
        read_curves(path, lr="loss")


def test_csv_with_runs_and_wandb_export(tmp_path, curves_csv):
    curves = read_curves(curves_csv, run="run")
    assert sorted(c.name for c in curves) == ["const", "cos"]
    long = pd.read_csv(curves_csv)
    wide = long.pivot(index="step", columns="run", values=["loss", "lr"])
    export = pd.DataFrame({"Step": wide.index})
    for run in ("cos", "const"):
        export[f"{run} - train/loss"] = wide["loss"][run].to_numpy()
        export[f"{run} - train/loss__MIN"] = wide["loss"][run].to_numpy() - 0.1
        export[f"{run} - train/lr"] = wide["lr"][run].to_numpy()
    path = tmp_path / "wandb_export.csv"
    export.to_csv(path, index=False)
    from_wandb = {c.name: c for c in read_curves(path)}
    for c in curves:
        np.testing.assert_allclose(from_wandb[c.name].loss, c.loss)
        np.testing.assert_array_equal(from_wandb[c.name].steps, c.steps)


def test_jsonl_and_missing_column_message(tmp_path, curves_csv):
    frame = pd.read_csv(curves_csv)
    path = tmp_path / "curves.jsonl"
    frame.to_json(path, orient="records", lines=True)
    assert len(read_curves(path, run="run")) == 2
    with pytest.raises(InputError, match="no column 'lr_peak'"):
        read_curves(path, lr="lr_peak", run="run")
    with pytest.raises(InputError, match="more than once"):
        read_curves(curves_csv)  # two curves, no --run


def test_schedule_csv(tmp_path):
    path = tmp_path / "sched.csv"
    pd.DataFrame({"step": [0, 100, 200], "lr": [1e-3, 1e-3, 0.0]}).to_csv(
        path, index=False
    )
    s = read_schedule(path)
    assert s.steps == 201 and s.lr[150] == pytest.approx(5e-4)


def test_cli_fit_predict_optimize(tmp_path, curves_csv):
    runner = CliRunner()
    saved = tmp_path / "fit.json"
    result = runner.invoke(
        app,
        [
            "curve",
            "fit",
            str(curves_csv),
            "--law",
            "tissue",
            "--step",
            "step",
            "--lr",
            "lr",
            "--loss",
            "loss",
            "--run",
            "run",
            "-o",
            str(saved),
            "--bootstrap",
            "30",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["objective"] >= 0
    for name, value in TRUTH.items():
        assert payload["params"][name] == pytest.approx(value, rel=1e-3)
    sched = tmp_path / "s.csv"
    held = cosine(6000, 3e-4, final=0.0, warmup=200)
    pd.DataFrame({"step": np.arange(6000), "lr": held.lr}).to_csv(sched, index=False)
    for spec in (str(sched), "cosine:steps=6000,peak=3e-4,final=0,warmup=200"):
        out = runner.invoke(
            app,
            [
                "curve",
                "predict",
                "--fit",
                str(saved),
                "--schedule",
                spec,
                "--points",
                "50",
                "--json",
            ],
        )
        assert out.exit_code == 0, out.output
        pred = json.loads(out.output)
        assert len(pred["steps"]) == len(pred["loss"]) == len(pred["ci95"][0])
        truth = _tissue(held, np.asarray(pred["steps"]))
        np.testing.assert_allclose(pred["loss"], truth, rtol=1e-3)
    opt = runner.invoke(
        app,
        [
            "curve",
            "optimize",
            "--fit",
            str(saved),
            "--steps",
            "6000",
            "--peak",
            "3e-4",
            "--warmup",
            "200",
            "--json",
        ],
    )
    search = json.loads(opt.output)
    losses = [c["final_loss"] for c in search["candidates"]]
    assert search["best"]["final_loss"] == min(losses)
    assert sum(c["p_best"] for c in search["candidates"]) == pytest.approx(1.0)


def test_cli_bad_schedule_exits_1(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "curve",
            "predict",
            "--fit",
            str(tmp_path / "nofit.json"),
            "--schedule",
            "wsd:steps=100,peak=1e-3",
        ],
    )
    assert result.exit_code != 0
