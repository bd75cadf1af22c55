"""Weight decay through the AdamW timescale (Power Lines, Bergsma et al. 2025).

AdamW with peak learning rate ``eta`` and weight decay ``lambda`` averages the
updates of the last ``1 / (eta lambda)`` steps. As a fraction of the whole run
of ``D / B`` steps that is the timescale

.. math::

    \\tau = \\frac{B}{\\eta \\lambda D}

(``B`` and ``D`` in the same unit, tokens here). Power Lines finds that the
optimal ``tau`` is nearly constant at fixed (N, D) and a power law in tokens
per parameter:

.. math::

    \\tau_{opt} = c \\, (D / N)^{e}

so the weight decay for a chosen learning rate and batch size is
``lambda = B / (eta tau_opt D)``.

Fit. Runs sharing (N, D, lr, batch size) form a *line* that varies only the
weight decay. The optimum of each line is the minimum of a quadratic in
``log tau`` fitted to the line's runs within ``fit_band`` of its best loss
(or, with fewer than three such runs, to the best run and its two neighbours).
Lines whose optimum is not bracketed by the sampled weight decays are reported
and left out of the law. The law is OLS of ``log tau_opt`` on ``log(D / N)``
over the lines; its intervals come from the same cell bootstrap as the
learning-rate and batch-size laws (:mod:`scalinglab.analysis.hparams`):
resample the (N, D) cells with all their lines, refit, widen the spread by
``sqrt(G / (G - p))`` around the point estimate, the fit on every line.

References
----------
Bergsma et al. 2025, "Power Lines: Scaling Laws for Weight Decay and Batch
Size in LLM Pre-training", arXiv 2505.13738.
Wang and Aitchison 2024, "How to set AdamW's weight decay as you scale model
and dataset size", arXiv 2405.13698 (the EMA view of AdamW).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ScalinglabError
from ..fit.diagnostics import Diagnostic
from .hparams import (
    PowerLawFit,
    _batched_ols,
    _check_column,
    _cluster_factor,
    _local_optimum,
    _resample_counts,
    fit_power_law,
)

__all__ = [
    "TimescaleFit",
    "TimescaleOptimum",
    "best_over_weight_decay",
    "fit_timescale",
    "timescale",
    "weight_decay_for",
]

#: Name of the law's input: tokens per parameter, D / N.
TPP = "TPP"


def timescale(lr, batch_tokens, weight_decay, D):
    """AdamW timescale ``tau = B / (eta lambda D)`` as a fraction of the run (Power Lines)."""
    return np.asarray(batch_tokens, float) / (
        np.asarray(lr, float) * np.asarray(weight_decay, float) * np.asarray(D, float)
    )


def weight_decay_for(tau, lr, batch_tokens, D):
    """The weight decay that gives timescale ``tau``: ``lambda = B / (eta tau D)``."""
    return np.asarray(batch_tokens, float) / (
        np.asarray(lr, float) * np.asarray(tau, float) * np.asarray(D, float)
    )


@dataclass(frozen=True)
class TimescaleOptimum:
    """The optimal timescale of one line (N, D, lr, batch size; weight decay varied).

    Attributes
    ----------
    N, D, lr, batch_tokens : float
        The line.
    tau : float
        Optimal timescale (the quadratic's minimum in log tau).
    weight_decay : float
        The weight decay giving ``tau`` on this line.
    loss : float
        Best observed loss on the line.
    n_runs : int
        Runs on the line.
    bracketed : bool
        False when the minimum fell outside the sampled weight decays (or the
        fit was not convex); such lines are left out of the law.
    """

    N: float
    D: float
    lr: float
    batch_tokens: float
    tau: float
    weight_decay: float
    loss: float
    n_runs: int
    bracketed: bool

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TimescaleFit:
    """``tau_opt = coef * TPP^e`` and the per-line optima it was fitted to."""

    law: PowerLawFit
    lines: tuple[TimescaleOptimum, ...]
    diagnostics: tuple[Diagnostic, ...] = ()


def fit_timescale(
    N: np.ndarray,
    D: np.ndarray,
    lr: np.ndarray,
    bs: np.ndarray,
    wd: np.ndarray,
    loss: np.ndarray,
    *,
    fit_band: float = 0.02,
    bootstrap: int = 1000,
    seed: int = 0,
) -> TimescaleFit:
    """Fit the optimal AdamW timescale as a power law in tokens per parameter.

    Parameters
    ----------
    N, D, lr, bs, wd, loss : numpy.ndarray
        One value per run: parameters, tokens, peak learning rate, batch size
        in tokens, weight decay (> 0: ``wd = 0`` has no timescale) and final loss.
    fit_band : float
        Runs within this relative loss of their line's best are fitted.
    bootstrap : int
        Cell-bootstrap replicates (0: no intervals).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    TimescaleFit

    Examples
    --------
    >>> fit = fit_timescale(N, D, lr, bs, wd, loss)  # doctest: +SKIP
    >>> fit.law.params  # {'coef': ..., 'TPP': ...}  # doctest: +SKIP
    """
    n = np.asarray(N).size
    cols = {
        k: _check_column(k, v, n)
        for k, v in {"N": N, "D": D, "lr": lr, "bs": bs, "wd": wd, "loss": loss}.items()
    }
    lines = _line_optima(cols, fit_band)
    used = [line for line in lines if line.bracketed]
    if not used:
        raise ScalinglabError(
            "no (N, D, lr, batch) line has its best weight decay inside the sampled range; "
            "extend the weight-decay grid on both sides of the best value."
        )
    law = _timescale_law(used, bootstrap, np.random.default_rng(seed))
    return TimescaleFit(law, lines, _diagnose(lines))


def best_over_weight_decay(N, D, lr, bs, loss) -> tuple[np.ndarray, ...]:
    """One row per (N, D, lr, batch): its best loss over the weight decays tried."""
    keys = np.column_stack([np.asarray(v, float).ravel() for v in (N, D, lr, bs)])
    unique, line = np.unique(keys, axis=0, return_inverse=True)
    best = np.full(len(unique), np.inf)
    np.minimum.at(best, line.ravel(), np.asarray(loss, float).ravel())
    return (*unique.T, best)


def _line_optima(
    cols: dict[str, np.ndarray], fit_band: float
) -> list[TimescaleOptimum]:
    keys = np.column_stack([cols[k] for k in ("N", "D", "lr", "bs")])
    unique, line = np.unique(keys, axis=0, return_inverse=True)
    tau = timescale(cols["lr"], cols["bs"], cols["wd"], cols["D"])
    out = []
    for k, (n, d, eta, b) in enumerate(unique):
        rows = np.flatnonzero(line.ravel() == k)
        if np.unique(cols["wd"][rows]).size < 3:
            raise ScalinglabError(
                f"line N={n:.4g}, D={d:.4g}, lr={eta:.4g}, batch={b:.4g} has "
                f"{np.unique(cols['wd'][rows]).size} distinct weight decays (rows "
                f"{(rows + 1).tolist()[:8]}); the timescale optimum needs at least 3."
            )
        log_tau, inside = _line_minimum(np.log(tau[rows]), cols["loss"][rows], fit_band)
        opt = float(np.exp(log_tau))
        out.append(
            TimescaleOptimum(
                float(n),
                float(d),
                float(eta),
                float(b),
                opt,
                float(weight_decay_for(opt, eta, b, d)),
                float(cols["loss"][rows].min()),
                rows.size,
                inside,
            )
        )
    return out


def _line_minimum(
    x: np.ndarray, loss: np.ndarray, fit_band: float
) -> tuple[float, bool]:
    """Minimum of a quadratic in x fitted to the near-best runs (or best and its neighbours)."""
    excess = loss / loss.min() - 1.0
    used = excess <= fit_band
    if np.unique(x[used]).size < 3:
        order = np.argsort(x)
        best = int(np.clip(np.argmin(excess[order]), 1, x.size - 2))
        used = np.zeros(x.size, bool)
        used[order[best - 1 : best + 2]] = True
    optimum, inside = _local_optimum(
        x[used], np.zeros(used.sum()), excess[used], np.ones((1, used.sum()))
    )
    return float(optimum[0, 0]), bool(inside[0])


def _timescale_law(lines: list[TimescaleOptimum], bootstrap: int, rng) -> PowerLawFit:
    tpp = np.array([line.D / line.N for line in lines])
    tau = np.array([line.tau for line in lines])
    if np.unique(tpp).size < 2:
        raise ScalinglabError(
            f"every bracketed line has D/N = {tpp[0]:.4g}; the timescale law needs at least two "
            "tokens-per-parameter ratios (plan the sweep with two or more D per N, or more sizes)."
        )
    draws = point = None
    if bootstrap:
        _, cell = np.unique(
            np.column_stack([[x.N for x in lines], [x.D for x in lines]]),
            axis=0,
            return_inverse=True,
        )
        cell = cell.ravel()
        counts = _resample_counts(cell.max() + 1, bootstrap, rng)[:, cell]
        design = np.column_stack([np.ones(tpp.size), np.log(tpp)])
        draws = _batched_ols(design, np.log(tau), counts)
        # The point is the fit on every line, not the replicates' mean: with few cells a
        # replicate that draws lines of nearly one D/N has an extreme slope and would drag
        # a mean far from what the data say.
        point = _batched_ols(design, np.log(tau), np.ones((1, tpp.size)))[0]
        draws = point + _cluster_factor(cell.max() + 1, 2) * (draws - point)
    return fit_power_law("tau", {TPP: tpp}, tau, draws=draws, point=point)


def _diagnose(lines: list[TimescaleOptimum]) -> tuple[Diagnostic, ...]:
    return tuple(
        Diagnostic(
            "timescale_not_bracketed",
            f"line N={x.N:.3g}, D={x.D:.3g}, lr={x.lr:.3g}, batch={x.batch_tokens:.3g}: the best "
            "weight decay is at the edge of the sampled range; the line was left out of the "
            "timescale law. Extend the weight-decay grid past the best value.",
            details={"N": x.N, "D": x.D, "lr": x.lr, "batch_tokens": x.batch_tokens},
        )
        for x in lines
        if not x.bracketed
    )
