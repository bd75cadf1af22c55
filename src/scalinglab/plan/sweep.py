"""Hyperparameter sweeps: learning rate x batch size (x weight decay) grids per model size.

:func:`sweep` plans, for every model size ``N`` and training length ``D``, one
run per point of a learning-rate grid times a batch-size grid (times a
weight-decay grid). A grid is absolute (``3e-4..3e-2:7``: seven log-spaced
values) or relative to the hyperparameter preset's suggestion for that size
(``0.25x..4x:5``), so one command centres the grid on the law at every size.

Every run of one (N, D) cell trains on exactly the same number of tokens, so
``scalinglab hparams fit`` sees one cell per (N, D): ``D`` is the target
rounded to a multiple of every batch size of the grid (their least common
multiple, in sequences). Relative batch sizes are rounded to powers of two of
sequences for that reason; absolute ones are used as given and a warning says
when their common multiple moves ``D`` far from the target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ScalinglabError
from .counts import count_params
from .design import (
    Plan,
    PlannedRun,
    _distinct_shapes,
    _human,
    _make_run,
    _plan,
    _settings,
)

__all__ = ["Grid", "parse_grid", "sweep"]

#: |D / D_target - 1| above which the common-multiple rounding of D is reported.
D_TOLERANCE = 0.05


@dataclass(frozen=True)
class Grid:
    """Values of one hyperparameter; ``relative``: multiples of the preset's suggestion."""

    values: tuple[float, ...]
    relative: bool = False

    def resolve(self, suggested: float) -> tuple[float, ...]:
        """The grid's values, multiplied by ``suggested`` when relative."""
        return (
            tuple(v * suggested for v in self.values) if self.relative else self.values
        )


def parse_grid(text: str, name: str) -> Grid:
    """``"3e-4..3e-2:7"`` (7 log-spaced values), ``"0.25x..4x:5"`` (relative),
    ``"16,64"`` or ``"1x"``: a :class:`Grid`.

    Examples
    --------
    >>> parse_grid("16..256:5", "--bs").values
    (16.0, 32.0, 64.0, 128.0, 256.0)
    """
    text = str(text).strip()
    relative = text.endswith("x") or "x.." in text or "x," in text
    plain = text.replace("x", "")
    try:
        if ".." in plain:
            span, _, count = plain.partition(":")
            low, high = (float(v) for v in span.split(".."))
            ok = low > 0 and high > 0
            values = np.geomspace(low, high, int(count or 5)) if ok else [low, high]
        else:
            values = [float(v) for v in plain.split(",") if v.strip()]
    except ValueError as error:
        raise ScalinglabError(
            f"{name} expects LOW..HIGH:COUNT (log-spaced), a comma list, or multiples of the "
            f"preset's value ending in x (e.g. 0.25x..4x:5); got {text!r}."
        ) from error
    values = [float(f"{float(v):.12g}") for v in values]  # geomspace's 31.999... -> 32
    if not values or not all(v > 0 and math.isfinite(v) for v in values):
        raise ScalinglabError(
            f"{name} values must be positive and finite; got {text!r}."
        )
    return Grid(tuple(sorted(set(values))), relative)


