"""Progress bars for long work: off when stderr is not a terminal or with --json, drawn
under a pseudo-terminal, fed monotone (done, total) calls by the library."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
import pytest

from scalinglab import fit
from scalinglab.analysis.chinchilla_approaches import chinchilla_approaches
from scalinglab.analysis.compare import compare
from scalinglab.analysis.envelope import envelope
from scalinglab.analysis.isoflop import isoflop
from scalinglab.analysis.lawaverage import fit_average
from scalinglab.analysis.validation import compare_laws, make_splits, validate
from scalinglab.cli._common import progress_bar
from scalinglab.data import read_runs


def _runs(seed: int = 0) -> pd.DataFrame:
    N = np.repeat(np.geomspace(1e7, 3e9, 6), 5)
    D = N * np.tile(np.geomspace(2, 200, 5), 6)
    L = 1.7 + 400 / N**0.34 + 410 / D**0.28
    noise = np.exp(0.005 * np.random.default_rng(seed).standard_normal(N.size))
    return pd.DataFrame({"N": N, "D": D, "loss": L * noise})


def _under_pty(args: list[str], timeout: float = 120) -> tuple[str, str]:
    """Run ``args`` with stderr on a pseudo-terminal: (stdout, what the terminal got)."""
    leader, follower = pty.openpty()
    env = os.environ | {"TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    stdout = tempfile.TemporaryFile("w+")  # a pipe would fill and block the child
    proc = subprocess.Popen(args, stdout=stdout, stderr=follower, env=env, text=True)
    os.close(follower)
    chunks = []
    while True:  # until the child exits and the terminal is drained
        exited = proc.poll() is not None
        ready, _, _ = select.select([leader], [], [], 0.05)
        try:
            data = os.read(leader, 65536) if ready else b""
        except OSError:  # every writer closed the terminal
            data = b""
        chunks.append(data)
        if exited and not data:
            break
    proc.wait(timeout=timeout)
    stdout.seek(0)
    out = stdout.read()
    os.close(leader)
    assert proc.returncode == 0, b"".join(chunks).decode(errors="replace")
    return out, b"".join(chunks).decode(errors="replace")


def _monotone_to_total(calls: list[tuple[int, int]], total: int) -> None:
    assert calls, "progress was never called"
    done = [d for d, _ in calls]
    assert all(t == total for _, t in calls), calls
    assert done == sorted(done), calls
    assert done[-1] == total


def test_helper_is_off_when_disabled_or_stderr_is_not_a_terminal(monkeypatch):
    with progress_bar(True, "bootstrap") as progress:  # pytest captures stderr
        assert progress is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with progress_bar(False, "bootstrap") as progress:  # --json
        assert progress is None


_DRAW = (
    "import time\n"
    "from scalinglab.cli._common import progress_bar\n"
    "with progress_bar(True, 'demo work', delay={delay}) as progress:\n"
    "    for done in range(1, 6):\n"
    "        time.sleep(0.1)\n"
    "        progress(done, 5)\n"
)


def test_a_bar_is_drawn_on_a_terminal_once_the_work_outlasts_the_delay():
    _, shown = _under_pty([sys.executable, "-c", _DRAW.format(delay=0.0)])
    assert "demo work" in shown and "━" in shown
    _, quick = _under_pty([sys.executable, "-c", _DRAW.format(delay=5.0)])
    assert "demo work" not in quick


def test_a_call_may_rename_the_bar_for_work_in_named_steps():
    steps = (
        "import time\n"
        "from scalinglab.cli._common import progress_bar\n"
        "with progress_bar(True, 'steps', delay=0.0) as progress:\n"
        "    for done, name in enumerate(('first', 'second')):\n"
        "        progress(done, 2, label=f'work: {name}')\n"
        "        time.sleep(0.3)\n"
    )
    _, shown = _under_pty([sys.executable, "-c", steps])
    assert "work: first" in shown and "work: second" in shown and "━" in shown


def test_fit_reports_monotone_progress_ending_at_the_replicates():
    calls = []
    fit(
        "chinchilla",
        read_runs(_runs()),
        bootstrap=300,
        extrapolation=None,
        progress=lambda d, t: calls.append((d, t)),
    )
    _monotone_to_total(calls, 300)
    assert len(calls) == 2  # chunks of 250 replicates


def test_validation_and_law_comparison_count_every_fold_and_law():
    runs = read_runs(_runs())
    splits = make_splits(runs, rolling=True, by="N")
    calls = []
    validate(
        "chinchilla",
        runs,
        splits,
        bootstrap=20,
        widen=None,
        progress=lambda d, t: calls.append((d, t)),
    )
    _monotone_to_total(calls, 20 * len(splits))
    calls.clear()
    compare_laws(  # the last law cannot be fitted without U: its share still counts
        ["power(N)", "chinchilla", "data_constrained"],
        runs,
        splits[-1],
        bootstrap=20,
        widen=None,
        progress=lambda d, t: calls.append((d, t)),
    )
    _monotone_to_total(calls, 60)


@pytest.mark.slow
def test_cli_fit_draws_a_bar_on_a_terminal_and_json_stays_clean(tmp_path):
    path = tmp_path / "runs.csv"
    _runs().to_csv(path, index=False)
    args = [sys.executable, "-m", "scalinglab", "fit", str(path), "--law", "chinchilla"]
    args += ["--N", "N", "--D", "D", "--loss", "loss", "--extrapolation", "none"]
    args += ["--bootstrap", "3000"]
    _, shown = _under_pty(args)
    assert "bootstrap" in shown and "━" in shown
    out, quiet = _under_pty([*args, "--json"])
    assert "━" not in quiet
    assert json.loads(out)["law"]["name"] == "chinchilla"


def test_isoflop_counts_its_budget_profiles(invoke, tmp_path, monkeypatch):
    from contextlib import contextmanager

    from scalinglab.cli import approaches

    C = np.repeat([1e18, 1e19, 1e20, 1e21], 9)
    N = np.concatenate(
        [
            np.geomspace(c**0.5 / 30, c**0.5 / 0.3, 9) / 4
            for c in (1e18, 1e19, 1e20, 1e21)
        ]
    )
    L = 1.7 + 400 * N**-0.34 + 410 * (C / (6 * N)) ** -0.34
    calls = []
    isoflop(N, C / (6 * N), C, L, draws=50, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]

    seen = {"calls": []}

    @contextmanager
    def recording_bar(enabled, label):
        seen["enabled"] = enabled
        yield lambda done, total: seen["calls"].append((done, total))

    monkeypatch.setattr(approaches, "progress_bar", recording_bar)
    path = tmp_path / "iso.csv"
    pd.DataFrame({"N": N, "C": C, "loss": L}).to_csv(path, index=False)
    code, _, err = invoke("isoflop", str(path), "--draws", "50")
    assert code == 0 and seen["enabled"] and seen["calls"] == calls, err
    code, _, _ = invoke("isoflop", str(path), "--draws", "50", "--json")
    assert code == 0 and seen["enabled"] is False


def test_envelope_and_the_three_approaches_count_their_bootstraps():
    rows = [
        (n, d, 1.7 + 400 / n**0.34 + 410 / d**0.28, f"r{i}")
        for i, n in enumerate(np.geomspace(1e7, 1e10, 12))
        for d in np.geomspace(0.5 * n, 500 * n, 15)
    ]
    N, D, L, run = (np.array(v) for v in zip(*rows))
    calls = []
    envelope(
        N.astype(float),
        D.astype(float),
        6 * N * D,
        L.astype(float),
        run,
        usable=np.ones(N.size, bool),
        bootstrap=40,
        fit_loss=False,
        progress=lambda d, t: calls.append((d, t)),
    )
    _monotone_to_total(calls, 40)
    assert len(calls) == 20  # every other replicate of 40, then the end
    calls.clear()
    frame = pd.DataFrame({"N": N, "D": D, "loss": L})  # one row per run
    chinchilla_approaches(
        read_runs(frame),
        bootstrap=30,
        progress=lambda d, t: calls.append((d, t)),
    )
    _monotone_to_total(calls, 60)


def test_a_law_average_counts_every_member_fit():
    calls = []
    average = fit_average(
        read_runs(_runs()),
        laws=["chinchilla", "power(N)"],
        bootstrap=20,
        extrapolation=None,
        progress=lambda d, t: calls.append((d, t)),
    )
    _monotone_to_total(calls, 20 * len(average.fits))


def test_the_sweep_bars_count_runs_and_show_each_runs_tokens(monkeypatch):
    from types import SimpleNamespace

    from scalinglab.run.sweep import _Progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    study = SimpleNamespace(states=lambda: {"a": "finished", "b": "pending"})
    runs = {"a": SimpleNamespace(steps=10), "b": SimpleNamespace(steps=10)}
    bars = _Progress(study, runs, show=True)
    bars.update("start", "b", None)
    bars.update("rows", "b", [{"step": 4, "tokens": 4.0e6}])
    tasks = {t.description.strip(): t for t in bars.bars.tasks}
    assert tasks["b  4e+06 tokens"].completed == 4
    assert tasks["sweep (runs)"].completed == 1 and tasks["sweep (runs)"].total == 2
    bars.update("done", "b", None)
    assert [t.description for t in bars.bars.tasks] == ["sweep (runs)"]
    assert bars.bars.tasks[0].completed == 2


def test_a_recipe_comparison_counts_every_groups_bootstrap():
    frame = pd.concat([_runs(0).assign(recipe="A"), _runs(1).assign(recipe="B")])
    calls = []
    compare(
        "chinchilla",
        read_runs(frame),
        "recipe",
        "A",
        bootstrap=30,
        progress=lambda d, t: calls.append((d, t)),
    )
    _monotone_to_total(calls, 60)
