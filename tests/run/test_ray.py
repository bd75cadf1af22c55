"""The same plan on a real local Ray cluster and on the local process pool: same metrics."""

from __future__ import annotations

import importlib.util
import inspect

import pytest

from scalinglab.plan import ladder
from scalinglab.run.store import Study
from scalinglab.run.sweep import run_study

pytest.importorskip(
    "torch", reason="the built-in trainer needs torch: pip install torch==2.13.0"
)
pytestmark = [
    pytest.mark.ray,
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("ray") is None,
        reason="ray is not installed: pip install 'scalinglab[ray]'",
    ),
]


def metrics(study_dir):
    with Study.open(study_dir) as study:
        rows = [
            {k: v for k, v in r.items() if k != "wall_time"}
            for r in study.metric_rows()
        ]
        runs = [(r["run_id"], r["state"], r["final_loss"]) for r in study.runs()]
        executors = [s["executor"] for s in study.sessions()]
    return rows, runs, executors


def test_two_run_plan_gives_identical_metrics_on_ray_and_local(tmp_path):
    import textwrap
    import typing

    corpus = tmp_path / "text.txt"
    corpus.write_text(inspect.getsource(typing) + inspect.getsource(textwrap))
    plan = ladder(
        (3e4, 3e4), 1, (2, 4), corpus=str(corpus), eval_tokens=2048, lr_scale=0.3
    )
    assert len(plan.runs) == 2

    local = run_study(
        plan, tmp_path / "local", executor="local", threads=1, progress=False
    )
    ray = run_study(plan, tmp_path / "ray", executor="ray", threads=1, progress=False)
    assert (local.finished, ray.finished, local.failed, ray.failed) == (2, 2, {}, {})

    rows_local, runs_local, ex_local = metrics(tmp_path / "local")
    rows_ray, runs_ray, ex_ray = metrics(tmp_path / "ray")
    assert len(rows_local) == sum(r.steps // r.log_every for r in plan.runs)
    assert rows_ray == rows_local  # seed for seed, bit for bit
    assert runs_ray == runs_local and all(loss is not None for _, _, loss in runs_ray)
    assert (ex_local, ex_ray) == (["local"], ["ray"])
