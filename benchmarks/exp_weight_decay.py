"""A real weight-decay sweep on this CPU, fitted with the Power Lines timescale law.

Run ``python benchmarks/exp_weight_decay.py`` (measured: 51 min of wall time at load
averages 13-22 on 2 shared cores).
It plans an AdamW weight-decay grid at two model sizes and three token budgets
(``scalinglab.plan.sweep``; the learning rate and batch size are Step Law's times
0.3, as in the demo), trains every run with the built-in trainer through
``scalinglab run``, and fits the optimal AdamW timescale
``tau = B / (lr * wd * D)`` as a power law in tokens per parameter with
``scalinglab hparams fit STUDY --wd weight_decay --json``. The result (every run's
final held-out loss, the fitted ``wd_law`` with intervals, wall time) is written to
``benchmarks/exp_weight_decay.json``; docs/hparams.md quotes it.
``--quick`` runs the reduced version the slow test guards (one size, two budgets,
four weight decays).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# "wd_beyond": weight decays added past the log grid; 10 was added after the first
# pass (0.03..3) found the best weight decay at its edge (3) on 3 of the 6 lines.
FULL = {
    "N": (2e4, 6e4),
    "tpp": (4.0, 8.0, 16.0),
    "wd": "0.03..3:5",
    "wd_beyond": (10.0,),
}
QUICK = {"N": (1e4,), "tpp": (4.0, 16.0), "wd": "0.03..3:4", "wd_beyond": ()}
LR_SCALE = 0.3  # Step Law's lr overshoots on models this small (see run/demo.py)


def plan_sweep(design: dict, seed: int, path: Path) -> dict:
    """Write the sweep's plan to ``path``; return its total training FLOPs and run count."""
    from scalinglab.plan import Grid, parse_grid, save_plan, sweep

    plan = sweep(
        design["N"],
        tokens_per_param=design["tpp"],
        lr=Grid((1.0,), relative=True),
        weight_decay=Grid(parse_grid(design["wd"], "wd").values + design["wd_beyond"]),
        lr_scale=LR_SCALE,
        evals_per_run=1,  # one held-out evaluation, at the end
        seed=seed,
    )
    save_plan(plan, path)
    return {"runs": len(plan.runs), "C_exact_total": plan.settings["total_C_exact"]}


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``scalinglab ARGS``; with ``check``, exit with its message on failure."""
    done = subprocess.run(
        [sys.executable, "-m", "scalinglab", *args],
        check=False,
        capture_output=True,
        text=True,
    )
    if check and done.returncode:
        sys.exit(f"scalinglab {' '.join(args)} failed:\n{done.stderr}")
    return done


def export_runs(study: Path) -> list[dict]:
    """``scalinglab export STUDY`` as a list of rows (the columns that matter here)."""
    import csv

    table = study.with_suffix(".runs.csv")
    cli("export", str(study), "-o", str(table))
    keep = ("run", "N", "D", "C", "loss", "lr", "batch_tokens", "weight_decay")
    with table.open() as handle:
        return [{k: row[k] for k in keep if k in row} for row in csv.DictReader(handle)]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--study", type=Path, default=Path("build/exp-weight-decay"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=HERE / "exp_weight_decay.json")
    args = parser.parse_args(argv)

    from exp_cooldown import study_seconds  # beside this script

    design = QUICK if args.quick else FULL
    args.study.parent.mkdir(parents=True, exist_ok=True)
    plan_path = args.study.with_suffix(".plan.json")
    cost = plan_sweep(design, args.seed, plan_path)
    cli(
        "run",
        str(plan_path),
        "--study",
        str(args.study),
        "--workers",
        str(args.workers),
        "--threads",
        "1",
        "--json",
    )
    runs = export_runs(args.study)
    fit = cli(
        "hparams", "fit", str(args.study), "--wd", "weight_decay", "--json", check=False
    )
    result = {
        "command": "python benchmarks/exp_weight_decay.py"
        + (" --quick" if args.quick else "")
        + f" --seed {args.seed}",
        "design": {**design, "lr_scale": LR_SCALE, "seed": args.seed},
        **cost,
        "train_seconds": study_seconds(args.study),
        # the fit's JSON, or its message when it refuses (e.g. no bracketed optimum)
        "wd_law": json.loads(fit.stdout)["wd_law"] if not fit.returncode else None,
        "wd_law_error": fit.stderr.strip() if fit.returncode else None,
        "runs": runs,
    }
    args.output.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["wd_law"] or result["wd_law_error"], indent=1))
    return result


if __name__ == "__main__":
    main()
