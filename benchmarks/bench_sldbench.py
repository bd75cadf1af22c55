"""SLDBench's early tasks: our laws on each task's extrapolation split beside its human law.

Runs ``scalinglab.bench.sldbench.run_sldbench`` (what ``scalinglab bench sldbench``
prints) on the shared data, prints the table and stores it as JSON next to this
script (``bench_sldbench.json``) with the time taken.

    python benchmarks/bench_sldbench.py [--data ../shared/data/sldbench_early] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from scalinglab.bench.sldbench import run_sldbench

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sldbench_early"
STORED = Path(__file__).with_name("bench_sldbench.json")


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(tasks: list[dict]) -> str:
    lines = [
        "| task | our law | R^2 | median rel err | human law | human R^2 |",
        "|---|---|---|---|---|---|",
    ]
    for t in tasks:
        lines.append(
            f"| {t['task']} | {t['law'] or '-'} | {_fmt(t['r2'], '.4f')} | "
            f"{_fmt(t['median_rel_error'], '.2%')} | {t['human_law']} | "
            f"{_fmt(t['human_r2'], '.4f')} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="sldbench_early folder")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    started = time.perf_counter()
    tasks = [t.to_dict() for t in run_sldbench(args.data)]
    result = {"tasks": tasks, "seconds": time.perf_counter() - started}
    STORED.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(json.dumps(result, indent=2, default=float) if args.json else table(tasks))


if __name__ == "__main__":
    main()