def sweep(
    N: Sequence[float],
    *,
    D: Sequence[float] = (),
    tokens_per_param: Sequence[float] = (),
    lr: Grid = Grid((0.25, 0.5, 1.0, 2.0, 4.0), relative=True),
    batch: Grid = Grid((1.0,), relative=True),
    weight_decay: Grid | None = None,
    hparams: str = "steplaw",
    seed: int = 0,
    **options: Any,
) -> Plan:
    """Plan an lr x batch (x weight decay) grid at each model size and training length.

    Parameters
    ----------
    N : sequence of float
        Target total parameter counts.
    D, tokens_per_param : sequence of float
        Training tokens, absolute or as ratios D/N (give exactly one).
    lr : Grid
        Peak learning rates (relative: multiples of the preset's times ``lr_scale``).
    batch : Grid
        Batch sizes in **sequences** (relative: multiples of the preset's,
        rounded to powers of two).
    weight_decay : Grid, optional
        AdamW weight decays (absolute); None leaves the trainer's default.
    hparams, seed, **options
        As in :func:`scalinglab.plan.ladder`.

    Returns
    -------
    Plan
        Kind ``"sweep"``; ``settings["total_C_exact"]`` is the whole sweep's
        training FLOPs (every matrix product).

    Examples
    --------
    >>> plan = sweep([1e5], tokens_per_param=[20], lr=parse_grid("1e-3..1e-2:3", "lr"),
    ...              batch=parse_grid("8,16", "bs"))
    >>> len(plan.runs), len({r.D for r in plan.runs})
    (6, 1)
    """
    s = _settings(hparams=hparams, seed=seed, **options)
    if bool(D) == bool(tokens_per_param):
        raise ScalinglabError(
            "give exactly one of D (tokens) or tokens_per_param (ratios D/N)."
        )
    if weight_decay is not None and weight_decay.relative:
        raise ScalinglabError(
            "weight decays are absolute values (e.g. 0.01..1:5), not multiples."
        )
    shapes, notes = _distinct_shapes([float(n) for n in N], s)
    runs: list[PlannedRun] = []
    for n_target, shape in shapes:
        lengths = D or [r * count_params(shape).total for r in tokens_per_param]
        for d_target in lengths:
            cell, found = _cell(
                shape, n_target, float(d_target), s, lr, batch, weight_decay
            )
            runs += cell
            notes += found
    ids = [r.run_id for r in runs]
    if len(set(ids)) < len(ids):
        raise ScalinglabError(
            "two grid points print as the same run id (values equal to 3 significant digits); "
            "use fewer or more distinct values."
        )
    total = float(sum(r.C_exact for r in runs))
    return _plan(
        "sweep",
        runs,
        s,
        notes,
        N=list(map(float, N)),
        D=list(D),
        tokens_per_param=list(tokens_per_param),
        lr=_grid_dict(lr),
        batch=_grid_dict(batch),
        weight_decay=_grid_dict(weight_decay),
        total_C_exact=total,
    )


def _cell(shape, n_target, d_target, s, lr, batch, weight_decay):
    """The runs of one (N, D) cell; all train on the same D."""
    from ..analysis.hparams_presets import suggest_hparams

    suggestion = suggest_hparams(
        count_params(shape).non_embedding, d_target, preset=s.hparams
    )
    sequences = _batch_sequences(batch, suggestion.batch_tokens / s.seq_len)
    common = math.lcm(*sequences) * s.seq_len
    steps_common = max(1, round(d_target / common))
    D = steps_common * common
    notes = []
    if abs(D / d_target - 1) > D_TOLERANCE:
        notes.append(
            f"N={n_target:.3g}: D={D} is {D / d_target - 1:+.0%} off the target {d_target:.3g} "
            f"so that every batch size ({', '.join(map(str, sequences))} sequences) trains on "
            "the same tokens; choose batch sizes that divide each other (powers of two)."
        )
    label = f"N{_human(n_target)}-D{_human(D)}"
    runs = [
        _make_run(
            shape,
            eta,
            b,
            D // (b * s.seq_len),
            s,
            f"{label}-lr{eta:.3g}-bs{b}" + ("" if wd is None else f"-wd{wd:.3g}"),
            "sweep grid" + (f" around {suggestion.source}" if lr.relative else ""),
            (n_target, d_target),
            weight_decay=wd,
        )
        for eta in lr.resolve(suggestion.lr * s.lr_scale)
        for b in sequences
        for wd in (weight_decay.values if weight_decay else (None,))
    ]
    return runs, notes


def _batch_sequences(batch: Grid, suggested: float) -> list[int]:
    if batch.relative:
        return sorted(
            {2 ** max(0, round(math.log2(v))) for v in batch.resolve(suggested)}
        )
    fractional = [v for v in batch.values if abs(v - round(v)) > 1e-6 * v or v < 1]
    if fractional:
        raise ScalinglabError(
            f"batch sizes count whole sequences; got {fractional}. Use whole numbers, e.g. "
            "16..256:5 (16, 32, 64, 128, 256) or 16,48,128."
        )
    return sorted({round(v) for v in batch.values})


def _grid_dict(grid: Grid | None) -> dict[str, Any] | None:
    return (
        None
        if grid is None
        else {"values": list(grid.values), "relative": grid.relative}
    )
