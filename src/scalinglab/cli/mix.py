"""``mix optimize``: the data mixture that minimises fitted mixing laws (Ye et al. 2024)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._app import sub_app
from ._common import console, new_table, print_json
from ._options import JsonOpt, parse_bounds, parse_quantities

mix_app = sub_app("mix")


@mix_app.command("optimize")
def optimize(
    fits: list[Path] = typer.Option(
        ...,
        "--fit",
        help='A fitted mixing law of one target domain (fit --law "mixing(a,b,c)"); '
        "repeat for several.",
    ),
    bound: Optional[list[str]] = typer.Option(
        None, "--bound", help="Bounds on a domain's share: NAME=LOW,HIGH (repeatable)."
    ),
    weights: Optional[str] = typer.Option(
        None,
        "--weights",
        help="Weight of each --fit's loss, e.g. 1,1,2 (default 1 each).",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Minimise the weighted sum of the fitted losses over the domain proportions.

    Example: scalinglab mix optimize --fit prose.json --fit code.json --bound r1=0.1,0.6
    """
    from ..analysis.mixture import optimize_mixture
    from ..fit import load_fit

    found = optimize_mixture(
        [load_fit(f) for f in fits],
        bounds=parse_bounds(bound),
        weights=None if weights is None else parse_quantities(weights, "--weights"),
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
