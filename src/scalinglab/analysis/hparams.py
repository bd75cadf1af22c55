"""Learning-rate and batch-size laws from a hyperparameter sweep.

A sweep is one row per training run: model size ``N``, training tokens ``D``,
peak learning rate ``lr``, batch size ``bs`` (in **tokens**) and final loss.
Runs sharing (N, D) form a *cell*. From the cells we fit

.. math::

    \\eta_{opt}(N, D) = c_\\eta \\, N^{a} D^{b}, \\qquad B_{opt}(D) = c_B \\, D^{d}

by ordinary least squares in log space, with bootstrap intervals. Two ways to
say which configurations are optimal in a cell:

``method="band"`` (Step Law, Li et al. 2025, the default)
    Keep every run whose loss is within ``threshold`` (0.25 %) relative of the
    best loss in its cell, not only the argmin, and regress all kept runs.
    Bootstrap (``resample="cells"``, the default): resample the cells with
    replacement, each bringing all its kept runs, refit, repeat 1000 times;
    the spread of the coefficients about their mean is widened by
    ``sqrt(G / (G - p))`` (G cells, p coefficients), the usual small-sample
    factor of a cluster bootstrap. ``resample="runs"`` resamples the kept
    runs pooled over cells, as the authors' ``code/fit_tool.py`` does; it
    measures the width of the near-optimal band, not the error of the fitted
    law, and is conservative (100% coverage at 1.6-1.8x the needed width in
    tests/calibration; cells: 88-99% at 1.1-1.3x). The point estimate is the
    mean of the bootstrap coefficients in log space (the authors' choice);
    intervals are the 2.5 and 97.5 percentiles.

``method="quadratic"`` (smooth local optimum)
    In each cell, fit a quadratic surface to the relative loss
    ``loss / best - 1`` in (log lr, log bs) over the runs within ``fit_band``
    (default 2 %) of the best, and take its stationary point as the cell
    optimum (clipped to the sampled box, flagged when not bracketed or not
    convex). Resampling the runs of a cell gives an interval on each optimum.
    The laws are then fitted to one optimum per cell; each replicate refits
    them to that replicate's optimum of every cell, plus a normal draw of the
    cells' scatter about the law beyond what the within-cell uncertainty
    explains (random effects, method of moments). Resampling the cells on top
    of the within-cell draws counted the same noise twice (100% coverage at
    1.6-2.2x the needed width, tests/calibration). Point estimate: OLS on the
    cell optima.

Parameters of a law are named ``coef`` (the multiplier) and, for each input,
the input's name holding its exponent: ``{"coef": 1.79, "N": -0.713,
"D": 0.307}`` means ``lr = 1.79 * N**-0.713 * D**0.307``.

References
----------
Li et al. 2025, "Predictable Scale: Part I -- Optimal Hyperparameter Scaling
Law in LLM Pretraining", arXiv 2503.04715.
Bi et al. 2024, "DeepSeek LLM", arXiv 2401.02954 (the near-optimal band).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._json import read_saved, write_json
from ..errors import InputError, ScalinglabError
from ..fit.diagnostics import Diagnostic
from ..fit.intervals import percentile_interval
from .hparams_presets import HparamSuggestion

__all__ = [
    "CellOptimum",
    "HparamFit",
    "PowerLawFit",
    "cell_optima",
    "fit_hparams",
    "fit_power_law",
    "load_hparam_fit",
]

FORMAT = "scalinglab.hparams/1"
METHODS = ("band", "quadratic")
INPUT_NAMES = ("N", "D", "C")


# --------------------------------------------------------------------------- power law


@dataclass(frozen=True)
class PowerLawFit:
    """``target = coef * prod(inputs[k] ** params[k])`` fitted in log space.

    Attributes
    ----------
    target : str
        What the law predicts, e.g. ``"lr"`` or ``"batch_tokens"``.
    inputs : tuple of str
        Input names, each also the name of its exponent in ``params``.
    params : dict
        ``coef`` and one exponent per input.
    ci95 : dict
        Same names -> (lo, hi), bootstrap percentiles; empty without draws.
    draws : numpy.ndarray or None
        (B, 1 + len(inputs)) bootstrap coefficients ``[log coef, exponents...]``.
    """

    target: str
    inputs: tuple[str, ...]
    params: dict[str, float]
    ci95: dict[str, tuple[float, float]] = field(default_factory=dict)
    draws: np.ndarray | None = field(default=None, repr=False)

    def _log_design(self, inputs: dict) -> tuple[np.ndarray, tuple[int, ...]]:
        missing = [name for name in self.inputs if name not in inputs]
        if missing:
            raise ScalinglabError(
                f"the {self.target} law needs inputs {list(self.inputs)}; missing {missing}."
            )
        arrays = np.broadcast_arrays(
            *(np.asarray(inputs[k], float) for k in self.inputs)
        )
        shape = arrays[0].shape
        logs = [np.log(a).ravel() for a in arrays]
        return np.column_stack([np.ones(logs[0].size), *logs]), shape

    def predict(self, **inputs: float | np.ndarray) -> np.ndarray:
        """Point prediction at the given inputs (broadcast together)."""
        design, shape = self._log_design(inputs)
        beta = np.array(
            [np.log(self.params["coef"])] + [self.params[k] for k in self.inputs]
        )
        return np.exp(design @ beta).reshape(shape)

    def predict_draws(self, **inputs: float | np.ndarray) -> np.ndarray:
        """(B, ...) predictions, one per bootstrap draw."""
        if self.draws is None:
            raise ScalinglabError(
                f"the {self.target} law has no bootstrap draws; refit with bootstrap > 0."
            )
        design, shape = self._log_design(inputs)
        return np.exp(self.draws @ design.T).reshape((len(self.draws), *shape))

    def predict_interval(
        self, level: float = 0.95, **inputs: float | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Percentile interval of the bootstrap predictions (the law's uncertainty, not run noise)."""
        return percentile_interval(self.predict_draws(**inputs), level, axis=0)

    def formula(self) -> str:
        """Human form, e.g. ``lr = 1.79 * N^-0.713 * D^0.307``."""
        terms = " * ".join(f"{k}^{self.params[k]:.4g}" for k in self.inputs)
        return f"{self.target} = {self.params['coef']:.4g} * {terms}"

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "inputs": list(self.inputs),
            "formula": self.formula(),
            "params": dict(self.params),
            "ci95": {k: list(v) for k, v in self.ci95.items()},
            "draws": None if self.draws is None else self.draws.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> PowerLawFit:
        draws = data.get("draws")
        return cls(
            target=data["target"],
            inputs=tuple(data["inputs"]),
            params={k: float(v) for k, v in data["params"].items()},
            ci95={
                k: (float(lo), float(hi))
                for k, (lo, hi) in data.get("ci95", {}).items()
            },
            draws=None if draws is None else np.asarray(draws, float),
        )


