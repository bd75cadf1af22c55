"""``mix fit`` (RegMix regression) and ``mix optimize`` (the data mixture that minimises
fitted mixing laws, Ye et al. 2024, or RegMix fits, Liu et al. 2024)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import InputError
from ._app import sub_app
from ._common import console, new_table, print_json
from ._options import JsonOpt, parse_bounds, parse_quantities

mix_app = sub_app("mix")

_METHOD = typer.Option(
    "linear",
    "--method",
    help="linear (least squares, the paper's baseline) or lightgbm (the paper's "
    "trees; needs pip install 'scalinglab[regmix]').",
)


@mix_app.command("fit")
def fit(
    data: Path = typer.Argument(..., help="Runs' mixtures (one row per run)."),
    domains: str = typer.Option(
        ...,
        "--domains",
        help='Proportion columns: a comma list, or a pattern such as "train_*".',
    ),
    loss: str = typer.Option(..., "--loss", help="Column with the target loss."),
    losses: Optional[Path] = typer.Option(
        None, "--losses", help="Losses in another file, joined on --on."
    ),
    on: str = typer.Option("index", "--on", help="Column joining DATA and --losses."),
    method: str = _METHOD,
    test: Optional[Path] = typer.Option(
        None, "--test", help="Held-out runs (same columns): Spearman rank correlation."
    ),
    test_losses: Optional[Path] = typer.Option(
        None, "--test-losses", help="The held-out runs' losses, joined on --on."
    ),
    seed: int = typer.Option(0, help="Seed of the lightgbm fit."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Save here."),
    as_json: bool = JsonOpt,
) -> None:
    """RegMix: regress the target loss on small runs' domain proportions.

    Example: scalinglab mix fit train_mixture_1m.csv --losses train_pile_loss_1m.csv
    --domains "train_*" --loss metric/the_pile_pile_cc_val_loss -o regmix.json
    """
    from ..analysis.regmix import fit_regmix, rank_correlation

    names, shares, target = _read_mixtures(data, losses, on, domains, loss)
    found = fit_regmix(shares, target, method=method, target=loss, seed=seed)
    rho = None
    if test is not None:
        _, held, actual = _read_mixtures(test, test_losses, on, ",".join(names), loss)
        rho = rank_correlation(found, held, actual)
    if output is not None:
        found.save(output)
    _print_regmix(found, rho, as_json)


@mix_app.command("optimize")
def optimize(
    fits: list[Path] = typer.Option(
        ...,
        "--fit",
        help="A fitted mixing law of one target domain (fit --law mixing --domains "
        "a,b,c) or a RegMix fit (mix fit); repeat for several.",
    ),
    bound: Optional[list[str]] = typer.Option(
        None, "--bound", help="Bounds on a domain's share: NAME=LOW,HIGH (repeatable)."
    ),
    weights: Optional[str] = typer.Option(
        None,
        "--weights",
        help="Weight of each --fit's loss, e.g. 1,1,2 (default 1 each).",
    ),
    seed: int = typer.Option(0, help="Seed of the candidate draw (lightgbm fits)."),
    as_json: bool = JsonOpt,
) -> None:
    """Minimise the weighted sum of the fitted losses over the domain proportions.

    Example: scalinglab mix optimize --fit prose.json --fit code.json --bound r1=0.1,0.6
    """
    from ..analysis.mixture import load_mixture_fit, optimize_mixture

    found = optimize_mixture(
        [load_mixture_fit(f) for f in fits],
        bounds=parse_bounds(bound),
        weights=None if weights is None else parse_quantities(weights, "--weights"),
        seed=seed,
    )
    if as_json:
        print_json(found.to_dict())
        return
    table = new_table(
        f"best mixture: weighted loss {found.loss:.4f}", ["domain", "share", "bounds"]
    )
    for domain, share in found.proportions.items():
        low, high = found.bounds[domain]
        table.add_row(domain, f"{share:.4f}", f"[{low:g}, {high:g}]")
    console().print(table)
    for path, loss in zip(fits, found.losses):
        console().print(f"{path}: predicted loss {loss:.4f}")


def _read_mixtures(data: Path, losses: Path | None, on: str, domains: str, loss: str):
    """Domain names, {domain: shares} and the target loss from one file or two joined."""
    from fnmatch import fnmatchcase

    from ..io import read_table

    frame = read_table(data).frame
    if losses is not None:
        other = read_table(losses).frame
        for path, table in ((data, frame), (losses, other)):
            _require_columns(path, table, [on])
        frame = frame.merge(other, on=on, suffixes=("", "_losses"))
    patterns = [d.strip() for d in domains.split(",")]
    names = [c for c in frame.columns if any(fnmatchcase(c, p) for p in patterns)]
    if "*" not in domains:
        _require_columns(data, frame, patterns)
        names = patterns
    _require_columns(losses or data, frame, [loss])
    if not names:
        raise InputError(f"no column matches --domains {domains!r}.", source=str(data))
    return (
        names,
        {n: frame[n].to_numpy(float) for n in names},
        frame[loss].to_numpy(float),
    )


def _require_columns(path: Path, frame, names: list[str]) -> None:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        shown = ", ".join(map(str, list(frame.columns)[:40]))
        raise InputError(
            f"no column {', '.join(map(repr, missing))}; the columns are {shown}.",
            source=str(path),
        )


def _print_regmix(found, rho: float | None, as_json: bool) -> None:
    if as_json:
        payload = {k: v for k, v in found.to_dict().items() if k != "model"}
        print_json(payload | {"rank_correlation": rho})
        return
    title = f"RegMix ({found.method}) of {found.target} on {found.n_train} runs"
    table = new_table(title, ["domain", "weight"])
    for domain, weight in zip(found.domains, found.coef or [None] * len(found.domains)):
        table.add_row(domain, "-" if weight is None else f"{weight:.4f}")
    console().print(table)
    if rho is not None:
        console().print(f"held-out Spearman rank correlation: {rho:.4f}")
