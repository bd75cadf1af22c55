"""A small synthetic ladder with known truth, and the report built from it once per session."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglab import get_law, read_runs

TRUTH = {"E": 1.8, "A": 400.0, "B": 410.0, "alpha": 0.34, "beta": 0.28}
BOOTSTRAP = 40


def ladder_frame(seed: int = 0) -> pd.DataFrame:
    """5 model sizes x 4 tokens-per-parameter ratios, Chinchilla truth, 1% log-normal noise."""
    N, ratio = np.meshgrid(np.geomspace(1e7, 4e8, 5), [5.0, 10.0, 20.0, 40.0])
    N, D = N.ravel(), (N * ratio).ravel()
    loss = get_law("chinchilla").predict(TRUTH, N=N, D=D)
    loss = loss * np.exp(0.01 * np.random.default_rng(seed).standard_normal(N.size))
    names = [f"run-{i:02d}" for i in range(N.size)]
    return pd.DataFrame({"name": names, "params": N, "tokens": D, "loss": loss})


@pytest.fixture(scope="session")
def ladder_csv(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("ladder") / "ladder.csv"
    ladder_frame().to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="session")
def ladder_runs(ladder_csv):
    return read_runs(ladder_csv, N="params", D="tokens", loss="loss", run="name")


@pytest.fixture(scope="session")
def ladder_study(tmp_path_factory):
    """The ladder as a finished study folder (plan + runs), as `scalinglab run` leaves it."""
    from scalinglab.run.store import Study

    frame = ladder_frame()
    specs = [
        {"run_id": r.name, "N": r.params, "D": r.tokens, "C": 6 * r.params * r.tokens}
        for r in frame.itertuples()
    ]
    path = tmp_path_factory.mktemp("study") / "study"
    with Study.create(path, {"kind": "ladder"}, specs) as study:
        for spec, loss in zip(specs, frame.loss):
            study.mark_finished(spec["run_id"], {}, [{"step": 1, "eval_loss": loss}])
    return path


@pytest.fixture(scope="session")
def ladder_fit(ladder_runs):
    from scalinglab import fit

    return fit("chinchilla", ladder_runs, bootstrap=BOOTSTRAP, seed=0)


@pytest.fixture(scope="session")
def ladder_report(ladder_runs, tmp_path_factory) -> str:
    """The report of the ladder (one law, one target, two budgets), as HTML text."""
    from scalinglab.report import write_report

    path = tmp_path_factory.mktemp("report") / "ladder.html"
    write_report(
        path,
        ladder_runs,
        laws=["chinchilla"],
        compute=(1e20, 1e21),
        targets=[{"N": 1e9, "D": 2e10}],
        bootstrap=BOOTSTRAP,
        validation_bootstrap=BOOTSTRAP,
        seed=0,
    )
    return path.read_text(encoding="utf-8")
