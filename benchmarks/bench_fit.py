"""Fitting speed against the reference recipe, measured as ratios in one process.

The reference recipe (Hoffmann et al., the Chinchilla replication): scipy L-BFGS-B
with the analytic gradient of the summed log-Huber objective, started from every
point of the 4,500-point grid, best result kept. It is timed on an evenly spaced
sample of the grid and scaled to the whole grid; the sample's best objective is
printed beside scalinglab's so that "the same optimum" is measured. Also timed:
the command line end to end (``scalinglab fit --bootstrap 0`` on the same 240
rows, and ``scalinglab --help``, each as a subprocess, best of 3), the default fit
(1,000 replicates and the rolling-origin extrapolation error) and its parts.

    python benchmarks/bench_fit.py [--sample 150] [--json]

Needs ../shared/data/epoch_chinchilla (the 240 points the replication kept).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

import scalinglab as sl
from scalinglab.fit.engine import Problem, jacobian, objective_values, predictions
from scalinglab.fit.objectives import get_objective

DATA = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "epoch_chinchilla"
)


def load_runs():
    frame = (
        pd.read_csv(DATA / "svg_extracted_data.csv")
        .sort_values("loss", kind="stable")
        .iloc[:-5]
    )
    return sl.read_runs(frame, N="Model Size", C="Training FLOP", loss="loss")


def reference_fit(problem: Problem, theta0: np.ndarray):
    def value_and_gradient(theta):
        r = (predictions(problem, theta[None]) - problem.observed)[0]
        g = np.einsum(
            "n,np->p", problem.objective.psi(r), jacobian(problem, theta[None])[0]
        )
        return float(objective_values(problem, theta[None])[0]), g

    low, high = problem.law.fit_bounds()
    return minimize(
        value_and_gradient,
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=list(zip(low, high)),
        options={"ftol": 0.0, "gtol": 1e-10, "maxiter": 5000},
    )


def cli_seconds(args: list[str], repeats: int = 3) -> tuple[float, float]:
    """Wall and CPU time (user + system) of ``scalinglab ARGS`` in a fresh interpreter,
    best of ``repeats``; CPU time is what load on a shared machine changes least."""
    command = (
        [sys.executable, "-m", "scalinglab", *args]
        if args
        else [sys.executable, "-c", "pass"]
    )
    wall, cpu = np.inf, np.inf
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        wall = min(wall, time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = min(
            cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        )
    return wall, cpu


def cli_fit_seconds(runs) -> tuple[float, float]:
    """``scalinglab fit --bootstrap 0`` on the benchmark's rows, written to a CSV."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "runs.csv"
        runs.frame[["N", "C", "loss"]].to_csv(path, index=False)
        return cli_seconds(["fit", str(path), "--bootstrap", "0", "--json"])


# Issue 8's speed goals, checked on CPU time where the machine may be shared.
GOALS = (
    (
        "cli_speedup_vs_reference",
        ">=",
        100.0,
        "CLI fit --bootstrap 0 at least 100x the reference",
    ),
    (
        "default_fit_cpu_seconds",
        "<=",
        3.0,
        "default fit with 1,000 replicates under 3 s",
    ),
    ("cli_help_cpu_seconds", "<=", 0.5, "scalinglab --help under 0.5 s"),
    # Regression floors for the ratios README states (docs/claims.md): half the lowest
    # measured at load averages 4-11 on 2 cores (fit 2,368x-6,245x, CLI 1,052x-1,440x),
    # since the ratios moved by up to 2.6x with the machine's load.
    (
        "speedup_vs_reference",
        ">=",
        1000.0,
        "fit at least 1,000x the reference (README: 2,368x-6,245x)",
    ),
    (
        "cli_speedup_vs_reference",
        ">=",
        500.0,
        "CLI fit at least 500x the reference (README: 1,052x-1,440x)",
    ),
    # "The same optimum": README prints both objectives to 9 significant digits.
    (
        "objective_above_reference",
        "<=",
        5e-9,
        "the reference's optimum or better (relative excess at most 5e-9)",
    ),
)


def missed_goals(report: dict) -> list[str]:
    """The goals the report misses, described (empty when all are met)."""
    missed = []
    for key, sense, bound, what in GOALS:
        value = report[key]
        if (value < bound) if sense == ">=" else (value > bound):
            missed.append(f"{what}: {key} = {value:.3g}")
    return missed


