"""scalinglab's default Chinchilla fit side by side with the ``chinchilla`` package.

Data: the Chinchilla replication's points (``epoch_chinchilla/svg_extracted_data.csv``
in ``../shared/data`` or ``$SCALINGLAB_SHARED_DATA``), the 240 lowest-loss rows
(the 5 highest losses dropped, as Besiroglu et al. 2024 do), N = "Model Size",
C = "Training FLOP", D = C / (6 N).

scalinglab runs in this process (``fit("chinchilla", runs, bootstrap=0)``). The peer,
``chinchilla`` 0.2.0 from PyPI (kyo-takano/chinchilla), is never imported here: it
runs in a subprocess of the interpreter given by ``--peer-python`` (a separate venv,
so the project does not depend on it), reading the points from a temporary CSV. It
fits with scipy BFGS (finite differences, 128-bit floats) from every point of a grid,
in a ``multiprocessing.Pool(os.cpu_count())``. Peer configurations:

- ``defaults``: its default objective (``asymmetric_mae``, w=10) with the grid of its
  README (it has no default grid).
- ``replication``: the replication's grid (log E in {-1, -0.5, ..., 1}, log A, log B
  in {0, 5, ..., 25}, alpha, beta in {0, 0.5, ..., 2}; 4,500 starts) and its own
  ``log_huber`` with delta = 1e-3. The package always *averages* the loss over points.
- ``replication-sum``: the same with the Huber terms *summed* (``loss_fn`` returns
  n times the per-point Huber, so the package's mean is the sum), as the replication.

Every parameter set is scored with scalinglab's summed log-Huber(1e-3) objective
(``fit.engine.objective_values`` with ``fit.objectives.get_objective("huber")``),
so "same optimum" is measured, not assumed.

Run: ``python benchmarks/bench_peers.py --peer-python /tmp/peer-venv/bin/python``
(``--json`` prints one JSON object). Install the peer with
``python -m venv /tmp/peer-venv && /tmp/peer-venv/bin/pip install chinchilla==0.2.0
numpy scipy pandas``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import scalinglab
from scalinglab.fit.engine import Problem, objective_values
from scalinglab.fit.objectives import get_objective
from scalinglab.laws import get_law

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SCALINGLAB_SHARED_DATA", ROOT.parent / "shared" / "data"))
CSV = DATA / "epoch_chinchilla" / "svg_extracted_data.csv"
KEEP = 240
NAMES = ("E", "A", "B", "alpha", "beta")
PEER_CONFIGS = ("defaults", "replication", "replication-sum")

# Runs inside the peer's interpreter: argv = project_dir config; prints one JSON line.
PEER_SCRIPT = r"""
import functools, json, os, sys, time
import numpy as np
project_dir, config = sys.argv[1], sys.argv[2]
try:
    import chinchilla
    from chinchilla import Chinchilla
    from chinchilla._metrics import asymmetric_mae, log_huber
    from importlib.metadata import version
except Exception as err:
    print(json.dumps({"error": f"import failed: {type(err).__name__}: {err}"}))
    sys.exit(0)

def summed_log_huber(y_true, y_pred):
    return log_huber(y_true, y_pred, delta=1e-3) * y_true.size

if config == "defaults":
    grid = dict(E=np.linspace(1, 2, 5), a=np.linspace(1, 10, 5),
                b=np.linspace(1, 10, 5), alpha=np.linspace(0.1, 0.7, 5),
                beta=np.linspace(0.1, 0.7, 5))
    loss_fn = asymmetric_mae
    loss_name = "asymmetric_mae(w=10), mean (package default)"
else:
    grid = dict(e=np.arange(-1.0, 1.01, 0.5), a=np.arange(0.0, 26.0, 5.0),
                b=np.arange(0.0, 26.0, 5.0), alpha=np.arange(0.0, 2.01, 0.5),
                beta=np.arange(0.0, 2.01, 0.5))
    if config == "replication":
        loss_fn = functools.partial(log_huber, delta=1e-3)
        loss_name = "log_huber(delta=1e-3), mean over points"
    else:
        loss_fn = summed_log_huber
        loss_name = "log_huber(delta=1e-3), summed (n * mean)"
