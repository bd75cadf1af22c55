"""Chinchilla approach 1: the envelope of loss against compute.

At each of many log-spaced compute values, the envelope is the lowest loss any
run reached there: a run's loss curve is interpolated in (log C, log L)
between its usable checkpoints; a run with a single usable row counts in the
compute bin around its C. The run that attains the minimum gives N_opt(C) and
its tokens at that compute give D_opt(C). Power laws ``N_opt ~ C^a`` and
``D_opt ~ C^b`` are fitted by least squares in log space, and the loss
envelope by ``L(C) = E + A C^-alpha`` with the one fitting engine.

Intervals come from a bootstrap over runs: each replicate keeps a resample of
the runs, recomputes the envelope, and refits the lines.

Checkpoints taken part-way through a schedule that had not decayed (e.g. the
middle of a cosine run) overstate the loss a run of that length would reach,
so they are refused unless the caller says which rows are usable (final rows,
post-decay checkpoints of a WSD schedule, or every row of a constant-LR run).

References
----------
Hoffmann et al. 2022, arXiv 2203.15556, section 3.1 (approach 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError, ScalinglabError
from ..fit.intervals import percentile_interval
from .isoflop import PowerFit, tokens_per_param

__all__ = ["EnvelopeResult", "usable_rows", "envelope"]

MIN_RUNS_ON_ENVELOPE = 3


@dataclass(frozen=True, eq=False)
class EnvelopeResult:
    """The outcome of :func:`envelope`.

    ``C``, ``loss``, ``N``, ``D`` and ``run`` describe the envelope points
    (after dropping points that do not improve on a smaller compute);
    ``a``, ``b`` are the exponents of N_opt and D_opt; ``loss_fit`` is the
    :class:`~scalinglab.fit.FitResult` of ``L(C) = E + A C^-alpha`` (or None).
    """

    C: np.ndarray
    loss: np.ndarray
    N: np.ndarray
    D: np.ndarray
    run: np.ndarray
    a: PowerFit
    b: PowerFit
    loss_fit: object | None
    n_runs: int
    notes: tuple[str, ...]
    replicates: int = field(default=0)

    def tokens_per_param(self, C) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """D_opt / N_opt at ``C`` from the two power laws, with a 95% interval."""
        return tokens_per_param(self.a, self.b, C)

    def to_dict(self) -> dict:
        fit = self.loss_fit
        loss_law = None
        if fit is not None:
            loss_law = {
                "params": fit.params,
                "ci95": fit.conf_int() if fit.draws is not None else None,
            }
        return {
            "approach": "envelope",
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "loss_vs_compute": loss_law,
            "n_runs": self.n_runs,
            "n_runs_on_envelope": int(np.unique(self.run).size),
            "points": [
                {
                    "C": float(c),
                    "loss": float(loss),
                    "N": float(n),
                    "D": float(d),
                    "run": str(r),
                }
                for c, loss, n, d, r in zip(self.C, self.loss, self.N, self.D, self.run)
            ],
            "notes": list(self.notes),
        }


def usable_rows(runs, checkpoints: str | None) -> np.ndarray:
    """Rows of a :class:`~scalinglab.data.RunTable` whose loss the envelope may use.

    ``checkpoints`` is ``"final"`` (the last row of each run), ``"all"`` (every
    row is final or post-decay, e.g. constant LR or WSD cooldowns), or the name
    of a column that is true (1) on usable rows. None is accepted only when
    every run has a single row.
    """
    n_rows = len(runs)
    if checkpoints is None:
        if runs.n_runs == n_rows:
            return np.ones(n_rows, dtype=bool)
        raise InputError(
            f"{n_rows} rows belong to {runs.n_runs} runs, so some rows are checkpoints taken "
            "part-way through a run. Mid-schedule checkpoints of a learning-rate schedule that had "
            "not decayed overstate the loss a run of that length reaches, which biases the "
            "envelope. Say which rows are usable: --checkpoints final (last row per run), "
            "--checkpoints all (constant LR or post-decay checkpoints), or --checkpoints COLUMN "
            "(a column that is true on final or post-decay rows).",
            source=runs.source,
        )
    if checkpoints == "all":
        return np.ones(n_rows, dtype=bool)
    if checkpoints == "final":
        return _final_mask(runs)
    if not runs.has(checkpoints):
        raise InputError(
            f"--checkpoints must be 'final', 'all' or a column; there is no column "
            f"{checkpoints!r}.",
            source=runs.source,
        )
    return _flag_column(runs, checkpoints)


def _final_mask(runs) -> np.ndarray:
    frame = runs.frame
    key = "step" if runs.has("step") else "D"
    last = (
        frame.sort_values(key, kind="stable").groupby("run", sort=False).tail(1).index
    )
    mask = np.zeros(len(frame), dtype=bool)
    mask[last.to_numpy()] = True
    return mask


def _flag_column(runs, name: str) -> np.ndarray:
    values = runs.frame[name]
    if values.dtype == bool:
        return values.to_numpy()
    text = values.astype(str).str.strip().str.lower()
    known = text.isin(["true", "false", "1", "0", "1.0", "0.0", "yes", "no"])
    if not known.all():
        rows = np.flatnonzero(~known.to_numpy())
        raise InputError(
            f"--checkpoints column {name!r} must hold true/false or 1/0; "
            f"got {values.iloc[rows[0]]!r}.",
            source=runs.source,
            column=name,
            rows=[int(runs.row_numbers[i]) for i in rows],
        )
    return text.isin(["true", "1", "1.0", "yes"]).to_numpy()


def _curves(C, D, loss, run, grid_edges, grid):
    """Log loss and log D of every run on the grid, shape (runs, G); inf/nan where absent."""
    ids, index = np.unique(run, return_inverse=True)
    G = grid.size
    logL = np.full((ids.size, G), np.inf)
    logD = np.full((ids.size, G), np.nan)
    for k in range(ids.size):
        rows = np.flatnonzero(index == k)
        order = rows[np.argsort(C[rows], kind="stable")]
        x, y, d = np.log(C[order]), np.log(loss[order]), np.log(D[order])
        if x.size == 1 or x[0] == x[-1]:
            j = int(
                np.clip(np.searchsorted(grid_edges, x[0], side="right") - 1, 0, G - 1)
            )
            logL[k, j], logD[k, j] = y.min(), d[np.argmin(y)]
            continue
        inside = (grid >= x[0]) & (grid <= x[-1])
        logL[k, inside] = np.interp(grid[inside], x, y)
        logD[k, inside] = np.interp(grid[inside], x, d)
    return ids, logL, logD


def _frontier(logL: np.ndarray, keep: np.ndarray):
    """Grid columns on the envelope and the run index attaining each (Pareto: loss falls with C)."""
    sub = logL[keep]
    best = np.argmin(sub, axis=0)
    value = sub[best, np.arange(sub.shape[1])]
    present = np.isfinite(value)
    running = np.minimum.accumulate(np.where(present, value, np.inf))
    improves = (
        present
        & (value <= running)
        & (value < np.concatenate([[np.inf], running[:-1]]))
    )
    return np.flatnonzero(improves), np.flatnonzero(keep)[best[improves]]


def _lines(logC, logN, logD):
    X = np.column_stack([np.ones_like(logC), logC])
    a, *_ = np.linalg.lstsq(X, logN, rcond=None)
    b, *_ = np.linalg.lstsq(X, logD, rcond=None)
    return a, b


def envelope(
    N: np.ndarray,
    D: np.ndarray,
    C: np.ndarray,
    loss: np.ndarray,
    run: np.ndarray,
    *,
    usable: np.ndarray | None = None,
    points: int = 64,
    bootstrap: int = 200,
    seed: int = 0,
    fit_loss: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> EnvelopeResult:
    """Chinchilla approach 1: the lowest loss at each compute, then N_opt ~ C^a, D_opt ~ C^b.

    Parameters
    ----------
    N, D, C, loss, run : one value per row (a run's checkpoints share ``run``).
    usable : boolean mask of rows that are final or post-decay (see
        :func:`usable_rows`); None means every row, allowed only when each run
        has one row.
    points : number of log-spaced compute values spanning the data.
    bootstrap : replicates of the run bootstrap (>= 20).
    seed : seeds the bootstrap.
    fit_loss : also fit ``L(C) = E + A C^-alpha`` to the envelope.
    progress : called as ``progress(done, total)`` with bootstrap replicates done.

    Returns
    -------
    EnvelopeResult
    """
    N, D, C, loss = (np.asarray(v, dtype=float) for v in (N, D, C, loss))
    run = np.asarray(run).astype(str)
    mask = _usable(usable, run)
    if bootstrap < 20:
        raise ScalinglabError(
            f"the envelope's intervals need bootstrap >= 20; got {bootstrap}."
        )
    N, D, C, loss, run = N[mask], D[mask], C[mask], loss[mask], run[mask]
    edges = np.linspace(np.log(C.min()), np.log(C.max()), points + 1)
    grid = (edges[:-1] + edges[1:]) / 2
    grid[0], grid[-1] = edges[0], edges[-1]
    ids, logL, logD = _curves(C, D, loss, run, edges, grid)
    logN_run = np.array([np.log(N[run == i][0]) for i in ids])
    cols, who = _frontier(logL, np.ones(ids.size, dtype=bool))
    cols, who, edge = _interior(cols, who, logN_run)
    if np.unique(who).size < MIN_RUNS_ON_ENVELOPE:
        raise InputError(
            f"the envelope is attained by only {np.unique(who).size} run(s) of {ids.size} "
            "away from the smallest and largest model size; "
            f"fitting N_opt(C) needs at least {MIN_RUNS_ON_ENVELOPE} distinct model sizes on it. "
            "Add runs of other sizes or use more checkpoints (--checkpoints)."
        )
    a_hat, b_hat = _lines(grid[cols], logN_run[who], logD[who, cols])
    reps = _bootstrap(grid, logL, logD, logN_run, bootstrap, seed, progress)
    a = _power(a_hat, reps[:, 0], cols.size)
    b = _power(b_hat, reps[:, 1], cols.size)
    env_C, env_L = np.exp(grid[cols]), np.exp(logL[who, cols])
    loss_fit = _fit_loss(env_C, env_L, ids[who], seed) if fit_loss else None
    return EnvelopeResult(
        C=env_C,
        loss=env_L,
        N=np.exp(logN_run[who]),
        D=np.exp(logD[who, cols]),
        run=ids[who],
        a=a,
        b=b,
        loss_fit=loss_fit,
        n_runs=int(ids.size),
        notes=tuple(_notes(who, ids, a, b, edge)),
        replicates=bootstrap,
    )


def _usable(usable, run) -> np.ndarray:
    if usable is None:
        if np.unique(run).size != run.size:
            raise InputError(
                "several rows share a run, so some are mid-run checkpoints; pass usable= "
                "(see usable_rows) to say which are final or post-decay."
            )
        return np.ones(run.size, dtype=bool)
    mask = np.asarray(usable)
    if mask.dtype != bool or mask.shape != run.shape or not mask.any():
        raise ScalinglabError(
            "usable must be a boolean mask, one entry per row, with a true entry."
        )
    return mask


def _interior(cols, who, logN_run, keep=None):
    """Drop envelope points attained by the smallest or largest N (of the runs kept): there
    the optimum may lie beyond the sizes trained, so N_opt(C) would flatten at the edges."""
    sizes = logN_run if keep is None else logN_run[keep]
    on = logN_run[who]
    edge = (on <= sizes.min()) | (on >= sizes.max())
    return cols[~edge], who[~edge], int(edge.sum())


def _bootstrap(grid, logL, logD, logN_run, replicates, seed, progress) -> np.ndarray:
    """(replicates, 2, 2): (log k, exponent) of N_opt and D_opt per run-resampled replicate."""
    rng = np.random.default_rng(seed)
    n = logL.shape[0]
    out = np.full((replicates, 2, 2), np.nan)
    every = max(1, replicates // 20)
    for r in range(replicates):
        if progress is not None and r and r % every == 0:
            progress(r, replicates)
        keep = np.zeros(n, dtype=bool)
        keep[rng.integers(0, n, size=n)] = True
        cols, who = _frontier(logL, keep)
        cols, who, _ = _interior(cols, who, logN_run, keep)
        if np.unique(who).size < 2:
            continue
        out[r, 0], out[r, 1] = _lines(grid[cols], logN_run[who], logD[who, cols])
    if progress is not None:
        progress(replicates, replicates)
    return out


def _power(point: np.ndarray, reps: np.ndarray, n: int) -> PowerFit:
    low, high = percentile_interval(reps[:, 1], 0.95)
    return PowerFit(
        exponent=float(point[1]),
        coefficient=float(np.exp(point[0])),
        ci95=(float(low), float(high)),
        n_budgets=int(n),
        draws=reps,
    )


def _fit_loss(C, L, run, seed):
    from ..fit.api import fit

    return fit("power", {"C": C, "loss": L, "run": run}, bootstrap=200, seed=seed)


def _notes(who, ids, a: PowerFit, b: PowerFit, edge: int) -> list[str]:
    notes = [f"{np.unique(who).size} of {ids.size} runs lie on the envelope"]
    if edge:
        notes.append(
            f"{edge} envelope points attained by the smallest or largest model were left out "
            "(the optimum there may lie beyond the sizes trained)"
        )
    if abs(a.exponent + b.exponent - 1.0) > 0.05:
        notes.append(
            f"a + b = {a.exponent + b.exponent:.3f}, not 1: C is not proportional to N D here."
        )
    return notes
