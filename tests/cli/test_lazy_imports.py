"""A command pays at start-up only for the libraries it uses (issue 8: CLI start-up)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from scalinglab.fit import fit, load_fit
from scalinglab.laws.presets import get_preset

HEAVY = ("pandas", "scipy", "rich", "matplotlib", "torch")


def _imported_by(args: list[str]) -> tuple[dict, list[str]]:
    """Run ``scalinglab ARGS`` in a fresh interpreter: its JSON output and the heavy
    libraries it imported."""
    code = (
        "import sys\n"
        "from scalinglab.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as stop:\n"
        "    assert stop.code in (0, None), stop.code\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout), out.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def saved_fit(tmp_path_factory):
    rng = np.random.default_rng(0)
    N = np.repeat(np.geomspace(1e7, 1e9, 5), 3)
    D = N * np.tile([10.0, 20.0, 40.0], 5)
    loss = (1.8 + 400 * N**-0.34 + 2000 * D**-0.37) * np.exp(rng.normal(0, 0.003, 15))
    path = tmp_path_factory.mktemp("fit") / "f.json"
    fit("chinchilla", {"N": N, "D": D, "loss": loss}, bootstrap=20, seed=0).save(path)
    return path


def test_predict_from_a_saved_fit_imports_no_pandas_scipy_or_rich(saved_fit):
    out, heavy = _imported_by(
        ["predict", "--fit", str(saved_fit), "--N", "7e9", "--D", "2e12", "--json"]
    )
    expected = load_fit(saved_fit).predict(N=7e9, D=2e12)
    assert out["loss"] == pytest.approx(float(expected), rel=1e-12)
    assert heavy == "[]"


def test_optimal_from_a_preset_imports_no_pandas_scipy_or_rich():
    out, heavy = _imported_by(
        ["optimal", "--preset", "besiroglu2024", "--compute", "1e24", "--json"]
    )
    best = get_preset("besiroglu2024").optimal(compute=1e24)
    assert out["N"] == pytest.approx(float(best.N), rel=1e-12)
    assert heavy == "[]"