def _batched_ols(
    design: np.ndarray, target: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """OLS per replicate: ``weights`` (B, n) are resampling counts; returns (B, P)."""
    gram = np.einsum("bn,np,nq->bpq", weights, design, design)
    moment = np.einsum("bn,np,n->bp", weights, design, target)
    return np.einsum("bpq,bq->bp", np.linalg.pinv(gram), moment)


def fit_power_law(
    target_name: str,
    inputs: dict[str, np.ndarray],
    target: np.ndarray,
    *,
    draws: np.ndarray | None = None,
    point: np.ndarray | None = None,
) -> PowerLawFit:
    """Fit ``target = coef * prod(x ** exponent)`` by OLS in log space.

    Parameters
    ----------
    target_name : str
        Name of the predicted quantity.
    inputs : dict
        Input name -> positive array (n,).
    target : numpy.ndarray
        Positive array (n,).
    draws : numpy.ndarray, optional
        (B, 1 + k) bootstrap coefficients computed by the caller; their
        percentiles become ``ci95``.
    point : numpy.ndarray, optional
        Coefficients to report instead of the full-sample OLS.

    Returns
    -------
    PowerLawFit
    """
    names = tuple(inputs)
    design = np.column_stack(
        [np.ones(len(target))] + [np.log(inputs[k]) for k in names]
    )
    beta = (
        np.linalg.lstsq(design, np.log(target), rcond=None)[0]
        if point is None
        else point
    )
    params = {
        "coef": float(np.exp(beta[0])),
        **{k: float(b) for k, b in zip(names, beta[1:])},
    }
    ci95 = {}
    if draws is not None and len(draws):
        lo, hi = percentile_interval(draws, 0.95, axis=0)
        with np.errstate(over="ignore"):  # an unidentified exponent: inf, diagnosed
            ci95 = {"coef": (float(np.exp(lo[0])), float(np.exp(hi[0])))}
        ci95 |= {k: (float(a), float(b)) for k, a, b in zip(names, lo[1:], hi[1:])}
    return PowerLawFit(target_name, names, params, ci95, draws)


# --------------------------------------------------------------------------- cells


@dataclass(frozen=True)
class CellOptimum:
    """The optimal learning rate and batch size of one (N, D) cell.

    Attributes
    ----------
    N, D : float
        The cell.
    lr, batch_tokens : float
        The optimum: the smooth-fit stationary point (``quadratic``) or the
        geometric mean of the near-optimal band (``band``).
    loss : float
        Best observed loss in the cell.
    lr_ci, batch_ci : tuple of float
        95 % interval of the optimum (``quadratic``: bootstrap over the
        cell's runs) or the band's range (``band``).
    n_runs, n_used : int
        Runs in the cell, and runs in the band or the local fit.
    bracketed : bool
        False when the smooth optimum fell outside the sampled box or the
        surface was not convex there (the argmin or box edge was used).
    best_lr, best_batch : float
        The observed argmin configuration.
    """

    N: float
    D: float
    lr: float
    batch_tokens: float
    loss: float
    lr_ci: tuple[float, float]
    batch_ci: tuple[float, float]
    n_runs: int
    n_used: int
    bracketed: bool
    best_lr: float
    best_batch: float

    def to_dict(self) -> dict:
        return {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in self.__dict__.items()
        }

    @classmethod
    def from_dict(cls, data: dict) -> CellOptimum:
        return cls(
            **{k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items()}
        )


@dataclass(frozen=True)
class _Sweep:
    N: np.ndarray
    D: np.ndarray
    lr: np.ndarray
    bs: np.ndarray
    loss: np.ndarray
    cell: np.ndarray  # cell index per row
    cell_keys: np.ndarray  # (n_cells, 2) N, D

    def rows(self, k: int) -> np.ndarray:
        return np.flatnonzero(self.cell == k)

    def relative_excess(self) -> np.ndarray:
        best = np.full(len(self.cell_keys), np.inf)
        np.minimum.at(best, self.cell, self.loss)
        return self.loss / best[self.cell] - 1.0


def _check_column(name: str, values: np.ndarray, n: int) -> np.ndarray:
    values = np.asarray(values, float).ravel()
    if values.size != n:
        raise InputError(
            f"expected {n} values like the other columns; got {values.size}.",
            column=name,
        )
    bad = np.flatnonzero(~(np.isfinite(values) & (values > 0)))
    if bad.size:
        raise InputError(
            f"must be finite and > 0; got {bad.size} bad values. Drop failed runs (NaN loss) "
            "before fitting; diverged runs with a finite loss may stay.",
            column=name,
            rows=(bad + 1).tolist(),
        )
    return values


def _sweep(N, D, lr, bs, loss) -> _Sweep:
    n = np.asarray(N).size
    cols = {
        k: _check_column(k, v, n)
        for k, v in dict(N=N, D=D, lr=lr, bs=bs, loss=loss).items()
    }
    keys, cell = np.unique(
        np.column_stack([cols["N"], cols["D"]]), axis=0, return_inverse=True
    )
    return _Sweep(**cols, cell=cell.ravel(), cell_keys=keys)


def _quadratic_design(x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    if y is None:
        return np.column_stack([np.ones_like(x), x, x * x])
    return np.column_stack([np.ones_like(x), x, y, x * x, x * y, y * y])


def _stationary_points(coef: np.ndarray, two_d: bool) -> tuple[np.ndarray, np.ndarray]:
    """(B, dims) stationary points of batched quadratics and whether each is a minimum."""
    if not two_d:
        curvature = 2.0 * coef[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            return (-coef[:, 1] / curvature)[:, None], curvature > 0
    hess = np.stack(
        [
            np.stack([2 * coef[:, 3], coef[:, 4]], -1),
            np.stack([coef[:, 4], 2 * coef[:, 5]], -1),
        ],
        -2,
    )
    det = hess[:, 0, 0] * hess[:, 1, 1] - hess[:, 0, 1] ** 2
    convex = (hess[:, 0, 0] > 0) & (det > 0)
    safe = np.where(convex[:, None, None], hess, np.eye(2))
    return -np.linalg.solve(safe, coef[:, 1:3, None])[..., 0], convex


def _local_optimum(x, y, excess, weights) -> tuple[np.ndarray, np.ndarray]:
    """Batched smooth optimum in (log lr[, log bs]); falls back to the weighted argmin.

    Returns (B, 2) optima (log lr, log bs) and (B,) bracketed flags.
    """
    varies_y = np.ptp(y) > 0
    design = _quadratic_design(x, y if varies_y else None)
    coef = _batched_ols(design, excess, weights)
    stationary, convex = _stationary_points(coef, varies_y)
    if not varies_y:
        stationary = np.column_stack([stationary[:, 0], np.full(len(coef), y[0])])
    box_lo, box_hi = np.array([x.min(), y.min()]), np.array([x.max(), y.max()])
    inside = convex & np.all((stationary >= box_lo) & (stationary <= box_hi), axis=1)
    masked = np.where(weights > 0, excess, np.inf)
    argmin = np.column_stack([x, y])[np.argmin(masked, axis=1)]
    edge = np.clip(np.where(convex[:, None], stationary, argmin), box_lo, box_hi)
    return np.where(inside[:, None], stationary, edge), inside


def _cell_quadratic(
    sweep: _Sweep, k: int, fit_band: float, draws: int, rng
) -> tuple[CellOptimum, np.ndarray]:
    rows = sweep.rows(k)
    excess = sweep.relative_excess()[rows]
    used = rows[excess <= fit_band]
    x, y, r = np.log(sweep.lr[used]), np.log(sweep.bs[used]), excess[excess <= fit_band]
    n_coef = 6 if np.ptp(y) > 0 else 3
    if used.size < n_coef + 1 or len(np.unique(x)) < 3:
        raise ScalinglabError(
            f"cell N={sweep.cell_keys[k][0]:.4g}, D={sweep.cell_keys[k][1]:.4g} has {used.size} runs within "
            f"{fit_band:.1%} of its best loss ({len(np.unique(x))} distinct learning rates); the local "
            f"quadratic needs at least {n_coef + 1} runs and 3 learning rates. Widen fit_band "
            "(--fit-band) or use method='band'."
        )
    weights = np.vstack([np.ones(used.size), _resample_counts(used.size, draws, rng)])
    optima, inside = _local_optimum(x, y, r, weights)
    spread = optima[1:] if draws else optima[:1]
    lo, hi = np.exp(percentile_interval(spread, 0.95, axis=0))
    best = rows[np.argmin(excess)]
    cell = CellOptimum(
        float(sweep.cell_keys[k][0]),
        float(sweep.cell_keys[k][1]),
        float(np.exp(optima[0, 0])),
        float(np.exp(optima[0, 1])),
        float(sweep.loss[best]),
        (float(lo[0]), float(hi[0])),
        (float(lo[1]), float(hi[1])),
        rows.size,
        used.size,
        bool(inside[0]),
        float(sweep.lr[best]),
        float(sweep.bs[best]),
    )
    return cell, optima[1:]


def _resample_counts(n: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """(replicates, n) multiplicities of a with-replacement resample of n items."""
    picks = rng.integers(0, n, size=(replicates, n))
    return np.stack([np.bincount(p, minlength=n) for p in picks]).astype(float)


def _cell_band(sweep: _Sweep, k: int, keep: np.ndarray) -> CellOptimum:
    rows = sweep.rows(k)
    band = rows[keep[rows]]
    best = rows[np.argmin(sweep.loss[rows])]
    lr, bs = sweep.lr[band], sweep.bs[band]
    return CellOptimum(
        float(sweep.cell_keys[k][0]),
        float(sweep.cell_keys[k][1]),
        float(np.exp(np.log(lr).mean())),
        float(np.exp(np.log(bs).mean())),
        float(sweep.loss[best]),
        (float(lr.min()), float(lr.max())),
        (float(bs.min()), float(bs.max())),
        rows.size,
        band.size,
        _interior(sweep, rows, best),
        float(sweep.lr[best]),
        float(sweep.bs[best]),
    )


def _interior(sweep: _Sweep, rows: np.ndarray, best: int) -> bool:
    """Whether the best run is inside the cell's grid (not at an extreme lr or batch size)."""
    inside = True
    for values in (sweep.lr, sweep.bs):
        if np.ptp(values[rows]) > 0:
            inside &= values[rows].min() < values[best] < values[rows].max()
    return bool(inside)


def cell_optima(
    N: np.ndarray,
    D: np.ndarray,
    lr: np.ndarray,
    bs: np.ndarray,
    loss: np.ndarray,
    *,
    method: str = "quadratic",
    threshold: float = 0.0025,
    fit_band: float = 0.02,
    bootstrap: int = 200,
    seed: int = 0,
) -> tuple[CellOptimum, ...]:
    """The optimum (lr, batch size) of every (N, D) cell of a sweep, with intervals.

    Parameters
    ----------
    N, D, lr, bs, loss : numpy.ndarray
        One value per run; ``bs`` in tokens.
    method : {"quadratic", "band"}
        Smooth local fit, or the Step Law near-optimal band (see module docs).
    threshold : float
        Band: relative loss above the cell's best that still counts as optimal.
    fit_band : float
        Quadratic: relative loss above the best of the runs the surface is fitted to.
    bootstrap : int
        Quadratic: resamples of each cell's runs for the optimum's interval.
    seed : int
        Seed of the resampling.

    Returns
    -------
    tuple of CellOptimum
        Sorted by (N, D).
    """
    sweep = _sweep(N, D, lr, bs, loss)
    _check_method(method)
    if method == "band":
        keep = np.abs(sweep.relative_excess()) < threshold
        return tuple(_cell_band(sweep, k, keep) for k in range(len(sweep.cell_keys)))
    rng = np.random.default_rng(seed)
    return tuple(
        _cell_quadratic(sweep, k, fit_band, bootstrap, rng)[0]
        for k in range(len(sweep.cell_keys))
    )


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ScalinglabError(
            f"unknown method {method!r}; choose one of {list(METHODS)}."
        )


# --------------------------------------------------------------------------- laws


@dataclass(frozen=True)
class HparamFit:
    """Learning-rate and batch-size laws fitted to a sweep.

    Attributes
    ----------
    lr_law : PowerLawFit
        ``lr = coef * N^N * D^D`` (inputs as chosen; default N and D).
    bs_law : PowerLawFit
        ``batch_tokens = coef * D^D`` (default), batch size in tokens.
    cells : tuple of CellOptimum
        The per-cell optima the laws summarise.
    method : str
        ``"band"`` or ``"quadratic"``.
    settings : dict
        threshold, fit_band, bootstrap, seed, batch unit.
    input_ranges : dict
        ``N``, ``D``, ``C`` -> (min, max) over the cells, for extrapolation warnings.
    diagnostics : tuple of Diagnostic
        Cells whose optimum was not bracketed, and similar findings.
    """

    lr_law: PowerLawFit
    bs_law: PowerLawFit
    cells: tuple[CellOptimum, ...]
    method: str
    settings: dict
    input_ranges: dict[str, tuple[float, float]]
    diagnostics: tuple[Diagnostic, ...] = ()
    wd_law: PowerLawFit | None = None
    wd_lines: tuple = ()

    def suggest(
        self,
        N: float,
        D: float,
        *,
        lr: float | None = None,
        batch_tokens: float | None = None,
        level: float = 0.95,
    ) -> HparamSuggestion:
        """Learning rate, batch size (tokens) and, with a ``wd_law``, weight decay for (N, D).

        ``lr`` and ``batch_tokens`` fix those values (the weight decay is then the one
        giving the optimal AdamW timescale at them); by default the fitted laws give them.
        Intervals are bootstrap percentiles of each law.
        """
        inputs = _law_inputs(np.asarray(N, float), np.asarray(D, float))
        lr = float(self.lr_law.predict(**inputs)) if lr is None else float(lr)
        batch = (
            float(self.bs_law.predict(**inputs))
            if batch_tokens is None
            else float(batch_tokens)
        )
        lr_ci = batch_ci = None
        if self.lr_law.draws is not None and self.bs_law.draws is not None:
            lr_ci = tuple(
                float(v) for v in self.lr_law.predict_interval(level, **inputs)
            )
            batch_ci = tuple(
                float(v) for v in self.bs_law.predict_interval(level, **inputs)
            )
        source = f"fit ({self.method}, {len(self.cells)} cells)"
        suggestion = HparamSuggestion(
            lr, batch, source, lr_ci, batch_ci, self._outside(inputs)
        )
        return (
            suggestion
            if self.wd_law is None
            else self._with_weight_decay(suggestion, N, D, level)
        )

    def _with_weight_decay(
        self, s: HparamSuggestion, N: float, D: float, level: float
    ) -> HparamSuggestion:
        from dataclasses import replace

        from .weight_decay import TPP, weight_decay_for

        tpp = {TPP: np.asarray(D / N, float)}
        tau = float(self.wd_law.predict(**tpp))
        tau_ci = wd_ci = None
        if self.wd_law.draws is not None:
            tau_ci = tuple(float(v) for v in self.wd_law.predict_interval(level, **tpp))
            wd_ci = tuple(
                float(weight_decay_for(t, s.lr, s.batch_tokens, D))
                for t in tau_ci[::-1]
            )
        lo, hi = self.input_ranges.get(TPP, (D / N, D / N))
        notes = (
            s.notes
            if lo <= D / N <= hi
            else (
                *s.notes,
                f"D/N={D / N:.3g} is outside the timescale law's range [{lo:.3g}, {hi:.3g}]; "
                "this is an extrapolation.",
            )
        )
        return replace(
            s,
            weight_decay=float(weight_decay_for(tau, s.lr, s.batch_tokens, D)),
            tau=tau,
            weight_decay_ci=wd_ci,
            tau_ci=tau_ci,
            notes=notes,
        )

    def _outside(self, inputs: dict) -> tuple[str, ...]:
        notes = []
        for name in sorted(set(self.lr_law.inputs) | set(self.bs_law.inputs)):
            lo, hi = self.input_ranges[name]
            value = float(inputs[name])
            if not lo <= value <= hi:
                factor = value / hi if value > hi else lo / value
                notes.append(
                    f"{name}={value:.3g} is {factor:.1f}x outside the fitted range "
                    f"[{lo:.3g}, {hi:.3g}]; this is an extrapolation."
                )
        return tuple(notes)

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "method": self.method,
            "lr_law": self.lr_law.to_dict(),
            "bs_law": self.bs_law.to_dict(),
            "cells": [c.to_dict() for c in self.cells],
            "settings": dict(self.settings),
            "input_ranges": {k: list(v) for k, v in self.input_ranges.items()},
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        } | (
            {}
            if self.wd_law is None
            else {
                "wd_law": self.wd_law.to_dict(),
                "wd_lines": [x.to_dict() for x in self.wd_lines],
            }
        )

    @classmethod
    def from_dict(cls, data: dict) -> HparamFit:
        return cls(
            lr_law=PowerLawFit.from_dict(data["lr_law"]),
            bs_law=PowerLawFit.from_dict(data["bs_law"]),
            cells=tuple(CellOptimum.from_dict(c) for c in data["cells"]),
            method=data["method"],
            settings=dict(data["settings"]),
            input_ranges={k: tuple(v) for k, v in data["input_ranges"].items()},
            diagnostics=tuple(
                Diagnostic.from_dict(d) for d in data.get("diagnostics", [])
            ),
            wd_law=PowerLawFit.from_dict(data["wd_law"])
            if data.get("wd_law")
            else None,
            wd_lines=_timescale_lines(data.get("wd_lines", [])),
        )

    def save(self, path: str | Path) -> Path:
        """Write the fit (laws, bootstrap draws, cells, settings) as JSON."""
        return write_json(path, self.to_dict())


def _timescale_lines(rows: list[dict]) -> tuple:
    if not rows:
        return ()
    from .weight_decay import TimescaleOptimum

    return tuple(TimescaleOptimum(**row) for row in rows)


def load_hparam_fit(path: str | Path) -> HparamFit:
    """Reload a fit written by :meth:`HparamFit.save`."""
    data = read_saved(
        path,
        format=FORMAT,
        what="hyperparameter fit",
        make="scalinglab hparams fit ...",
    )
    return HparamFit.from_dict(data)


def _law_inputs(N: np.ndarray, D: np.ndarray) -> dict[str, np.ndarray]:
    return {"N": N, "D": D, "C": 6.0 * N * D}


def _check_inputs(
    names: Sequence[str], keys: np.ndarray, which: str
) -> tuple[str, ...]:
    names = tuple(names)
    unknown = [n for n in names if n not in INPUT_NAMES]
    if unknown or not names:
        raise ScalinglabError(
            f"{which} inputs must be a non-empty subset of {list(INPUT_NAMES)}; got {list(names)}."
        )
    inputs = _law_inputs(keys[:, 0], keys[:, 1])
    flat = [n for n in names if np.ptp(np.log(inputs[n])) == 0]
    if flat:
        raise ScalinglabError(
            f"the {which} law has an exponent for {flat} but the sweep has one value of it; "
            f"drop it from the {which} inputs (e.g. lr_inputs=('D',))."
        )
    if len(keys) < len(names) + 2:
        raise ScalinglabError(
            f"the {which} law has {len(names) + 1} parameters but the sweep has {len(keys)} (N, D) cells; "
            "add cells or fewer inputs."
        )
    return names


def fit_hparams(
    N: np.ndarray,
    D: np.ndarray,
    lr: np.ndarray,
    bs: np.ndarray,
    loss: np.ndarray,
    *,
    method: str = "band",
    threshold: float = 0.0025,
    fit_band: float = 0.02,
    resample: str = "cells",
    bootstrap: int = 1000,
    seed: int = 0,
    lr_inputs: Sequence[str] = ("N", "D"),
    bs_inputs: Sequence[str] = ("D",),
    wd: np.ndarray | None = None,
) -> HparamFit:
    """Fit ``lr_opt`` and ``B_opt`` power laws to a learning-rate x batch-size sweep.

    Parameters
    ----------
    N, D, lr, bs, loss : numpy.ndarray
        One value per run: parameters, training tokens, peak learning rate,
        batch size **in tokens** (multiply sequences by the sequence length)
        and final (ideally smoothed) loss. All must be finite and > 0.
    method : {"band", "quadratic"}
        ``band``: Step Law's procedure (runs within ``threshold`` of the best
        loss of their cell, pooled OLS, bootstrap over those runs).
        ``quadratic``: one smooth local optimum per cell (see module docs).
    threshold : float
        Band width, relative to the cell's best loss (Step Law: 0.0025).
    fit_band : float
        Runs within this relative loss of the best are used for the local quadratic.
    resample : {"cells", "runs"}
        What the band method's bootstrap resamples: whole cells (default,
        calibrated) or kept runs pooled over cells (Step Law's code).
    bootstrap : int
        Bootstrap replicates (0: no intervals).
    seed : int
        Seed; results are deterministic given it.
    lr_inputs, bs_inputs : sequence of {"N", "D", "C"}
        Inputs of each law (``C = 6 N D``). Step Law: ("N", "D") and ("D",);
        DeepSeek: ("C",) for both.
    wd : numpy.ndarray, optional
        Weight decay per run. Adds ``wd_law``, the optimal AdamW timescale as a
        power law in D/N (:func:`scalinglab.analysis.weight_decay.fit_timescale`,
        with ``fit_band``, ``bootstrap`` and ``seed``); the lr and batch laws are
        then fitted to each (N, D, lr, batch)'s best loss over weight decays.

    Returns
    -------
    HparamFit

    Examples
    --------
    >>> fit = fit_hparams(N, D, lr, bs_sequences * 2048, smooth_loss)  # doctest: +SKIP
    >>> fit.lr_law.params  # doctest: +SKIP
    {'coef': ..., 'N': ..., 'D': ...}
    """
    _check_method(method)
    if resample not in ("cells", "runs"):
        raise ScalinglabError(f"resample must be 'cells' or 'runs'; got {resample!r}.")
    timescale = None
    if wd is not None:
        from .weight_decay import best_over_weight_decay, fit_timescale

        timescale = fit_timescale(
            N, D, lr, bs, wd, loss, fit_band=fit_band, bootstrap=bootstrap, seed=seed
        )
        N, D, lr, bs, loss = best_over_weight_decay(N, D, lr, bs, loss)
    sweep = _sweep(N, D, lr, bs, loss)
    lr_inputs = _check_inputs(lr_inputs, sweep.cell_keys, "lr")
    bs_inputs = _check_inputs(bs_inputs, sweep.cell_keys, "batch-size")
    rng = np.random.default_rng(seed)
    if method == "band":
        cells, laws = _fit_band(
            sweep, threshold, bootstrap, rng, lr_inputs, bs_inputs, resample
        )
    else:
        cells, laws = _fit_quadratic(
            sweep, fit_band, bootstrap, rng, lr_inputs, bs_inputs
        )
    keys = sweep.cell_keys
    inputs = _law_inputs(keys[:, 0], keys[:, 1])
    settings = dict(
        threshold=threshold,
        fit_band=fit_band,
        resample=resample,
        bootstrap=bootstrap,
        seed=seed,
        batch_unit="tokens",
        point="bootstrap mean" if method == "band" and bootstrap else "ols",
    )
    ranges = {k: (float(v.min()), float(v.max())) for k, v in inputs.items()}
    found = _diagnose(cells, method) + _narrow_inputs(ranges, lr_inputs, bs_inputs)
    if timescale is None:
        return HparamFit(*laws, cells, method, settings, ranges, found)
    tpp = [x.D / x.N for x in timescale.lines if x.bracketed]
    ranges["TPP"] = (float(min(tpp)), float(max(tpp)))
    return HparamFit(
        *laws,
        cells,
        method,
        settings,
        ranges,
        found + timescale.diagnostics,
        timescale.law,
        timescale.lines,
    )


def _design_rows(names: tuple[str, ...], inputs: dict[str, np.ndarray]) -> np.ndarray:
    n = len(next(iter(inputs.values())))
    return np.column_stack([np.ones(n)] + [np.log(inputs[k]) for k in names])


def _fit_band(sweep, threshold, bootstrap, rng, lr_inputs, bs_inputs, resample="cells"):
    keep = np.flatnonzero(np.abs(sweep.relative_excess()) < threshold)
    inputs = _law_inputs(sweep.N[keep], sweep.D[keep])
    lr, bs = sweep.lr[keep], sweep.bs[keep]
    laws = []
    if bootstrap:
        counts = _band_counts(sweep, keep, bootstrap, rng, resample)
    for name, names, target in (("lr", lr_inputs, lr), ("batch_tokens", bs_inputs, bs)):
        draws = point = None
        if bootstrap:
            draws = _batched_ols(_design_rows(names, inputs), np.log(target), counts)
            point = draws.mean(axis=0)
            if resample == "cells":
                draws = point + _cluster_factor(len(sweep.cell_keys), len(point)) * (
                    draws - point
                )
        laws.append(
            fit_power_law(
                name, {k: inputs[k] for k in names}, target, draws=draws, point=point
            )
        )
    cells = tuple(
        _cell_band(sweep, k, np.isin(np.arange(sweep.N.size), keep))
        for k in range(len(sweep.cell_keys))
    )
    return cells, laws


def _band_counts(sweep, keep, bootstrap, rng, resample) -> np.ndarray:
    """(B, kept runs) resampling weights: per run, or its cell's count when cells are resampled."""
    if resample == "runs":
        return _resample_counts(keep.size, bootstrap, rng)
    return _resample_counts(len(sweep.cell_keys), bootstrap, rng)[:, sweep.cell[keep]]


def _cluster_factor(cells: int, coefficients: int) -> float:
    """sqrt(G / (G - p)): a cluster bootstrap's spread is biased low by about (G - p) / G."""
    if cells <= coefficients:
        raise ScalinglabError(
            f"the cell bootstrap needs more cells than coefficients; got {cells} cells for "
            f"{coefficients} coefficients. Add (N, D) cells or pass resample='runs'."
        )
    return float(np.sqrt(cells / (cells - coefficients)))


def _fit_quadratic(sweep, fit_band, bootstrap, rng, lr_inputs, bs_inputs):
    results = [
        _cell_quadratic(sweep, k, fit_band, bootstrap, rng)
        for k in range(len(sweep.cell_keys))
    ]
    cells = tuple(cell for cell, _ in results)
    inputs = _law_inputs(sweep.cell_keys[:, 0], sweep.cell_keys[:, 1])
    optimum = {
        "lr": np.array([c.lr for c in cells]),
        "batch_tokens": np.array([c.batch_tokens for c in cells]),
    }
    laws = []
    if bootstrap:
        cell_draws = np.stack(
            [d for _, d in results], axis=1
        )  # (B, cells, 2) log optima
        z = rng.standard_normal((bootstrap, len(cells)))
    for column, (name, names) in enumerate(
        (("lr", lr_inputs), ("batch_tokens", bs_inputs))
    ):
        draws = None
        if bootstrap:
            design = _design_rows(names, inputs)
            targets = cell_draws[:, :, column]
            tau = _excess_scatter(design, np.log(optimum[name]), targets)
            draws = _ols_per_draw(design, targets + tau * z, np.ones_like(targets))
        laws.append(
            fit_power_law(
                name, {k: inputs[k] for k in names}, optimum[name], draws=draws
            )
        )
    return cells, laws


def _excess_scatter(design: np.ndarray, target: np.ndarray, draws: np.ndarray) -> float:
    """SD of the cell optima about the law beyond their within-cell spread.

    ``tau^2 = max(0, s^2 - mean v_i)``: ``s^2`` the OLS residual variance on
    ``n - p`` degrees of freedom, ``v_i`` the variance of cell i's draws (B, n).
    """
    n, p = design.shape
    if n <= p:
        return 0.0
    coef = np.linalg.lstsq(design, target, rcond=None)[0]
    s2 = float(np.sum((target - design @ coef) ** 2)) / (n - p)
    return float(np.sqrt(max(0.0, s2 - float(np.mean(np.var(draws, axis=0, ddof=1))))))


def _ols_per_draw(
    design: np.ndarray, targets: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """OLS per replicate with replicate-specific targets (B, n) and weights (B, n)."""
    gram = np.einsum("bn,np,nq->bpq", counts, design, design)
    moment = np.einsum("bn,np,bn->bp", counts, design, targets)
    return np.einsum("bpq,bq->bp", np.linalg.pinv(gram), moment)


#: An input spanning less than this factor cannot carry an exponent.
_NARROW_FACTOR = 1.5


def _narrow_inputs(ranges: dict, lr_inputs, bs_inputs) -> tuple[Diagnostic, ...]:
    """Warn when a law's input barely varies over the cells (e.g. an MoE sweep at one
    total N): its exponent is then set by noise, and the coefficient with it."""
    found = []
    for law, names in (("lr", lr_inputs), ("batch-size", bs_inputs)):
        for name in names:
            low, high = ranges[name]
            if high < _NARROW_FACTOR * low:
                found.append(
                    Diagnostic(
                        "input_not_spread",
                        f"the {law} law's input {name} spans only {low:.4g}-{high:.4g} "
                        f"(a factor {high / low:.4g}): its exponent is not identified. "
                        f"Leave {name} out of the law's inputs, or give a column that "
                        "varies (for MoE, the active parameters).",
                        details={"law": law, "input": name, "range": [low, high]},
                    )
                )
    return tuple(found)


def _diagnose(cells: tuple[CellOptimum, ...], method: str) -> tuple[Diagnostic, ...]:
    found = []
    for c in cells:
        if not c.bracketed:
            found.append(
                Diagnostic(
                    "optimum_not_bracketed",
                    f"cell N={c.N:.3g}, D={c.D:.3g}: the smooth optimum is not inside the sampled "
                    f"(lr, batch) box or the surface is not convex there; the box edge or argmin was "
                    "used. Extend the sweep past the best learning rate and batch size.",
                    details={"N": c.N, "D": c.D},
                )
            )
        if method == "band" and c.n_used < 2:
            found.append(
                Diagnostic(
                    "thin_band",
                    f"cell N={c.N:.3g}, D={c.D:.3g}: only the best run is within the threshold; "
                    "the band carries no information about the shape of the optimum.",
                    severity="info",
                    details={"N": c.N, "D": c.D},
                )
            )
    return tuple(found)
