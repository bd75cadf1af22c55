"""``hparams fit``, ``hparams suggest`` and ``critical-batch``: LR and batch-size laws."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich.console import Console

from ..errors import InputError, ScalinglabError
from ._app import app, sub_app
from ._common import print_json, save_plot
from ._options import JsonOpt

console = Console()
hparams_app = sub_app("hparams")


def _columns(path: Path, names: dict[str, str]) -> dict[str, np.ndarray]:
    """Numeric columns of a table, by the user's names (errors name file, column and rows)."""
    import pandas as pd

    from ..io import read_table

    raw = _study_table(path) if Path(path).is_dir() else read_table(path)
    out = {}
    for role, column in names.items():
        if column not in raw.frame.columns:
            raise InputError(
                f"no column {column!r} (for {role}); the columns are "
                f"{', '.join(map(str, raw.frame.columns))}. Map it with --{role} COLUMN.",
                source=str(path),
            )
        values = pd.to_numeric(raw.frame[column], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(raw.frame[column].notna().to_numpy() & np.isnan(values))
        if bad.size:
            raise InputError(
                "holds values that are not numbers.",
                source=str(path),
                column=column,
                rows=raw.row_numbers[bad].tolist(),
            )
        out[role] = values
    return out


def _study_table(path: Path):
    """A study folder's finished runs as a table (``scalinglab export``'s run table)."""
    from ..io.readers import RawTable
    from ..run.export import run_table
    from ..run.store import DB_NAME

    if not (path / DB_NAME).is_file():
        raise InputError(
            f"a folder but not a study (no {DB_NAME}); pass a sweep table or a folder "
            "made by `scalinglab run`.",
            source=str(path),
        )
    frame = run_table(path)
    if frame.empty:
        raise InputError(
            f"no finished runs yet; see `scalinglab status {path}`.", source=str(path)
        )
    return RawTable(
        frame, np.arange(1, len(frame) + 1), "finished runs of the study", str(path)
    )


@hparams_app.command("fit")
def fit_cmd(
    sweep: Path = typer.Argument(
        ...,
        help="Sweep table (one row per run) or a study folder made "
        "by `scalinglab run`.",
        show_default=False,
    ),
    N: str = typer.Option("N", "--N", help="Column with parameters."),
    D: str = typer.Option("D", "--D", help="Column with training tokens."),
    lr: str = typer.Option("lr", "--lr", help="Column with the peak learning rate."),
    bs: Optional[str] = typer.Option(
        None,
        "--bs",
        help="Column with the batch size "
        "[default: bs; batch_tokens for a study folder].",
    ),
    loss: str = typer.Option(
        "loss", "--loss", help="Column with the final (smoothed) loss."
    ),
    wd: Optional[str] = typer.Option(
        None,
        "--wd",
        help="Column with the weight decay: adds "
        "wd_law, the optimal AdamW timescale vs D/N (Power Lines).",
    ),
    seq_len: int = typer.Option(
        1,
        "--seq-len",
        help="Tokens per batch-size unit (2048 if --bs "
        "counts sequences of 2048 tokens; 1 if it counts tokens).",
    ),
    method: str = typer.Option(
        "band",
        help="band (Step Law: runs within --threshold of the cell "
        "best) or quadratic (smooth local optimum per cell).",
    ),
    threshold: float = typer.Option(
        0.0025, help="Band width relative to the cell's best loss."
    ),
    fit_band: float = typer.Option(
        0.02, help="Quadratic: runs within this of the best are fitted."
    ),
    resample: str = typer.Option(
        "cells",
        help="Band bootstrap: cells (calibrated) or runs "
        "(Step Law's code: kept runs pooled; conservative).",
    ),
    lr_inputs: str = typer.Option("N,D", help="Inputs of the LR law (N, D, C)."),
    bs_inputs: str = typer.Option("D", help="Inputs of the batch-size law (N, D, C)."),
    bootstrap: int = typer.Option(1000, help="Bootstrap replicates; 0 skips."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    output: Optional[Path] = typer.Option(
        None, "-o", "--output", help="Save the fit (JSON) here."
    ),
    plot: Optional[Path] = typer.Option(
        None, "--plot", help="LR x batch landscape of the largest cell."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Fit lr_opt(N, D) and B_opt(D) (and with --wd the AdamW timescale) power laws to a sweep.

    Example: scalinglab hparams fit dense_lr_bs_loss.csv --loss "smooth loss" --seq-len 2048
    """
    from ..analysis.hparams import fit_hparams

    bs = bs or ("batch_tokens" if sweep.is_dir() else "bs")
    cols = _columns(
        sweep, dict(N=N, D=D, lr=lr, bs=bs, loss=loss) | ({"wd": wd} if wd else {})
    )
    result = fit_hparams(
        cols["N"],
        cols["D"],
        cols["lr"],
        cols["bs"] * seq_len,
        cols["loss"],
        method=method,
        threshold=threshold,
        fit_band=fit_band,
        resample=resample,
        bootstrap=bootstrap,
        seed=seed,
        lr_inputs=_names(lr_inputs),
        bs_inputs=_names(bs_inputs),
        wd=cols.get("wd"),
    )
    if output is not None:
        result.save(output)
    if plot is not None:
        from ..plot.hparams import landscape_figure

        figure = landscape_figure(
            cols["N"], cols["D"], cols["lr"], cols["bs"] * seq_len, cols["loss"], result
        )
        save_plot(figure, plot)
    if as_json:
        payload = result.to_dict()
        for key in ("lr_law", "bs_law", "wd_law"):
            payload.get(key, {}).pop("draws", None)
        print_json(payload | {"saved": str(output) if output else None})
        return
    for law in (result.lr_law, result.bs_law, result.wd_law):
        if law is None:
            continue
        ci = "  ".join(f"{k} [{lo:.4g}, {hi:.4g}]" for k, (lo, hi) in law.ci95.items())
        console.print(f"{law.formula()}   95% CI: {ci}")
    console.print(f"{len(result.cells)} (N, D) cells, method {result.method}")
    for d in result.diagnostics:
        console.print(f"[yellow]{d.message}[/yellow]")


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


@hparams_app.command("suggest")
def suggest_cmd(
    N: str = typer.Option(..., "--N", help="Parameters, e.g. 1e9 or 1B."),
    D: str = typer.Option(..., "--D", help="Training tokens, e.g. 2e10."),
    fit_file: Optional[Path] = typer.Option(
        None, "--fit", help="A fit saved with `hparams fit -o`."
    ),
    preset: Optional[str] = typer.Option(None, "--preset", help="steplaw or deepseek."),
    lr: Optional[float] = typer.Option(
        None,
        "--lr",
        help="Use this learning rate (--fit with a "
        "weight-decay law: the weight decay is chosen for it).",
    ),
    batch: Optional[float] = typer.Option(
        None, "--batch", help="Use this batch size in tokens (as --lr)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Suggest a peak learning rate, a batch size (tokens) and, from a fit with a weight-decay
    law, the AdamW weight decay for N and D.

    Example: scalinglab hparams suggest --N 1e9 --D 2e10 --preset steplaw
    """
    from ..units import parse_quantity

    n, d = parse_quantity(N, name="--N"), parse_quantity(D, name="--D")
    suggestion = _suggest(n, d, fit_file, preset, lr, batch)
    if as_json:
        print_json({"N": n, "D": d} | suggestion.to_dict())
        return
    lr_ci = (
        f" [{suggestion.lr_ci[0]:.3g}, {suggestion.lr_ci[1]:.3g}]"
        if suggestion.lr_ci
        else ""
    )
    bs_ci = (
        f" [{suggestion.batch_tokens_ci[0]:.4g}, {suggestion.batch_tokens_ci[1]:.4g}]"
        if suggestion.batch_tokens_ci
        else ""
    )
    console.print(
        f"lr {suggestion.lr:.4g}{lr_ci}, batch {suggestion.batch_tokens:.4g} tokens"
        f"{bs_ci}  ({suggestion.source})"
    )
    if suggestion.weight_decay is not None:
        wd_ci = suggestion.weight_decay_ci
        band = f" [{wd_ci[0]:.3g}, {wd_ci[1]:.3g}]" if wd_ci else ""
        console.print(
            f"weight decay {suggestion.weight_decay:.4g}{band} (AdamW timescale tau "
            f"{suggestion.tau:.4g} of the run)"
        )
    for note in suggestion.notes:
        console.print(f"[yellow]{note}[/yellow]")


def _suggest(
    n: float,
    d: float,
    fit_file: Optional[Path],
    preset: Optional[str],
    lr: Optional[float],
    batch: Optional[float],
):
    if (fit_file is None) == (preset is None):
        raise ScalinglabError(
            "give exactly one of --fit FILE or --preset NAME (steplaw, deepseek)."
        )
    if preset is not None:
        if lr is not None or batch is not None:
            raise ScalinglabError(
                "--lr and --batch go with --fit (a fit with a weight-decay law); "
                "presets have no weight decay to choose."
            )
        from ..analysis.hparams_presets import suggest_hparams

        return suggest_hparams(n, d, preset=preset)
    from ..analysis.hparams import load_hparam_fit

    return load_hparam_fit(fit_file).suggest(n, d, lr=lr, batch_tokens=batch)


@app.command("critical-batch")
def critical_batch_cmd(
    data: Path = typer.Argument(
        ...,
        help="Rows of (batch size, steps to target[, target]) or "
        "whole curves (batch size, step, loss) with --targets.",
        show_default=False,
    ),
    bs: str = typer.Option("bs", "--bs", help="Column with the batch size."),
    steps: str = typer.Option(
        "steps",
        "--steps",
        help="Column with steps (to the target, or the logged step of a curve).",
    ),
    target: Optional[str] = typer.Option(
        None, "--target", help="Column with the target loss."
    ),
    loss: Optional[str] = typer.Option(
        None, "--loss", help="Curves: column with the loss."
    ),
    targets: Optional[str] = typer.Option(
        None, "--targets", help="Curves: target losses, e.g. 3.2,3.1."
    ),
    noise_scale: Optional[str] = typer.Option(
        None,
        "--noise-scale",
        help="Curves: column with the logged gradient noise scale (the trainer's "
        "noise_scale, in tokens: use a batch column in tokens); shown beside B_crit.",
    ),
    bootstrap: int = typer.Option(1000, help="Bootstrap replicates; 0 skips."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    as_json: bool = JsonOpt,
) -> None:
    """Critical batch size from the steps/examples trade-off (McCandlish et al. 2018).

    Example: scalinglab critical-batch curves.csv --bs batch --steps step --loss loss --targets 3.3,3.2,3.1
    """
    from ..analysis.critical_batch import fit_critical_batch

    batch, needed, goal = _critical_rows(data, bs, steps, target, loss, targets)
    result = fit_critical_batch(batch, needed, goal, bootstrap=bootstrap, seed=seed)
    noise = _noise_by_target(data, bs, steps, loss, noise_scale, np.unique(goal))
    if as_json:
        print_json(result.to_dict() | ({"noise_scale": noise} if noise else {}))
        return
    for t in result.tradeoffs:
        _print_tradeoff(t, noise.get(t.target) if noise else None)
    for law in (result.vs_loss, result.vs_tokens):
        if law is not None:
            console.print(law.formula())


def _print_tradeoff(t, noise: dict | None) -> None:
    ci = t.ci95.get("B_crit")
    band = f" [{ci[0]:.4g}, {ci[1]:.4g}]" if ci else ""
    console.print(
        f"target {t.target}: B_crit {t.B_crit:.4g}{band}, S_min {t.S_min:.4g}, "
        f"E_min {t.E_min:.4g} ({t.n_batch_sizes} batch sizes)"
    )
    if t.dropped:
        console.print(
            f"  {t.dropped} of {t.draws.size} bootstrap refits left out of the interval: "
            "S_min or E_min <= 0 (no trade-off in that resample)"
        )
    if noise is not None:
        console.print(
            f"  gradient noise scale B_simple where runs reach it: median "
            f"{noise['median']:.4g} (range {noise['low']:.4g}-{noise['high']:.4g}, "
            f"{noise['runs']} runs)"
        )


def _noise_by_target(data, bs, steps, loss, noise_scale, goals) -> dict | None:
    """``--noise-scale``: the logged noise scale where the runs reach each target."""
    if noise_scale is None:
        return None
    if loss is None:
        raise ScalinglabError(
            "--noise-scale reads whole curves: give --loss and --targets as well."
        )
    from ..analysis.critical_batch import noise_scale_by_target

    names = {"bs": bs, "steps": steps, "loss": loss, "noise-scale": noise_scale}
    cols = _columns(data, names)
    return noise_scale_by_target(
        cols["bs"], cols["steps"], cols["loss"], cols["noise-scale"], goals
    )


def _critical_rows(data, bs, steps, target, loss, targets):
    from ..analysis.critical_batch import steps_to_target
    from ._options import parse_quantities

    if loss is None:
        names = dict(bs=bs, steps=steps) | ({"target": target} if target else {})
        cols = _columns(data, names)
        return (
            cols["bs"],
            cols["steps"],
            cols.get("target", np.full(cols["bs"].size, np.nan)),
        )
    if targets is None:
        raise ScalinglabError(
            "with --loss (whole curves) give --targets, e.g. --targets 3.3,3.2,3.1."
        )
    cols = _columns(data, dict(bs=bs, steps=steps, loss=loss))
    goals = parse_quantities(targets, "--targets")
    rows = []
    for b in np.unique(cols["bs"]):
        run = cols["bs"] == b
        order = np.argsort(cols["steps"][run])
        for g in goals:
            rows.append(
                (
                    b,
                    steps_to_target(
                        cols["steps"][run][order], cols["loss"][run][order], g
                    ),
                    g,
                )
            )
    return tuple(np.array(v) for v in zip(*rows))
