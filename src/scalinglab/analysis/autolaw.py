"""``--law auto``: choose the law that extrapolated best on the user's own runs.

Every candidate law (by default each registered law whose inputs the run table
has) is scored by rolling-origin extrapolation on the compute levels: fold k
fits on the k smallest levels of ``C`` (:func:`~scalinglab.analysis.validation.
split_rolling`) and predicts every larger level, so the score weighs near and
far extrapolation alike, as the real question (beyond everything measured) does.
A law's ``holdout_error`` is the median absolute relative error of all these
held-out predictions; the lowest wins and is then fitted on every run.

On the shared ladders (``benchmarks/bench_autolaw.py``, docs/laws.md) the
choice is not reliably better than the default ``chinchilla`` law: a law that
extrapolated best inside the data (``kaplan`` on the Gadre and OLMo ladders)
can still be the worst beyond it. Read the ranking and its margin, not only
the winner; averaging the candidates by the same scores
(:mod:`scalinglab.analysis.lawaverage`, ``--average``) did better there than
any single law.

When it is trustworthy: the choice is itself an extrapolation, from the
largest levels inside the data to those beyond them. With fewer than
:data:`FEW_LEVELS` compute levels there are one or two scored folds and the
ranking rests on a handful of points; a margin of a few percent between the
top two laws is within the noise of that ranking. Both are stated in ``notes``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..errors import ScalinglabError
from ..fit.api import fit
from ..fit.extrapolation import scale_levels
from ..fit.result import FitResult
from ..laws.base import Law
from ..laws.registry import all_laws, get_law
from .validation import Split, split_rolling

__all__ = [
    "Candidate",
    "ChoiceCheck",
    "LawChoice",
    "candidate_laws",
    "check_choice",
    "choose_law",
    "fit_best",
    "inverse_error_weights",
]

BY = "C"
# Below this many compute levels the ranking rests on one or two folds.
FEW_LEVELS = 5
# A margin below this (relative) between the best two laws is called a near tie.
CLOSE = 0.1


@dataclass(frozen=True)
class Candidate:
    """One law's rolling-origin score.

    Attributes
    ----------
    law : the law's name.
    holdout_error : median |predicted / actual - 1| over every fold's held-out
        rows (inf when the law could not be fitted).
    n_heldout : held-out predictions scored (a row counts once per fold).
    error : why the law was not scored, or None.
    """

    law: str
    holdout_error: float
    n_heldout: int
    error: str | None = None

    def to_dict(self) -> dict:
        return {
            "law": self.law,
            "holdout_error": self.holdout_error
            if math.isfinite(self.holdout_error)
            else None,
            "n_heldout": self.n_heldout,
            "error": self.error,
        }


@dataclass(frozen=True)
class LawChoice:
    """The ranking of candidate laws and the one chosen.

    Attributes
    ----------
    law : name of the chosen law (the best ``holdout_error``).
    ranking : every candidate, best first; unscored laws last.
    margin : the runner-up's error over the winner's, minus 1 (0.25: 25% worse);
        None with a single scored law.
    folds : how many rolling-origin folds were fitted.
    levels : how many compute levels the runs have.
    notes : when the choice is weak (few levels, a near tie).
    """

    law: str
    ranking: tuple[Candidate, ...]
    margin: float | None
    folds: int
    levels: int
    notes: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "law": self.law,
            "ranking": [c.to_dict() for c in self.ranking],
            "margin": self.margin,
            "by": BY,
            "folds": self.folds,
            "levels": self.levels,
            "notes": list(self.notes),
        }


def candidate_laws(runs) -> list[Law]:
    """The registered laws of model scale (an ``N`` or ``C`` input) whose inputs are
    all columns of ``runs``; a law of ``D`` alone (``rectified``: fine-tuning data)
    answers another question."""
    return [
        law
        for law in all_laws()
        if {"N", "C"} & set(law.inputs) and all(runs.has(n) for n in law.inputs)
    ]


def choose_law(
    runs, laws: Sequence[str | Law] | None = None, *, objective: str | None = None
) -> LawChoice:
    """Rank ``laws`` (default :func:`candidate_laws`) by rolling-origin extrapolation error.

    Parameters
    ----------
    runs : a :class:`~scalinglab.data.RunTable` with a compute column ``C``.
    laws : candidate laws by name, formula or :class:`Law`.
    objective : the fitting objective of every fold fit (default: each law's own).

    Returns
    -------
    LawChoice

    Raises
    ------
    ScalinglabError
        Fewer than three compute levels, no candidate, or no candidate that
        could be fitted on the folds.

    Examples
    --------
    >>> choice = choose_law(runs)  # doctest: +SKIP
    >>> choice.law, choice.ranking[0].holdout_error  # doctest: +SKIP
    """
    candidates = [get_law(law) for law in laws] if laws else candidate_laws(runs)
    if not candidates:
        raise ScalinglabError(
            "no registered law takes only columns this run table has; name the laws "
            "to compare or map the columns they need (--U, --input NAME=COLUMN)."
        )
    levels = int(np.unique(scale_levels(runs.array(BY))).size)
    # Each fold predicts every larger level, as far as the data reach.
    splits = [
        Split(s.train, ~s.train, s.description, s.fold) for s in split_rolling(runs, BY)
    ]
    scored = [_score(law, runs, splits, objective) for law in candidates]
    ranking = sorted(scored, key=lambda c: (c.error is not None, c.holdout_error))
    if ranking[0].error is not None:
        raise ScalinglabError(
            "no candidate law could be fitted on the rolling-origin folds: "
            + "; ".join(f"{c.law}: {c.error}" for c in ranking)
        )
    margin = _margin(ranking)
    return LawChoice(
        law=ranking[0].law,
        ranking=tuple(ranking),
        margin=margin,
        folds=len(splits),
        levels=levels,
        notes=tuple(_notes(ranking, margin, levels)),
    )


def fit_best(
    runs, laws: Sequence[str | Law] | None = None, **options
) -> tuple[FitResult, LawChoice]:
    """Choose a law with :func:`choose_law` and fit it on every run.

    ``options`` go to :func:`scalinglab.fit` (objective, bootstrap, seed, ...). The
    ranking is recorded in the result's ``settings["law_selection"]``, so a saved
    fit says how its law was chosen; it predicts like any other fit.
    """
    candidates = [get_law(law) for law in laws] if laws else candidate_laws(runs)
    choice = choose_law(runs, candidates, objective=options.get("objective"))
    law = next(c for c in candidates if c.name == choice.law)
    result = fit(law, runs, **options)
    settings = {**result.settings, "law_selection": choice.to_dict()}
    return replace(result, settings=settings), choice


def _score(law: Law, runs, splits: Sequence[Split], objective: str | None) -> Candidate:
    errors = []
    try:
        for split in splits:
            result = fit(
                law,
                runs.subset(split.train),
                objective=objective,
                bootstrap=0,
                extrapolation=None,
            )
            held = runs.subset(split.heldout)
            predicted = result.predict(**{n: held.array(n) for n in law.inputs})
            errors.append(np.abs(predicted / held.array("loss") - 1.0))
    except ScalinglabError as why:
        return Candidate(law.name, math.inf, 0, str(why))
    pooled = np.concatenate(errors)
    if not np.all(np.isfinite(pooled)):
        return Candidate(law.name, math.inf, 0, "non-finite held-out predictions")
    return Candidate(law.name, float(np.median(pooled)), int(pooled.size))


def _margin(ranking: Sequence[Candidate]) -> float | None:
    scored = [c for c in ranking if c.error is None]
    if len(scored) < 2:
        return None
    best, second = scored[0].holdout_error, scored[1].holdout_error
    return math.inf if best == 0 else float(second / best - 1.0)


def _notes(ranking: Sequence[Candidate], margin: float | None, levels: int) -> list:
    notes = []
    if levels < FEW_LEVELS:
        notes.append(
            f"only {levels} compute levels: the ranking rests on few held-out points; "
            "treat the choice as a hint, not a finding"
        )
    if margin is not None and margin < CLOSE:
        notes.append(
            f"{ranking[0].law} and {ranking[1].law} extrapolated within {margin:.0%} "
            "of each other: a near tie, either law is defensible"
        )
    notes += [f"{c.law} not scored: {c.error}" for c in ranking if c.error]
    return notes


@dataclass(frozen=True)
class ChoiceCheck:
    """How the auto choice did on the largest compute levels, held out from it.

    Attributes
    ----------
    chosen : the law auto chose from the other rows.
    errors : every candidate's median |rel error| on the held-out rows when
        fitted on the other rows (inf when it could not be fitted).
    auto_error : the chosen law's entry in ``errors``.
    best : the law with the lowest held-out error, known only in hindsight.
    n_heldout : rows held out.
    average_error : the same error of ``--average`` (the candidates weighted by
        :func:`inverse_error_weights`).
    """

    chosen: str
    errors: dict[str, float]
    auto_error: float
    best: str
    n_heldout: int
    average_error: float

    def to_dict(self) -> dict:
        return {
            "chosen": self.chosen,
            "auto_error": self.auto_error,
            "best": self.best,
            "best_error": self.errors[self.best],
            "errors": dict(self.errors),
            "n_heldout": self.n_heldout,
            "average_error": self.average_error,
        }


def check_choice(
    runs, *, top: float = 0.2, laws: Sequence[str | Law] | None = None
) -> ChoiceCheck:
    """Hold out the largest ``top`` share of rows by compute, choose a law on the rest,
    and score it, the ``--average`` of the candidates and every candidate alone on the
    held-out rows.

    This is the test of ``--law auto`` itself: the choice never sees the held-out
    rows, and ``best`` is the law a user would have picked in hindsight.
    """
    from .validation import split_top

    split = split_top(runs, top, by=BY)
    train, held = runs.subset(split.train), runs.subset(split.heldout)
    candidates = [get_law(law) for law in laws] if laws else candidate_laws(runs)
    choice = choose_law(train, candidates)
    predicted = {law.name: _heldout_prediction(law, train, held) for law in candidates}
    actual = held.array("loss")
    errors = {name: _median_error(p, actual) for name, p in predicted.items()}
    weights = inverse_error_weights(choice)
    average = sum(w * predicted[name] for name, w in weights.items())
    best = min(errors, key=errors.get)
    return ChoiceCheck(
        choice.law,
        errors,
        errors[choice.law],
        best,
        int(split.heldout.sum()),
        _median_error(average, actual),
    )


def inverse_error_weights(choice: LawChoice) -> dict[str, float]:
    """``--average``'s weights: each scored law's 1 / holdout_error, normalised to sum to 1."""
    inverse = {
        c.law: 1.0 / max(c.holdout_error, 1e-12)
        for c in choice.ranking
        if c.error is None and math.isfinite(c.holdout_error)
    }
    total = sum(inverse.values())
    return {name: value / total for name, value in inverse.items()}


def _heldout_prediction(law: Law, train, held) -> np.ndarray:
    try:
        result = fit(law, train, bootstrap=0, extrapolation=None)
    except ScalinglabError:
        return np.full(len(held), np.nan)
    return result.predict(**{n: held.array(n) for n in law.inputs})


def _median_error(predicted: np.ndarray, actual: np.ndarray) -> float:
    error = float(np.median(np.abs(predicted / actual - 1.0)))
    return error if math.isfinite(error) else math.inf
