"""Extrapolation validation: fit on the small scales, predict the large ones, score the predictions.

A *split* says which rows are fitted and which are held out. Three kinds:

- an expression (``"N >= 1e9"``): held-out rows match a pandas query;
- the top fraction by a scale column (``N``, ``D`` or ``C``): the largest values
  are held out, whole scale levels at a time, until at least that share of rows is;
- rolling origin: the scale column is cut into levels (its distinct values, or
  log-spaced bins when there are many); fold k fits on the k smallest levels and
  predicts level k + 1.

Every held-out point gets its actual and predicted loss, a 95% prediction
interval (:meth:`FitResult.predict_interval` with ``kind="prediction"``), its
relative error and how far beyond the fitted range it lies. A run bootstrap
only knows how the fit moves under resampling, not how wrong the law's shape
is far from the data, so its intervals tend to be too narrow when extrapolating.
``widen="rolling"`` (the default) adds that missing part, as every fit does
(:mod:`scalinglab.fit.extrapolation`): inside the training set it runs
rolling-origin fits, measures the log error of each prediction against its
extrapolation distance ``d`` (decades beyond the fitted range), takes each
fold's root-mean-square error per decade and their median weighted by each
fold's share of the rows as ``tau``, and widens each held-out interval by a
log-normal term of sd ``tau * d``. The estimate uses the training rows only, so
it covers the error the law made extrapolating inside them, not a change (of
shape, or of the runs themselves) beyond them; the notes say when intervals
came out too narrow or more than 3x wider than the errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ScalinglabError
from ..fit.api import fit
from ..fit.bootstrap import offset_progress
from ..fit.extrapolation import COVERS, MAX_LEVELS, ExtrapolationError, scale_levels
from ..laws.base import Law
from ..laws.registry import get_law
from ..report._display import Display

__all__ = [
    "ExtrapolationError",
    "HeldOutPoint",
    "LawScore",
    "Split",
    "Validation",
    "ValidationSummary",
    "compare_laws",
    "make_splits",
    "split_expression",
    "split_rolling",
    "split_top",
    "validate",
]

SCALE_COLUMNS = ("N", "D", "C")
LEVEL = 0.95
# Median half-width over median |error| beyond which intervals are called too wide
# (a calibrated 95% interval on normal errors gives 1.96 / 0.674 = 2.9).
WIDE = 3.0


@dataclass(frozen=True)
class Split:
    """Which rows are fitted (``train``) and which are predicted (``heldout``), as boolean masks."""

    train: np.ndarray
    heldout: np.ndarray
    description: str
    fold: int = 0


@dataclass(frozen=True)
class HeldOutPoint:
    """One held-out row: truth, prediction, 95% interval, error and extrapolation distance.

    ``rel_error`` is (predicted - actual) / actual: positive means the law
    over-predicts the loss (it is pessimistic). ``extrapolation`` is the factor
    beyond the fitted range per scale column (1 inside it); ``decades`` is log10
    of the largest of them.
    """

    row: int
    run: str
    fold: int
    inputs: dict[str, float]
    actual: float
    predicted: float
    ci95: tuple[float, float]
    rel_error: float
    in_ci95: bool
    extrapolation: dict[str, float]
    decades: float

    def to_dict(self) -> dict:
        return {
            "row": self.row,
            "run": self.run,
            "fold": self.fold,
            **self.inputs,
            "actual": self.actual,
            "predicted": self.predicted,
            "ci95": list(self.ci95),
            "rel_error": self.rel_error,
            "in_ci95": self.in_ci95,
            "extrapolation": self.extrapolation,
            "decades": self.decades,
        }


@dataclass(frozen=True)
class ValidationSummary:
    """Scores over all held-out points.

    ``bias`` is the median signed relative error (positive: the law over-predicts
    the loss at the held-out scales). ``coverage`` is the share of actual losses
    inside their 95% interval; ``coverage_p`` is the binomial probability of a
    coverage this low or lower if the intervals were calibrated.
    ``median_half_width`` is the median half-width of the 95% intervals relative
    to the prediction: a calibrated interval on normal errors is about 2.9 times
    the median absolute error.
    """

    n_train: int
    n_heldout: int
    median_abs_rel_error: float
    mean_abs_rel_error: float
    max_abs_rel_error: float
    bias: float
    coverage: float
    coverage_p: float
    max_decades: float
    median_half_width: float = float("nan")

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class Validation(Display):
    """The outcome of :func:`validate`: held-out points, their summary, and the fits behind them."""

    law: str
    description: str
    points: tuple[HeldOutPoint, ...]
    summary: ValidationSummary
    fits: tuple[Any, ...]
    splits: tuple[Split, ...]
    interval: str
    widening: ExtrapolationError | None
    notes: tuple[str, ...]

    @property
    def median_abs_rel_error(self) -> float:
        return self.summary.median_abs_rel_error

    def to_dict(self) -> dict:
        return {
            "law": self.law,
            "holdout": self.description,
            "interval": self.interval,
            "heldout": [p.to_dict() for p in self.points],
            "median_abs_rel_error": self.summary.median_abs_rel_error,
            "summary": self.summary.to_dict(),
            "widening": None if self.widening is None else self.widening.to_dict(),
            "folds": [_fold_dict(f, s) for f, s in zip(self.fits, self.splits)],
            "notes": list(self.notes),
        }


def _fold_dict(result, split: Split) -> dict:
    return {
        "fold": split.fold,
        "description": split.description,
        "n_train": int(split.train.sum()),
        "n_heldout": int(split.heldout.sum()),
        "params": result.params,
        "objective": result.objective,
        "converged": result.converged,
        "diagnostics": [d.to_dict() for d in result.diagnostics],
    }


# -- splits ----------------------------------------------------------------------


def split_expression(runs, expression: str) -> Split:
    """Hold out the rows matching a pandas query such as ``"N >= 1e9"``."""
    frame = runs.frame
    try:
        matched = frame.query(expression).index
    except Exception as err:  # noqa: BLE001  pandas raises many types for a bad expression
        raise InputError(
            f"cannot evaluate the holdout expression {expression!r}: {err}. Columns: "
            f"{', '.join(map(str, frame.columns))}; write names with spaces in backticks.",
            source=runs.source,
        ) from None
    heldout = np.zeros(len(frame), dtype=bool)
    heldout[np.asarray(matched, dtype=np.int64)] = True
    return _checked(runs, Split(~heldout, heldout, f"holdout {expression!r}"))


def split_top(runs, fraction: float, by: str = "N") -> Split:
    """Hold out the largest values of ``by``, whole levels at a time, until >= ``fraction`` of rows."""
    if not 0.0 < fraction < 1.0:
        raise ScalinglabError(
            f"the holdout fraction must lie in (0, 1); got {fraction}."
        )
    values = _scale(runs, by)
    heldout = np.zeros(values.size, dtype=bool)
    for level in np.unique(values)[::-1]:
        heldout |= values == level
        if heldout.mean() >= fraction:
            break
    threshold = values[heldout].min()
    return _checked(
        runs,
        Split(
            ~heldout,
            heldout,
            f"top {fraction:g} of rows by {by} ({by} >= {threshold:.4g})",
        ),
    )


def split_rolling(
    runs, by: str = "N", *, min_levels: int = 2, max_levels: int = MAX_LEVELS
) -> list[Split]:
    """Rolling-origin folds: fold k fits on the k smallest levels of ``by`` and predicts the next one."""
    levels = scale_levels(_scale(runs, by), max_levels)
    present = np.unique(levels)
    if present.size <= min_levels:
        raise ScalinglabError(
            f"rolling validation by {by} needs more than {min_levels} scale levels; the data has "
            f"{present.size}. Use --holdout or --holdout-top instead."
        )
    splits = []
    for fold, (k, nxt) in enumerate(
        zip(present[min_levels - 1 : -1], present[min_levels:])
    ):
        train, heldout = levels <= k, levels == nxt
        desc = f"rolling by {by}: fit on {int(np.sum(present <= k))} smallest levels, predict the next"
        splits.append(Split(train, heldout, desc, fold))
    return splits


def make_splits(
    runs,
    *,
    holdout: str | None = None,
    top: float | None = None,
    by: str = "N",
    rolling: bool = False,
) -> list[Split]:
    """The split(s) for exactly one of ``holdout``, ``top`` or ``rolling``."""
    chosen = [
        name
        for name, on in (("holdout", holdout), ("top", top), ("rolling", rolling))
        if on
    ]
    if len(chosen) != 1:
        raise ScalinglabError(
            'choose exactly one way to hold out data: an expression (--holdout "N>=1e9"), '
            f"the top fraction (--holdout-top 0.2 --by N) or --rolling; got {chosen or 'none'}."
        )
    if holdout:
        return [split_expression(runs, holdout)]
    if top:
        return [split_top(runs, top, by)]
    return split_rolling(runs, by)


def _scale(runs, by: str) -> np.ndarray:
    if by not in SCALE_COLUMNS:
        raise ScalinglabError(
            f"--by must be one of {', '.join(SCALE_COLUMNS)}; got {by!r}."
        )
    return runs.array(by)


def _checked(runs, split: Split) -> Split:
    if not split.heldout.any():
        raise InputError(
            f"{split.description} holds out no rows; nothing to validate.",
            source=runs.source,
        )
    if not split.train.any():
        raise InputError(
            f"{split.description} holds out every row; nothing is left to fit.",
            source=runs.source,
        )
    return split


# -- validation -------------------------------------------------------------------


def validate(
    law: str | Law,
    runs,
    splits: Split | Sequence[Split],
    *,
    objective: str = "huber",
    bootstrap: int = 1000,
    seed: int = 0,
    widen: str | None = "rolling",
    fit_options: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Validation:
    """Fit ``law`` on each split's training rows and score its predictions of the held-out rows.

    Parameters
    ----------
    law : registry name, formula or :class:`~scalinglab.laws.Law`.
    runs : a :class:`~scalinglab.data.RunTable`.
    splits : one :class:`Split` or several (rolling folds); see :func:`make_splits`.
    objective, bootstrap, seed : passed to :func:`scalinglab.fit` (bootstrap must be > 0:
        intervals come from it).
    widen : ``"rolling"`` (default) widens the intervals by a rolling-origin
        estimate of extrapolation error measured inside each training set; None
        leaves them to the bootstrap and run scatter.
    fit_options : further keyword arguments for :func:`scalinglab.fit` (fixed, bounds, ...).
    progress : called as ``progress(done, total)`` with bootstrap replicates done over
        all splits.

    Returns
    -------
    Validation

    Examples
    --------
    >>> validation = validate("chinchilla", runs, make_splits(runs, top=0.2, by="N"))  # doctest: +SKIP
    >>> validation.summary.median_abs_rel_error  # doctest: +SKIP
    """
    law = get_law(law)
    if bootstrap < 1:
        raise ScalinglabError(
            "validation needs bootstrap draws for its intervals; use bootstrap >= 1."
        )
    if widen not in (None, "rolling"):
        raise ScalinglabError(f"widen must be None or 'rolling'; got {widen!r}.")
    splits = [splits] if isinstance(splits, Split) else list(splits)
    options = {
        "objective": objective,
        "bootstrap": bootstrap,
        "seed": seed,
        **(fit_options or {}),
        "extrapolation": widen,
    }
    fits, points = [], []
    total = len(splits) * bootstrap
    for i, split in enumerate(splits):
        part = offset_progress(progress, i * bootstrap, total)
        result = fit(law, runs.subset(split.train), **options, progress=part)
        fits.append(result)
        points.extend(_score(result, runs, split))
    summary = summarize(points, n_train=int(max(s.train.sum() for s in splits)))
    widening = fits[-1].extrapolation_error
    return Validation(
        law=law.name,
        description=splits[0].description
        if len(splits) == 1
        else f"{len(splits)} folds, {splits[0].description}",
        points=tuple(points),
        summary=summary,
        fits=tuple(fits),
        splits=tuple(splits),
        interval="prediction" + _widened(widening),
        widening=widening,
        notes=tuple(_notes(summary, widening)),
    )


def _widened(widening: ExtrapolationError | None) -> str:
    if widening is None:
        return ""
    return f" widened by rolling-origin extrapolation error ({widening.tau:.2%} per decade)"


def _score(result, runs, split: Split) -> list[HeldOutPoint]:
    held = runs.subset(split.heldout)
    inputs = {name: held.array(name) for name in result.law.inputs}
    actual = held.array("loss")
    predicted = result.predict(**inputs)
    distance = _extrapolation(runs.subset(split.train), held)
    decades = np.log10(np.max(np.column_stack(list(distance.values())), axis=1))
    low, high = result.predict_interval(LEVEL, kind="prediction", **inputs)
    rel = (predicted - actual) / actual
    runs_named = held.frame["run"].astype(str).to_numpy()
    return [
        HeldOutPoint(
            row=int(held.row_numbers[i]),
            run=runs_named[i],
            fold=split.fold,
            inputs={k: float(v[i]) for k, v in inputs.items()},
            actual=float(actual[i]),
            predicted=float(predicted[i]),
            ci95=(float(low[i]), float(high[i])),
            rel_error=float(rel[i]),
            in_ci95=bool(low[i] <= actual[i] <= high[i]),
            extrapolation={k: float(v[i]) for k, v in distance.items()},
            decades=float(decades[i]),
        )
        for i in range(actual.size)
    ]


def _extrapolation(train, held) -> dict[str, np.ndarray]:
    """Factor beyond the training range of each scale column (1 inside the range)."""
    out = {}
    for name in SCALE_COLUMNS:
        if not (train.has(name) and held.has(name)):
            continue
        fitted, x = train.array(name), held.array(name)
        out[name] = np.maximum.reduce(
            [x / fitted.max(), fitted.min() / x, np.ones_like(x)]
        )
    return out


def summarize(points: Sequence[HeldOutPoint], *, n_train: int) -> ValidationSummary:
    """Median/mean/max absolute relative error, bias, coverage of the 95% intervals."""
    from scipy.stats import binom

    rel = np.array([p.rel_error for p in points])
    inside = np.array([p.in_ci95 for p in points])
    half = [(p.ci95[1] - p.ci95[0]) / (2 * p.predicted) for p in points]
    return ValidationSummary(
        n_train=n_train,
        n_heldout=int(rel.size),
        median_abs_rel_error=float(np.median(np.abs(rel))),
        mean_abs_rel_error=float(np.mean(np.abs(rel))),
        max_abs_rel_error=float(np.max(np.abs(rel))),
        bias=float(np.median(rel)),
        coverage=float(inside.mean()),
        coverage_p=float(binom.cdf(int(inside.sum()), rel.size, LEVEL)),
        max_decades=float(max(p.decades for p in points)),
        median_half_width=float(np.median(half)),
    )


def _notes(
    summary: ValidationSummary, widening: ExtrapolationError | None
) -> list[str]:
    notes = []
    if summary.coverage_p < 0.05:
        hint = (
            " The law erred more at these scales than in its rolling-origin refits "
            "inside the training rows."
            if widening
            else " Try widen='rolling' (--widen rolling) to add extrapolation error."
        )
        notes.append(
            f"the 95% intervals cover only {summary.coverage:.0%} of {summary.n_heldout} held-out points "
            f"(p = {summary.coverage_p:.2g} if they were calibrated): they are too narrow.{hint}"
        )
    error = summary.median_abs_rel_error
    if error > 0 and summary.median_half_width > WIDE * error:
        notes.append(
            f"the 95% intervals are {summary.median_half_width / error:.1f}x wider than the median "
            f"error (half-width {summary.median_half_width:.2%}, error {error:.2%}; calibrated "
            "intervals are about 3x): the law did better here than its spread suggested."
        )
    if widening is not None:
        notes.append(f"the intervals cover bootstrap spread, run scatter and {COVERS}.")
        if widening.shape_note:
            notes.append(widening.shape_note)
    if abs(summary.bias) > 0.5 * error and error > 0:
        side = "over" if summary.bias > 0 else "under"
        notes.append(
            f"the law {side}-predicts the held-out losses (median signed error {summary.bias:+.2%})."
        )
    return notes


# -- law comparison under one split ------------------------------------------------


@dataclass(frozen=True)
class LawScore:
    """One law's held-out and in-sample scores under a shared split.

    ``in_sample_median_abs_rel_error`` and ``in_sample_rmse_log`` describe the
    fit to the training rows (the last fold's, for rolling splits).
    """

    law: str
    rank: int
    n_params: int
    median_abs_rel_error: float
    bias: float
    coverage: float
    in_sample_median_abs_rel_error: float
    in_sample_rmse_log: float
    objective: float
    converged: bool
    error: str | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def compare_laws(
    laws: Sequence[str | Law],
    runs,
    splits: Split | Sequence[Split],
    *,
    objective: str = "huber",
    bootstrap: int = 200,
    seed: int = 0,
    widen: str | None = "rolling",
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[LawScore], dict[str, Validation]]:
    """Validate every law under the same split(s) and rank them by held-out median error.

    A law that cannot be fitted to these runs (e.g. it needs a column the table
    lacks) is listed last with its error message rather than dropped silently.

    ``progress(done, total)`` counts bootstrap replicates over every law and split.

    Returns
    -------
    (scores, validations) : scores sorted best first; validations by law name.
    """
    splits = [splits] if isinstance(splits, Split) else list(splits)
    scored, validations, failed = [], {}, []
    per_law = len(splits) * bootstrap
    for i, spec in enumerate(laws):
        law = get_law(spec)
        try:
            v = validate(
                law,
                runs,
                splits,
                objective=objective,
                bootstrap=bootstrap,
                seed=seed,
                widen=widen,
                progress=offset_progress(progress, i * per_law, len(laws) * per_law),
            )
        except ScalinglabError as err:
            failed.append((law, str(err)))
            if progress is not None:
                progress((i + 1) * per_law, len(laws) * per_law)
            continue
        validations[law.name] = v
        scored.append((law, v))
    scored.sort(key=lambda item: item[1].summary.median_abs_rel_error)
    scores = [
        _law_score(law, v, runs, rank + 1) for rank, (law, v) in enumerate(scored)
    ]
    nan = float("nan")
    scores += [
        LawScore(
            law.name,
            0,
            len(law.free_params),
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            False,
            message,
        )
        for law, message in failed
    ]
    return scores, validations


def _law_score(law: Law, v: Validation, runs, rank: int) -> LawScore:
    result, split = v.fits[-1], v.splits[-1]
    train = runs.subset(split.train)
    predicted = result.predict(**{n: train.array(n) for n in law.inputs})
    actual = train.array("loss")
    log_err = np.log(predicted / actual)
    return LawScore(
        law=law.name,
        rank=rank,
        n_params=len(law.free_params),
        median_abs_rel_error=v.summary.median_abs_rel_error,
        bias=v.summary.bias,
        coverage=v.summary.coverage,
        in_sample_median_abs_rel_error=float(np.median(np.abs(predicted / actual - 1))),
        in_sample_rmse_log=float(np.sqrt(np.mean(log_err**2))),
        objective=result.objective,
        converged=result.converged,
    )
