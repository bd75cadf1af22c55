"""Shared fixtures. Real-data tests read ``../shared/data`` and skip when it is absent."""

from __future__ import annotations

import json
import os
from pathlib import Path

# Under pytest-xdist (`-n auto`, what CI runs) each worker is a process sharing the
# cores with the others: one BLAS/OpenMP thread per worker, else they oversubscribe
# (the luo2025 bootstrap test ran 6x slower with two workers of two threads each).
# Set before any test module imports numpy or torch.
if "PYTEST_XDIST_WORKER" in os.environ:
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(
    os.environ.get("SCALINGLAB_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")
)


def import_benchmark(script: str, monkeypatch):
    """The module ``benchmarks/<script>.py``, importable for this test only."""
    import importlib

    monkeypatch.syspath_prepend(str(REPO_ROOT / "benchmarks"))
    return importlib.import_module(script)


def run_quick_experiment(script: str, tmp_path: Path, monkeypatch) -> dict:
    """Run ``benchmarks/<script>.py --quick`` on one worker into ``tmp_path``; its result."""
    experiment = import_benchmark(script, monkeypatch)
    study, output = str(tmp_path / "study"), str(tmp_path / "quick.json")
    args = ["--quick", "--workers", "1", "--study", study, "--output", output]
    return experiment.main(args)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to the shared real data sets; skips the test when they are not present."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"real data not found at {SHARED_DATA}; set SCALINGLAB_SHARED_DATA "
            "to the shared/data folder to run this test"
        )
    return SHARED_DATA


@pytest.fixture
def invoke(capsys):
    """Run the CLI in-process: ``invoke(*args)`` returns (exit code, stdout, stderr)."""
    from scalinglab.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def invoke_json(invoke):
    """Run the CLI with ``--json``, assert exit 0 and return the parsed output."""

    def run(*args: str) -> dict:
        code, out, err = invoke(*args, "--json")
        assert code == 0, err
        return json.loads(out)

    return run