cc = Chinchilla(project_dir, param_grid=grid, loss_fn=loss_fn, log_level=40)
cc.visualizer.optim = lambda *a, **k: None  # time the fit, not its plot
start = time.perf_counter()
cc.fit()
wall = time.perf_counter() - start
print(json.dumps({
    "config": config, "version": version("chinchilla"), "params": cc.get_params(),
    "wall_s": wall, "processes": os.cpu_count(),
    "starts": int(np.prod([len(v) for v in grid.values()])),
    "objective": loss_name, "optimizer": cc.algorithm + " (scipy, finite differences)",
    "n_points": int(len(cc.database.df)),
}))
"""


def load_points(path: Path = CSV, keep: int = KEEP) -> pd.DataFrame:
    """The ``keep`` lowest-loss rows of the replication data, with D = C / (6 N).

    Parameters
    ----------
    path : the replication CSV.
    keep : rows kept after sorting by loss (stable).

    Returns
    -------
    pandas.DataFrame with the original columns plus ``D``.
    """
    frame = pd.read_csv(path).sort_values("loss", kind="stable").head(keep)
    frame = frame.reset_index(drop=True)
    frame["D"] = frame["Training FLOP"] / (6.0 * frame["Model Size"])
    return frame


def load_now() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def huber_problem(frame: pd.DataFrame) -> Problem:
    """scalinglab's summed log-Huber(1e-3) problem, Chinchilla law, on ``frame``."""
    inputs = {
        "N": frame["Model Size"].to_numpy(float),
        "D": frame["D"].to_numpy(float),
    }
    target = frame["loss"].to_numpy(float)
    law, huber = get_law("chinchilla"), get_objective("huber")
    return Problem(law, inputs, target, huber, np.ones(target.size))


def score(problem: Problem, params: dict[str, float]) -> float:
    """Summed log-Huber(1e-3) of ``params`` by scalinglab's engine (inf: undefined)."""
    with np.errstate(all="ignore"):
        theta = problem.law.pack(params)
    if not np.all(np.isfinite(theta)):
        return float("inf")  # e.g. a negative E, outside the law's (log-space) domain
    return float(objective_values(problem, theta[None])[0])


def run_scalinglab(frame: pd.DataFrame, repeat: int) -> dict:
    """Fit with scalinglab's defaults ``repeat`` times here; keep the fastest."""
    runs = scalinglab.read_runs(
        frame, N="Model Size", C="Training FLOP", loss="loss"
    )
    walls, load_before = [], load_now()
    for _ in range(repeat):
        start = time.perf_counter()
        result = scalinglab.fit("chinchilla", runs, bootstrap=0)
        walls.append(time.perf_counter() - start)
    return {
        "name": "scalinglab",
        "config": "defaults (fit('chinchilla', runs, bootstrap=0))",
        "version": scalinglab.__version__,
        "objective": result.objective_spec.describe(),
        "optimizer": "screen the grid, Levenberg-Marquardt on the best "
        f"{result.settings['starts_refined']} (analytic Jacobian)",
        "starts": result.settings["starts_screened"],
        "processes": 1,
        "wall_s": min(walls),
        "wall_s_all": walls,
        "load_before": load_before,
        "load_after": load_now(),
        "params": dict(result.params),
        "own_objective": result.objective,
        "converged": result.converged,
    }


def run_peer(python: str, frame: pd.DataFrame, config: str, timeout: float) -> dict:
    """Fit with the ``chinchilla`` package in a subprocess of ``python``."""
    with tempfile.TemporaryDirectory(prefix="bench_peers_") as project:
        points = frame.rename(columns={"Model Size": "N", "Training FLOP": "C"})
        points[["C", "N", "D", "loss"]].to_csv(Path(project) / "df.csv", index=False)
        env = {**os.environ, "MPLBACKEND": "Agg"}
        exe = os.path.abspath(shutil.which(python) or python)  # cwd changes below
        load_before, start = load_now(), time.perf_counter()
        try:
            done = subprocess.run(
                [exe, "-c", PEER_SCRIPT, project, config],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                cwd=project,
            )
        except subprocess.TimeoutExpired:
            return _failed(config, f"timed out after {timeout:.0f} s")
        except OSError as err:
            return _failed(config, f"cannot start {python}: {err}")
        total = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return _failed(config, f"exit {done.returncode}: {' | '.join(tail)}")
    out = json.loads(lines[-1])
    if "error" in out:
        return _failed(config, out["error"])
    return {
        "name": "chinchilla",
        **out,
        "subprocess_wall_s": total,
        "load_before": load_before,
        "load_after": load_now(),
    }


def _failed(config: str, why: str) -> dict:
    return {"name": "chinchilla", "config": config, "error": why}


