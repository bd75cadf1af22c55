"""Time every Chinchilla approach, validation and comparison on the shared real data.

Run: ``python benchmarks/bench_analysis.py`` from the repository root (reads
``../shared/data`` or ``$SCALINGLAB_SHARED_DATA``). Prints one row per
(data set, analysis): wall time and the headline number with its interval.
"""

from __future__ import annotations

import glob
import os
import time
import warnings
from pathlib import Path

import pandas as pd

from scalinglab.analysis.chinchilla_approaches import chinchilla_approaches
from scalinglab.analysis.compare import compare
from scalinglab.analysis.envelope import envelope, usable_rows
from scalinglab.analysis.isoflop import isoflop
from scalinglab.analysis.validation import compare_laws, make_splits, validate
from scalinglab.data import read_runs

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SCALINGLAB_SHARED_DATA", ROOT.parent / "shared" / "data"))
OLMO_N = {
    "190M": 190354176,
    "370M": 371262464,
    "760M": 758220288,
    "1B": 1279395840,
    "3B": 3169537280,
}
ROWS: list[tuple[str, str, float, str]] = []


def timed(dataset: str, analysis: str, call, describe) -> None:
    start = time.perf_counter()
    try:
        out = call()
        text = describe(out)
    except (
        Exception
    ) as err:  # a benchmark row reports a failure instead of stopping the table
        text = f"FAILED: {type(err).__name__}: {str(err)[:90]}"
    ROWS.append((dataset, analysis, time.perf_counter() - start, text))


def ci(value, interval) -> str:
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def powers(r) -> str:
    return f"a={ci(r.a.exponent, r.a.ci95)} b={ci(r.b.exponent, r.b.ci95)}"


def val(v) -> str:
    s = v.summary
    return f"n={s.n_heldout} median|err|={s.median_abs_rel_error:.2%} coverage={s.coverage:.0%}"


def porian() -> None:
    points = pd.read_csv(DATA / "porian_resolving" / "isoflop_points.csv")
    keys = [
        "source_file",
        "dataset",
        "hparams",
        "warmup",
        "decay",
        "param_count",
        "loss_split",
    ]
    for key, g in points.groupby(keys):
        label = "/".join(key[1:])
        arrays = (
            g.n.to_numpy(),
            g.tokens.to_numpy(),
            g.flops.to_numpy(),
            g.loss.to_numpy(),
        )
        timed(
            f"porian {label}",
            "isoflop parabola w=10",
            lambda: isoflop(*arrays, window=10.0),
            powers,
        )
        timed(
            f"porian {label}",
            "isoflop cubic",
            lambda: isoflop(*arrays, profile="cubic"),
            powers,
        )


def loss_to_loss() -> None:
    frame = pd.read_csv(DATA / "loss_to_loss" / "sweep.csv")
    runs = read_runs(
        frame, N="params", D="tokens", C="iso_flop", loss="val_loss", run="id"
    )
    for corpus in sorted(frame.data.unique()):
        sub = runs.query(f"data == '{corpus}'")
        arrays = tuple(sub.array(k) for k in ("N", "D", "C", "loss"))
        timed(
            f"loss_to_loss {corpus}",
            "isoflop parabola",
            lambda: isoflop(*arrays, budget=arrays[2]),
            powers,
        )
        timed(
            f"loss_to_loss {corpus}",
            "chinchilla (3 approaches)",
            lambda: chinchilla_approaches(sub),
            lambda r: "; ".join(f"{e.name} a={e.a:.3f}" for e in r.estimates),
        )
    # Recipes = training corpora, all scored on the same C4 validation loss.
    c4 = read_runs(
        frame,
        N="params",
        D="tokens",
        C="iso_flop",
        loss="eval/c4_val/CrossEntropyLoss",
        run="id",
    )
    timed(
        "loss_to_loss all (C4 loss)",
        "compare --group data (vs fineweb-100b)",
        lambda: compare("chinchilla", c4, "data", "fineweb-100b", bootstrap=200),
        lambda r: "; ".join(
            f"{g.group} m={ci(g.multiplier, g.ci95)}" for g in r.groups
        ),
    )


