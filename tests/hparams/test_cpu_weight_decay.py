"""The real CPU weight-decay sweep (benchmarks/exp_weight_decay.py) and its stored result.

Fast tests read ``benchmarks/exp_weight_decay.json`` (2 sizes x 3 token budgets x 6
weight decays, trained with the built-in trainer, fitted by ``hparams fit STUDY --wd
weight_decay``) and check that docs/hparams.md quotes it. The slow test reruns the
reduced version (``--quick``: one size, two budgets, four weight decays) and holds
each run's loss to the values measured for seeds 0 and 1, with the tolerance their
spread gives.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import REPO_ROOT, run_quick_experiment

BENCHMARKS = REPO_ROOT / "benchmarks"
STORED = json.loads((BENCHMARKS / "exp_weight_decay.json").read_text())
DOC = (REPO_ROOT / "docs" / "hparams.md").read_text()

# --quick (python benchmarks/exp_weight_decay.py --quick --seed S --workers 1): each
# run's final held-out loss for seeds 0 and 1. At 10k parameters the runs sit on or
# near the unigram plateau and the seed moves a loss by up to 0.39 nats, more than
# the weight decay does: the reduced sweep cannot locate an optimum (seed 1 has none
# bracketed), so the test holds each run to its seed range, widened by that range.
QUICK_LOSSES = {
    "N10k-D39.2k-lr0.026-bs2-wd0.03": (3.2431, 3.3259),
    "N10k-D39.2k-lr0.026-bs2-wd0.139": (3.2802, 3.3262),
    "N10k-D39.2k-lr0.026-bs2-wd0.646": (3.1676, 3.3300),
    "N10k-D39.2k-lr0.026-bs2-wd3": (3.3239, 3.2060),
    "N10k-D157k-lr0.0398-bs4-wd0.03": (2.9235, 3.1527),
    "N10k-D157k-lr0.0398-bs4-wd0.139": (2.7567, 3.1509),
    "N10k-D157k-lr0.0398-bs4-wd0.646": (2.9056, 2.7649),
    "N10k-D157k-lr0.0398-bs4-wd3": (2.8265, 2.7682),
}


def _section() -> str:
    return DOC[DOC.index("## A real weight-decay sweep on the CPU") :]


def test_docs_quote_the_stored_timescale_law():
    law = STORED["wd_law"]
    section = _section()
    for name in ("coef", "TPP"):
        low, high = law["ci95"][name]
        for value in (law["params"][name], low, high):
            assert f"{value:.3g}" in section, (name, value)
    assert "python benchmarks/exp_weight_decay.py" in section


def test_every_run_of_the_sweep_is_stored():
    runs = STORED["runs"]
    design = STORED["design"]
    assert len(runs) == len(design["N"]) * len(design["tpp"]) * 6
    assert all(np.isfinite(float(r["loss"])) for r in runs)


@pytest.mark.slow
def test_reduced_sweep_reproduces_its_measured_losses(tmp_path, monkeypatch):
    result = run_quick_experiment("exp_weight_decay", tmp_path, monkeypatch)
    losses = {r["run"]: float(r["loss"]) for r in result["runs"]}
    assert set(losses) == set(QUICK_LOSSES)
    for run, seeds in QUICK_LOSSES.items():
        spread = max(seeds) - min(seeds) + 1e-4
        assert min(seeds) - spread <= losses[run] <= max(seeds) + spread, run