def add_scores(problem: Problem, rows: list[dict]) -> None:
    """Score every fitted row with scalinglab's objective, and its gap to the best."""
    for row in rows:
        if "params" in row:
            row["huber_sum"] = score(problem, row["params"])
    best = min((r["huber_sum"] for r in rows if "huber_sum" in r), default=np.inf)
    for row in rows:
        if "huber_sum" in row:
            row["huber_gap"] = row["huber_sum"] - best
            row["huber_ratio"] = row["huber_sum"] / best if best > 0 else float("nan")


def render(report: dict) -> str:
    """A plain-text table of the report."""
    head = (
        f"{'fitter':<28} {'wall s':>8} {'procs':>5} {'starts':>6} {'E':>7} {'A':>10} "
        f"{'B':>10} {'alpha':>7} {'beta':>7} {'sum log-Huber':>14} {'rel. excess':>11}"
    )
    lines = [head, "-" * len(head)]
    for row in report["rows"]:
        label = f"{row['name']} {row['config'].split(' ')[0]}"
        if "error" in row:
            lines.append(f"{label:<28} FAILED: {row['error']}")
            continue
        p = row["params"]
        lines.append(
            f"{label:<28} {row['wall_s']:>8.2f} {row['processes']:>5} "
            f"{row['starts']:>6} "
            f"{p['E']:>7.4f} {p['A']:>10.2f} {p['B']:>10.1f} {p['alpha']:>7.4f} "
            f"{p['beta']:>7.4f} {row['huber_sum']:>14.8f} {row['huber_ratio'] - 1:>11.2e}"
        )
    lines += ["", f"data: {report['data']}", f"machine: {report['machine']}"]
    for row in report["rows"]:
        if "error" not in row:
            lines.append(
                f"{row['name']} {row['config']}: {row['objective']}; "
                f"{row['optimizer']}; load {row['load_before']} -> {row['load_after']}"
            )
    lines += [f"note: {n}" for n in report["notes"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--peer-python", help="interpreter with chinchilla==0.2.0 installed")
    add(
        "--peer-configs",
        default=",".join(PEER_CONFIGS),
        help=f"comma-separated subset of {', '.join(PEER_CONFIGS)}",
    )
    add("--peer-timeout", type=float, default=1800.0, help="seconds per peer run")
    add("--repeat", type=int, default=3, help="scalinglab fits timed (fastest kept)")
    add("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if not CSV.is_file():
        print(f"skipped: {CSV} is absent (set SCALINGLAB_SHARED_DATA to shared/data).")
        return 0
    configs = [c for c in args.peer_configs.split(",") if c]
    unknown = sorted(set(configs) - set(PEER_CONFIGS))
    if unknown:
        known = ", ".join(PEER_CONFIGS)
        bad = ", ".join(unknown)
        parser.error(f"unknown --peer-configs {bad}; choose from {known}")
    frame = load_points()
    problem = huber_problem(frame)
    notes = [
        "scalinglab: fastest of --repeat fits, one process, in this interpreter; peer: "
        "one fit each, timed around cc.fit() inside its subprocess (interpreter start, "
        "imports and CSV reading excluded; subprocess_wall_s in --json includes them), "
        "with a multiprocessing pool of `procs` worker processes.",
        "sum log-Huber: scalinglab's objective (delta=1e-3 on log-loss residuals, "
        "summed over the 240 points) evaluated at each parameter set; 'rel. excess' is "
        "(value - lowest in the table) / lowest.",
    ]
    rows = [run_scalinglab(frame, max(1, args.repeat))]
    if args.peer_python is None:
        notes.append(
            "peer skipped: no --peer-python given (an interpreter with "
            "chinchilla==0.2.0 installed, e.g. /tmp/peer-venv/bin/python)."
        )
    else:
        for config in configs:
            row = run_peer(args.peer_python, frame, config, args.peer_timeout)
            if row.get("error", "").startswith(("import failed", "cannot start")):
                notes.append(f"peer skipped: {row['error']}")
                break
            rows.append(row)
    add_scores(problem, rows)
    total = len(pd.read_csv(CSV))
    report = {
        "data": f"{CSV} ({len(frame)} lowest-loss rows of {total}; D = C/(6N))",
        "machine": f"{os.cpu_count()} CPUs, load average (1, 5, 15 min) "
        f"{load_now()} at the end",
        "rows": rows,
        "notes": notes,
    }
    print(json.dumps(report) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