def timed(function, repeats: int = 3):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        out = function()
        best = min(best, time.perf_counter() - start)
    return best, out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sample", type=int, default=150, help="grid starts timed for the reference"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        sys.exit(
            f"skipped: {DATA} not found (the shared data sets are needed for this benchmark)"
        )
    runs = load_runs()
    law = sl.get_law("chinchilla")
    problem = Problem(
        law,
        {"N": runs.array("N"), "D": runs.array("D")},
        runs.array("loss"),
        get_objective("huber"),
        np.ones(len(runs)),
    )

    fit_seconds, result = timed(lambda: sl.fit(law, runs, bootstrap=0))
    grid = law.start_grid()
    sample = grid[np.linspace(0, len(grid) - 1, args.sample).round().astype(int)]
    start = time.perf_counter()
    fits = [reference_fit(problem, theta) for theta in sample]
    per_start = (time.perf_counter() - start) / len(sample)
    reference_best = min(f.fun for f in fits if np.isfinite(f.fun))
    boot_seconds, booted = timed(
        lambda: sl.fit(law, runs, bootstrap=1000, seed=0, extrapolation=None), repeats=1
    )
    cpu_start = time.process_time()
    default_seconds, _ = timed(lambda: sl.fit(law, runs, seed=0), repeats=1)
    default_cpu = time.process_time() - cpu_start
    cli_fit, cli_fit_cpu = cli_fit_seconds(runs)
    help_seconds, help_cpu = cli_seconds(["--help"])
    bare_seconds, bare_cpu = cli_seconds([])

    report = {
        "load_average": os.getloadavg()[0],
        "scalinglab_fit_seconds": fit_seconds,
        "scalinglab_objective": result.objective,
        "reference_seconds_per_start": per_start,
        "reference_full_grid_seconds": per_start * len(grid),
        "reference_best_objective_in_sample": reference_best,
        "objective_above_reference": result.objective / reference_best - 1.0,
        "speedup_vs_reference": per_start * len(grid) / fit_seconds,
        "bootstrap_1000_seconds": boot_seconds - fit_seconds,
        "fit_with_bootstrap_1000_seconds": boot_seconds,
        "default_fit_with_bootstrap_and_extrapolation_seconds": default_seconds,
        "default_fit_cpu_seconds": default_cpu,
        "extrapolation_estimate_seconds": default_seconds - boot_seconds,
        "cli_fit_bootstrap_0_seconds": cli_fit,
        "cli_fit_bootstrap_0_cpu_seconds": cli_fit_cpu,
        "cli_speedup_vs_reference": per_start * len(grid) / cli_fit,
        "cli_help_seconds": help_seconds,
        "cli_help_cpu_seconds": help_cpu,
        "bare_interpreter_seconds": bare_seconds,
        "bare_interpreter_cpu_seconds": bare_cpu,
        "params": result.params,
        "ci95": booted.conf_int(),
    }
    report["goals_missed"] = missed_goals(report)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"load average {report['load_average']:.2f} (2 cores)")
        print(
            f"scalinglab default fit (4,500 starts screened, 16 refined): {fit_seconds:.3f} s, "
            f"objective {result.objective:.9g}"
        )
        print(
            f"reference L-BFGS-B: {per_start * 1e3:.1f} ms/start x {len(grid)} starts = "
            f"{report['reference_full_grid_seconds']:.1f} s; best objective in a {args.sample}-start "
            f"sample {reference_best:.9g}"
        )
        print(f"speed-up: {report['speedup_vs_reference']:.0f}x")
        print(f"1,000 bootstrap replicates: {report['bootstrap_1000_seconds']:.2f} s")
        print(
            f"the full default fit (fit, 1,000 replicates, rolling-origin extrapolation error): "
            f"{default_seconds:.2f} s, {default_cpu:.2f} s CPU (extrapolation error "
            f"{report['extrapolation_estimate_seconds']:.2f} s)"
        )
        print(
            f"CLI `scalinglab fit --bootstrap 0` (subprocess, start-up included): {cli_fit:.2f} s "
            f"({cli_fit_cpu:.2f} s CPU), {report['cli_speedup_vs_reference']:.0f}x faster than the "
            "reference grid"
        )
        print(
            f"CLI `scalinglab --help` (subprocess): {help_seconds:.2f} s ({help_cpu:.2f} s CPU); "
            f"a bare `python -c pass` {bare_seconds:.2f} s ({bare_cpu:.2f} s CPU)"
        )
    return report


if __name__ == "__main__":
    sys.exit(1 if main()["goals_missed"] else 0)
