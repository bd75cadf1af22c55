"""``--law auto`` on the shared ladders, the largest compute held out (issue 12's goal).

For each ladder (epoch_chinchilla, olmo_ladder, gadre_overtraining per corpus,
loss_to_loss per corpus) the largest 20% of rows by compute are held out
(``--top``). Auto chooses a law by rolling-origin extrapolation on the other rows
(and --average weights the candidates by inverse median held-out error); then
every candidate law is fitted on those rows and scored on the held-out ones
(median |rel error|). Goals: auto's median held-out error over the ladders
within 10% relative of the best single law's chosen in hindsight per ladder,
and better than the default ``chinchilla`` on most ladders.

    python benchmarks/bench_autolaw.py [--json] [--data ../shared/data] [--top 0.2]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from scalinglab.analysis.autolaw import check_choice
from scalinglab.data import read_runs

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TOP = 0.2


def ladders(data: Path = DATA) -> dict:
    """The shared ladders as run tables, one per corpus where a ladder has several."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = {
            "epoch_chinchilla": read_runs(
                data / "epoch_chinchilla" / "svg_extracted_data.csv",
                N="Model Size",
                C="Training FLOP",
                loss="loss",
            ),
            "olmo_ladder": read_runs(
                data / "olmo_ladder" / "ladder_final_summary.csv",
                N="n_nonembed",
                D="tokens",
                loss="loss_c4_en",
                run="run",
            ),
        }
        gadre = read_runs(
            data / "gadre_overtraining" / "gadre_models.csv",
            N="params",
            D="tokens",
            loss="loss_c4_val",
            run="name",
        )
        sweep = read_runs(
            data / "loss_to_loss" / "sweep.csv",
            N="params",
            D="tokens",
            C="iso_flop",
            loss="val_loss",
            run="name",
        )
    for corpus in ("rpj", "c4_original", "rw_original"):
        cases[f"gadre_{corpus}"] = gadre.query(f"dataset == '{corpus}'")
    for corpus in sorted(set(sweep.frame["data"])):
        cases[f"loss_to_loss_{corpus}"] = sweep.query(f"data == '{corpus}'")
    return cases


def run(data: Path = DATA, top: float = TOP) -> dict:
    """Per ladder: auto's choice and error, the hindsight best, chinchilla's error."""
    rows = {}
    for name, runs in ladders(data).items():
        started = time.perf_counter()
        check = check_choice(runs, top=top)
        rows[name] = check.to_dict() | {"seconds": time.perf_counter() - started}
    auto = np.median([r["auto_error"] for r in rows.values()])
    average = np.median([r["average_error"] for r in rows.values()])
    best = np.median([r["best_error"] for r in rows.values()])
    chinchilla = np.median([r["errors"]["chinchilla"] for r in rows.values()])
    single = {
        law: float(np.median([r["errors"][law] for r in rows.values()]))
        for law in next(iter(rows.values()))["errors"]
    }

    def beats(key: str, strictly: bool = False) -> str:
        chinchilla = [r["errors"]["chinchilla"] for r in rows.values()]
        ours = [r[key] for r in rows.values()]
        wins = sum(o < c if strictly else o <= c for o, c in zip(ours, chinchilla))
        return f"{wins}/{len(rows)}"

    return {
        "ladders": rows,
        "median_auto_error": float(auto),
        "median_average_error": float(average),
        "median_best_error": float(best),
        "median_chinchilla_error": float(chinchilla),
        "median_error_per_law": single,
        "auto_vs_best": float(auto / best - 1.0),
        "average_vs_best": float(average / best - 1.0),
        "auto_at_least_as_good_as_chinchilla": beats("auto_error"),
        "auto_better_than_chinchilla": beats("auto_error", strictly=True),
        "average_at_least_as_good_as_chinchilla": beats("average_error"),
        "average_better_than_chinchilla": beats("average_error", strictly=True),
    }


def _table(result: dict) -> str:
    lines = [
        (
            "| ladder | ranked first (confidence) | auto chose | auto error | --average "
            "| best in hindsight | its error | chinchilla |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["ladders"].items():
        confidence = "" if r["confidence"] is None else f" ({r['confidence']:.0%})"
        lines.append(
            f"| {name} | {r['ranked_first']}{confidence} | {r['chosen']} | "
            f"{r['auto_error']:.2%} | "
            f"{r['average_error']:.2%} | {r['best']} | {r['best_error']:.2%} | "
            f"{r['errors']['chinchilla']:.2%} |"
        )
    lines.append(
        f"| **median** | | | {result['median_auto_error']:.2%} | "
        f"{result['median_average_error']:.2%} | | {result['median_best_error']:.2%} | "
        f"{result['median_chinchilla_error']:.2%} |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--data", type=Path, default=DATA, help="shared/data folder")
    parser.add_argument(
        "--top", type=float, default=TOP, help="share of rows held out, by compute"
    )
    args = parser.parse_args()
    result = run(args.data, args.top)
    if args.json:
        print(json.dumps(result, indent=2, default=float))
        return
    print(_table(result))
    print(
        f"auto vs best in hindsight: {result['auto_vs_best']:+.1%}, --average "
        f"{result['average_vs_best']:+.1%} (goal <= +10%); better than chinchilla "
        f"on {result['auto_better_than_chinchilla']} (auto), "
        f"{result['average_better_than_chinchilla']} (--average) ladders, at least "
        f"as good on {result['auto_at_least_as_good_as_chinchilla']} (auto), "
        f"{result['average_at_least_as_good_as_chinchilla']} (--average)"
    )


if __name__ == "__main__":
    main()
