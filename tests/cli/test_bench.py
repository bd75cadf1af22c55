"""The CLI contract of `bench sldbench DIR --json`: one entry per task with law, r2 and human_r2."""

from __future__ import annotations

import pytest

from tests.bench.test_sldbench import rectified_folder


def test_bench_sldbench_json(tmp_path, invoke_json):
    payload = invoke_json("bench", "sldbench", str(rectified_folder(tmp_path)))
    [task] = payload["tasks"]
    assert {"task", "law", "r2", "human_r2"} <= set(task)
    assert task["law"] == "rectified"
    assert task["r2"] == pytest.approx(1.0, abs=1e-8)


def test_bench_sldbench_bad_folder_exits_1(tmp_path, invoke):
    code, _, err = invoke("bench", "sldbench", str(tmp_path))
    assert code == 1 and "none of the SLDBench tasks" in err