def epoch() -> None:
    runs = read_runs(
        DATA / "epoch_chinchilla" / "svg_extracted_data.csv",
        N="Model Size",
        C="Training FLOP",
        loss="loss",
    )
    arrays = tuple(runs.array(k) for k in ("N", "D", "C", "loss"))
    timed("epoch_chinchilla", "isoflop parabola", lambda: isoflop(*arrays), powers)
    timed(
        "epoch_chinchilla",
        "envelope (final points)",
        lambda: envelope(*arrays, runs.frame["run"].to_numpy()),
        powers,
    )
    timed(
        "epoch_chinchilla",
        "chinchilla (3 approaches)",
        lambda: chinchilla_approaches(runs),
        lambda r: "; ".join(f"{e.name} a={ci(e.a, e.a_ci95)}" for e in r.estimates),
    )
    split = make_splits(runs, holdout="C >= 1e21")
    timed(
        "epoch_chinchilla",
        "validate chinchilla C>=1e21",
        lambda: validate("chinchilla", runs, split, bootstrap=200),
        val,
    )
    timed(
        "epoch_chinchilla",
        "validate ... --widen rolling",
        lambda: validate("chinchilla", runs, split, bootstrap=200, widen="rolling"),
        val,
    )
    timed(
        "epoch_chinchilla",
        "validate --rolling --by C",
        lambda: validate(
            "chinchilla", runs, make_splits(runs, rolling=True, by="C"), bootstrap=200
        ),
        val,
    )
    timed(
        "epoch_chinchilla",
        "compare-laws (4 laws)",
        lambda: compare_laws(
            ["chinchilla", "kaplan", "overtraining", "power"],
            runs,
            split,
            bootstrap=200,
        ),
        lambda r: ", ".join(f"{s.law} {s.median_abs_rel_error:.2%}" for s in r[0]),
    )


def gadre() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = read_runs(
            DATA / "gadre_overtraining" / "gadre_models.csv",
            N="params",
            D="tokens",
            loss="loss_c4_val",
            run="name",
        )
    for ds in ("c4_original", "rpj", "rw_original"):
        sub = runs.query(f"dataset == '{ds}'")
        split = make_splits(sub, holdout="N >= 4e8")
        for law in ("chinchilla", "overtraining"):
            timed(
                f"gadre {ds}",
                f"validate {law} N>=4e8",
                lambda: validate(law, sub, split, bootstrap=200),
                val,
            )
        timed(
            f"gadre {ds}",
            "envelope (final points)",
            lambda: envelope(
                *(sub.array(k) for k in ("N", "D", "C", "loss")),
                sub.frame["run"].to_numpy(),
            ),
            powers,
        )
    timed(
        "gadre all",
        "compare --group dataset (vs c4_original)",
        lambda: compare("chinchilla", runs, "dataset", "c4_original", bootstrap=200),
        lambda r: "; ".join(
            f"{g.group} m={ci(g.multiplier, g.ci95)}" for g in r.groups
        ),
    )


def olmo() -> None:
    runs = read_runs(
        DATA / "olmo_ladder" / "ladder_final_summary.csv",
        N="n_nonembed",
        D="tokens",
        loss="loss_c4_en",
        run="run",
    )
    split = make_splits(runs, holdout="N >= 3e9")
    for law in ("chinchilla", "overtraining"):
        timed(
            "olmo_ladder final",
            f"validate {law} N>=3e9",
            lambda: validate(law, runs, split, bootstrap=200),
            val,
        )
    curves = olmo_curves()
    timed(
        "olmo_ladder curves",
        "envelope --checkpoints final",
        lambda: envelope(
            *(curves.array(k) for k in ("N", "D", "C", "loss")),
            curves.frame["run"].to_numpy(),
            usable=usable_rows(curves, "final"),
        ),
        powers,
    )
    timed(
        "olmo_ladder curves",
        "validate chinchilla on finals, N>=3e9",
        lambda: validate(
            "chinchilla",
            curves.final(),
            make_splits(curves.final(), holdout="N >= 3e9"),
            bootstrap=200,
        ),
        val,
    )


def olmo_curves():
    frames = []
    for path in sorted(
        glob.glob(str(DATA / "olmo_ladder" / "data" / "ladder-runs" / "*.csv"))
    ):
        name = Path(path).stem
        frame = pd.read_csv(path)[
            [
                "_step",
                "throughput/total_tokens",
                "eval/c4_en-validation/CrossEntropyLoss",
            ]
        ]
        frame = frame.dropna().set_axis(["step", "D", "loss"], axis=1)
        frames.append(frame[frame.D > 0].assign(run=name, N=OLMO_N[name.split("-")[0]]))
    return read_runs(
        pd.concat(frames, ignore_index=True),
        N="N",
        D="D",
        loss="loss",
        run="run",
        step="step",
    )


def main() -> None:
    if not DATA.is_dir():
        raise SystemExit(f"shared data not found at {DATA}; set SCALINGLAB_SHARED_DATA")
    for section in (porian, loss_to_loss, epoch, gadre, olmo):
        section()
    width = max(len(r[0]) for r in ROWS)
    awidth = max(len(r[1]) for r in ROWS)
    print(f"{'data set':{width}}  {'analysis':{awidth}}  {'seconds':>7}  result")
    for dataset, analysis, seconds, text in ROWS:
        print(f"{dataset:{width}}  {analysis:{awidth}}  {seconds:7.2f}  {text}")
    print(
        f"\n{len(ROWS)} analyses, {sum(r[2] for r in ROWS):.1f} s in total, slowest {max(r[2] for r in ROWS):.2f} s"
    )


if __name__ == "__main__":
    main()
