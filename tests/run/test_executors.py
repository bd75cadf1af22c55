"""The local pool survives a worker killed in the middle of sending a message."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from scalinglab.run.executors import LocalExecutor, Task


def flood_then_die(task, emit):
    """Run "a" streams 1 MB rows until a SIGKILL lands, most likely mid-send."""
    if task.run_id == "a":
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGKILL)).start()
        for step in range(1, 10**6):
            emit({"step": step, "blob": "x" * 1_000_000})
    for step in range(1, 4):
        emit({"step": step, "train_loss": 1.0 / step})
    return {"rows": 3}


@pytest.mark.timeout(120)
def test_a_worker_killed_mid_message_fails_its_run_and_the_pool_goes_on():
    steps: dict[str, list[int]] = {"a": [], "b": []}
    outcome = {}
    events = LocalExecutor(workers=1, threads=1).events(
        flood_then_die, [Task("a", spec=None), Task("b", spec=None)]
    )
    for kind, run_id, payload in events:
        if kind == "rows":
            assert all(len(r.get("blob", "x" * 10**6)) == 10**6 for r in payload)
            steps[run_id] += [r["step"] for r in payload]
        elif kind in ("done", "failed"):
            outcome[run_id] = (kind, payload)
    assert outcome["a"] == ("failed", "worker process died (exit code -9)")
    assert steps["a"] == list(range(1, len(steps["a"]) + 1)) and steps["a"]
    assert outcome["b"] == ("done", {"rows": 3}) and steps["b"] == [1, 2, 3]
