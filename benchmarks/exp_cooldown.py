"""Cooldown-branch ladder against a from-scratch ladder, both predicting a held-out larger run.

Run ``python benchmarks/exp_cooldown.py`` (measured: 30-39 min of wall time per study,
three studies, at load averages 13-22 on 2 shared cores).
Three studies, trained on this CPU with the built-in trainer:

- *branches*: 4 sizes x 3 horizons (4, 8, 16 tokens per parameter) as WSD cooldown
  branches (20% linear cooldown), 3 per size, each started from one constant-LR trunk
  per size (``ladder(..., schedule="wsd", cooldowns=(0.2,))``);
- *scratch*: the same 12 (N, D) rungs, each trained from scratch with a cosine
  schedule (the usual ladder);
- *held-out*: one larger model (about 2x the largest N, 8 tokens per parameter),
  trained once from scratch with a cosine schedule.

The Chinchilla law is fitted to each ladder (1,000 run-bootstrap replicates) and
predicts the held-out run's final held-out loss with a 95% prediction interval.
Compute is what the store recorded: each run's training FLOPs from its first to its
last metric row (a branch's rows start after its trunk step), trunks included.
The result goes to ``benchmarks/exp_cooldown.json``; docs/hparams.md quotes it.
``--quick`` runs the reduced version the slow test guards: 2 sizes x 2 horizons,
branches and scratch only (no held-out run, no fits).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
FULL = {"N": (2e4, 1e5), "sizes": 4, "tpp": (4.0, 8.0, 16.0), "held_out": (2e5, 8.0)}
QUICK = {"N": (1e4, 2e4), "sizes": 2, "tpp": (4.0, 8.0), "held_out": None}
LR_SCALE = 0.3  # Step Law's lr overshoots on models this small (see run/demo.py)
COOLDOWN = 0.2
LEVEL = 0.95


def plans(design: dict, seed: int) -> dict:
    """The plans ``branches``, ``scratch`` and (unless quick) ``held_out``."""
    from scalinglab.plan import ladder

    common = {"lr_scale": LR_SCALE, "evals_per_run": 1, "seed": seed}
    out = {
        "branches": ladder(
            design["N"],
            design["sizes"],
            design["tpp"],
            schedule="wsd",
            cooldowns=(COOLDOWN,),
            **common,
        ),
        "scratch": ladder(design["N"], design["sizes"], design["tpp"], **common),
    }
    if design["held_out"]:
        n_held, tpp_held = design["held_out"]
        out["held_out"] = ladder((n_held, n_held), 1, (tpp_held,), **common)
    return out


def study_seconds(study: Path) -> float:
    """Wall seconds from the study's first run start to its last run end (as stored,
    so a resumed study reports its original training time)."""
    from scalinglab.run.store import Study

    with Study.open(study) as store:
        runs = store.runs()
    return round(
        max(r["finished_at"] for r in runs) - min(r["started_at"] for r in runs), 1
    )


def executed_flops(study: Path) -> float:
    """Training FLOPs the store recorded, summed over runs: each run's FLOPs from its
    first to its last metric row (a branch starts after its trunk's snapshot)."""
    from scalinglab.run.export import curves_table

    total = 0.0
    for _, rows in curves_table(study).groupby("run"):
        first, last = rows["step"].min(), rows["step"].max()
        per_step = rows["flops"].max() / last
        total += per_step * (last - first + 1)
    return float(total)


def rungs(branches: Path, scratch: Path) -> list[dict]:
    """Each (N, D) rung's final loss as a cooldown branch and from scratch."""
    from scalinglab.run.export import run_table

    b = run_table(branches).sort_values(["N", "D"])
    s = run_table(scratch).sort_values(["N", "D"])
    return [
        {
            "N": float(n),
            "D_branch": float(db),
            "D_scratch": float(ds),
            "branch": float(lb),
            "scratch": float(ls),
            "difference": float(lb / ls - 1.0),
        }
        for n, db, ds, lb, ls in zip(b["N"], b["D"], s["D"], b["loss"], s["loss"])
    ]


def fit_and_predict(study: Path, held: dict, seed: int) -> dict:
    """Chinchilla fitted on the study's run table; its prediction of ``held``."""
    import numpy as np

    from scalinglab.fit import fit
    from scalinglab.run.export import run_table

    table = run_table(study)
    runs = {c: table[c].to_numpy(float) for c in ("N", "D", "loss")}
    result = fit("chinchilla", runs, bootstrap=1000, seed=seed)
    predicted = float(np.ravel(result.predict(N=held["N"], D=held["D"]))[0])
    low, high = (
        float(np.ravel(v)[0])
        for v in result.predict_interval(LEVEL, N=held["N"], D=held["D"])
    )
    return {
        "params": {k: float(v) for k, v in result.params.items()},
        "conf_int": {k: list(v) for k, v in result.conf_int(1 - LEVEL).items()},
        "diagnostics": [d.message for d in result.diagnostics],
        "predicted": predicted,
        "interval": [low, high],
        "error": (predicted - held["loss"]) / held["loss"],
        "covers": low <= held["loss"] <= high,
        "rows": table[["run", "N", "D", "loss"]].to_dict("records"),
    }


def main(argv: list[str] | None = None) -> dict:
    from scalinglab.run.export import run_table
    from scalinglab.run.sweep import run_study

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--study", type=Path, default=Path("build/exp-cooldown"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=HERE / "exp_cooldown.json")
    args = parser.parse_args(argv)

    design = QUICK if args.quick else FULL
    studies = {}
    planned = plans(design, args.seed)
    planned_ratio = planned["branches"].settings["compute_ratio"]
    for name, plan in planned.items():
        studies[name] = args.study / name
        report = run_study(
            plan, studies[name], workers=args.workers, threads=1, progress=False
        )
        if report.failed:
            raise SystemExit(f"{name}: runs failed: {report.failed}")
    flops = {name: executed_flops(path) for name, path in studies.items()}
    result = {
        "command": "python benchmarks/exp_cooldown.py"
        + (" --quick" if args.quick else "")
        + f" --seed {args.seed}",
        "design": {
            **design,
            "lr_scale": LR_SCALE,
            "cooldown": COOLDOWN,
            "seed": args.seed,
        },
        "flops": flops,
        "compute_ratio": flops["branches"] / flops["scratch"],
        "planned_compute_ratio": planned_ratio,
        "train_seconds": {name: study_seconds(path) for name, path in studies.items()},
        "rungs": rungs(studies["branches"], studies["scratch"]),
    }
    if "held_out" in studies:
        row = run_table(studies["held_out"]).iloc[0]
        held = {"run": row["run"], **{k: float(row[k]) for k in ("N", "D", "loss")}}
        result["held_out"] = held
        for name in ("branches", "scratch"):
            result[name] = fit_and_predict(studies[name], held, args.seed)
    args.output.write_text(json.dumps(result, indent=1, default=str) + "\n")
    summary = {k: result.get(k) for k in ("held_out", "compute_ratio", "rungs")}
    for name in ("branches", "scratch"):
        if name in result:
            keys = ("predicted", "interval", "error", "covers")
            summary[name] = {k: result[name][k] for k in keys}
    print(json.dumps(summary, indent=1))
    return result


if __name__ == "__main__":
    main()
