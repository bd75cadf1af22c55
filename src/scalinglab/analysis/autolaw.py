"""``--law auto``: choose the law that extrapolated best on the user's own runs.

Every candidate law (by default each registered law whose inputs the run table
has) is scored by rolling-origin extrapolation on the compute levels: fold k
fits on the k smallest levels of ``C`` (:func:`~scalinglab.analysis.validation.
split_rolling`) and predicts every larger level. Each prediction gives a log
error ``e`` at a distance ``d``, the decades of compute between it and the
fold's largest fitted run (the same for every law, so the scores compare). As
in the interval estimator (:mod:`scalinglab.fit.extrapolation`; here the run
scatter is kept, it is part of the error), a fold's error is its
root-mean-square log error per decade, and folds count by the share ``s_k`` of
the rows they were fitted on. The score is the trend of those errors read at
the fit on every row (``s = 1``):

.. math::

    \\tau_k = \\sqrt{\\frac{\\sum_{i \\in k} e_i^2}{\\sum_{i \\in k} d_i^2}},
    \\qquad \\log \\tau_k \\approx a + b\\, s_k \\ \\text{(least squares, weights } s_k),
    \\qquad \\text{holdout\\_error} = e^{a + b}.

So a fold fitted on two small levels counts for little, a law whose error grows
faster than the distance scores worse than one whose error stays in proportion,
a law whose fold errors grow as its fits get more data (its shape fails further
out) scores worse than its average fold, and ``holdout_error`` reads as the
relative error one decade beyond the data. With fewer than :data:`TREND_FOLDS`
folds ``b = 0``.

The default law (``chinchilla``, else the scored law with the fewest free
parameters) is left only for a law that beats it clearly and beyond the noise
of the folds: its error per decade must be at least :data:`CLOSE` lower (not a
near tie), and when the runs are resampled (a paired run bootstrap of both
laws' held-out errors, :data:`RESAMPLES` draws, seeded; the fold fits are not
redone, so this is the noise of the held-out runs, not of the fits) it must
score lower in at least :data:`CONFIDENT` of them, Bonferroni-corrected for the
number of challengers (the best of three is the best of three draws: 98.3%).
Otherwise the default is kept, and the notes say so. Candidates whose fit on
every run is at a parameter bound or did not converge are not scored (the
notes name why): their extrapolations rest on a fit the diagnostics already
flag.

When it is trustworthy: the choice is itself an extrapolation, from the
largest levels inside the data to those beyond them. With fewer than
:data:`FEW_LEVELS` compute levels there are one or two scored folds and the
ranking rests on a handful of points, and a law whose shape only fails beyond
the data (a pure power law without irreducible loss, ``kaplan``, on the Gadre
and OLMo ladders) can look best inside it: read the ranking, its margin and the
confidence, not only the winner.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

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
# The law kept unless another one extrapolates better beyond the folds' noise.
DEFAULT = "chinchilla"
# Below this many compute levels the ranking rests on one or two folds.
FEW_LEVELS = 5
# A margin below this (relative) between the best two laws is called a near tie.
CLOSE = 0.1
# Share of run resamples in which a challenger must beat the default.
CONFIDENT = 0.95
RESAMPLES = 1000
# Folds needed to project the fold errors' trend to the fit on every row.
TREND_FOLDS = 3
# Floor of a fold's error per decade (an exact fit), so its log is finite.
TINY = 1e-12
# Diagnostics of the fit on every run that exclude a candidate.
EXCLUDING = ("at_bound", "not_converged")


@dataclass(frozen=True)
class Candidate:
    """One law's rolling-origin score.

    Attributes
    ----------
    law : the law's name.
    holdout_error : RMS log error per decade of compute beyond each fold's fitted
        runs, projected to the fit on every row (module docstring; inf when the law
        was not scored). The ranking's score.
    n_heldout : held-out predictions scored (a row counts once per fold).
    error : why the law was not scored, or None.
    median_error : median |predicted / actual - 1| of all held-out predictions, at
        whatever distance (inf when not scored); ``--average`` weights by it.
    log_errors : log(predicted / actual) per fold and row (folds, rows), NaN where
        the row was not held out (empty when not scored or reloaded).
    """

    law: str
    holdout_error: float
    n_heldout: int
    error: str | None = None
    median_error: float = math.inf
    log_errors: np.ndarray = field(
        default_factory=lambda: np.empty((0, 0)), repr=False, compare=False
    )

    def to_dict(self) -> dict:
        return {
            "law": self.law,
            "holdout_error": _finite_or_none(self.holdout_error),
            "n_heldout": self.n_heldout,
            "error": self.error,
            "median_error": _finite_or_none(self.median_error),
        }


@dataclass(frozen=True)
class LawChoice:
    """The ranking of candidate laws and the one chosen.

    Attributes
    ----------
    law : name of the chosen law: the best-scoring one when it beat ``default``
        clearly in at least ``needed`` of the run resamples, else ``default``.
    ranking : every candidate, best ``holdout_error`` first; unscored laws last.
    margin : the best other scored law's error over the chosen law's, minus 1
        (0.25: the next law is 25% worse; negative: a law scored better, but not
        beyond the noise); None with a single scored law.
    folds : how many rolling-origin folds were fitted.
    levels : how many compute levels the runs have.
    notes : when the choice is weak (few levels, a near tie, the default kept).
    default : the law kept unless another beats it beyond the noise.
    confidence : share of the run resamples in which the best-scoring law beat
        ``default``; None when ``default`` scored best.
    needed : the confidence needed to leave ``default``: :data:`CONFIDENT`,
        Bonferroni-corrected for the number of other scored laws.
    """

    law: str
    ranking: tuple[Candidate, ...]
    margin: float | None
    folds: int
    levels: int
    notes: tuple[str, ...]
    default: str | None = None
    confidence: float | None = None
    needed: float = CONFIDENT

    def to_dict(self) -> dict:
        return {
            "law": self.law,
            "ranking": [c.to_dict() for c in self.ranking],
            "margin": self.margin,
            "default": self.default,
            "confidence": self.confidence,
            "needed": self.needed,
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
    runs,
    laws: Sequence[str | Law] | None = None,
    *,
    objective: str | None = None,
    seed: int = 0,
) -> LawChoice:
    """Rank ``laws`` (default :func:`candidate_laws`) by rolling-origin extrapolation
    error and keep the default law unless another beats it beyond the noise.

    Parameters
    ----------
    runs : a :class:`~scalinglab.data.RunTable` with a compute column ``C``.
    laws : candidate laws by name, formula or :class:`Law`.
    objective : the fitting objective of every fold fit (default: each law's own).
    seed : seeds the run resamples of the paired comparison.

    Returns
    -------
    LawChoice

    Raises
    ------
    ScalinglabError
        Fewer than three compute levels, no candidate, or no candidate that
        could be fitted and passed the diagnostics.

    Examples
    --------
    >>> choice = choose_law(runs)  # doctest: +SKIP
    >>> choice.law, choice.margin, choice.confidence  # doctest: +SKIP
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
    folds = _Folds.of(runs, splits)
    scored = [_score(law, runs, splits, folds, objective) for law in candidates]
    ranking = tuple(
        sorted(scored, key=lambda c: (c.error is not None, c.holdout_error))
    )
    if ranking[0].error is not None:
        raise ScalinglabError(
            "no candidate law could be fitted on the rolling-origin folds and pass "
            "the diagnostics: " + "; ".join(f"{c.law}: {c.error}" for c in ranking)
        )
    default = _default(ranking, {law.name: law for law in candidates})
    confidence, needed = _confidence(ranking, default, folds, seed)
    chosen, kept = _decide(ranking[0], default, confidence, needed)
    margin = _margin(ranking, chosen)
    return LawChoice(
        law=chosen.law,
        ranking=ranking,
        margin=margin,
        folds=len(splits),
        levels=levels,
        notes=tuple(_notes(ranking, chosen, kept, margin, confidence, levels)),
        default=default.law,
        confidence=confidence,
        needed=needed,
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
    choice = choose_law(
        runs,
        candidates,
        objective=options.get("objective"),
        seed=options.get("seed", 0),
    )
    law = next(c for c in candidates if c.name == choice.law)
    result = fit(law, runs, **options)
    settings = {**result.settings, "law_selection": choice.to_dict()}
    return replace(result, settings=settings), choice


@dataclass(frozen=True)
class _Folds:
    """What every law's score shares: the folds' distances, shares and the runs.

    Attributes
    ----------
    decades : (folds, rows) decades of compute between each held-out row and its
        fold's largest fitted run; NaN where the row was fitted.
    shares : (folds,) share of the rows each fold was fitted on.
    runs : (rows,) run index of each row (resampled together).
    """

    decades: np.ndarray
    shares: np.ndarray
    runs: np.ndarray

    @classmethod
    def of(cls, runs, splits: Sequence[Split]) -> _Folds:
        C = runs.array(BY)
        decades = np.full((len(splits), C.size), np.nan)
        for k, split in enumerate(splits):
            reach = np.log10(C[split.heldout] / C[split.train].max())
            decades[k, split.heldout] = reach
        shares = np.array([split.train.mean() for split in splits])
        return cls(decades, shares, runs.runs())

    def score(self, log_errors: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The folds' RMS log error per decade projected to the fit on every row, one
        per row of ``counts`` (draws, rows): how many times each row is drawn.

        ``log tau_k`` is regressed on the share of rows fold k was fitted on (weighted
        by that share) and read at share 1; with fewer than :data:`TREND_FOLDS` folds
        the slope is 0 (the share-weighted geometric mean).
        """
        held = np.isfinite(self.decades)
        squares = np.where(held, np.nan_to_num(log_errors) ** 2, 0.0) @ counts.T
        reach = np.where(held, np.nan_to_num(self.decades) ** 2, 0.0) @ counts.T
        drawn = reach > 0  # (folds, draws); a fold none of whose rows was drawn drops
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = np.where(drawn, np.sqrt(squares / reach), 1.0)
        y = np.log(np.maximum(tau, TINY))
        w = np.where(drawn, self.shares[:, None], 0.0)
        x = self.shares[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):  # NaN: no fold drawn
            x_mean = (w * x).sum(0) / w.sum(0)
            y_mean = (w * y).sum(0) / w.sum(0)
            spread = (w * (x - x_mean) ** 2).sum(0)
            slope = (w * (x - x_mean) * (y - y_mean)).sum(0) / spread
        slope = np.where(drawn.sum(0) >= TREND_FOLDS, slope, 0.0)
        return np.exp(y_mean + slope * (1.0 - x_mean))

    def confidence(self, challenger: Candidate, default: Candidate, seed: int) -> float:
        """Share of run resamples in which ``challenger`` scores below ``default``
        (both laws' errors on the same resampled runs: a paired comparison). A
        resample that draws no held-out row scores neither and is not counted."""
        rng = np.random.default_rng(seed)
        n_runs = int(self.runs.max()) + 1
        drawn = rng.multinomial(n_runs, np.full(n_runs, 1.0 / n_runs), RESAMPLES)
        counts = drawn[:, self.runs].astype(float)
        ours = self.score(challenger.log_errors, counts)
        theirs = self.score(default.log_errors, counts)
        scored = np.isfinite(ours) & np.isfinite(theirs)
        return float(np.mean(ours[scored] < theirs[scored]))


def _score(
    law: Law, runs, splits: Sequence[Split], folds: _Folds, objective: str | None
) -> Candidate:
    options = {"objective": objective, "bootstrap": 0, "extrapolation": None}
    log_errors = np.full(folds.decades.shape, np.nan)
    try:
        flagged = _excluding(fit(law, runs, **options))
        if flagged:
            return Candidate(law.name, math.inf, 0, f"its fit on every run {flagged}")
        for k, split in enumerate(splits):
            result = fit(law, runs.subset(split.train), **options)
            held = runs.subset(split.heldout)
            predicted = result.predict(**{n: held.array(n) for n in law.inputs})
            log_errors[k, split.heldout] = np.log(predicted / held.array("loss"))
    except ScalinglabError as why:
        return Candidate(law.name, math.inf, 0, str(why))
    held = np.isfinite(folds.decades)
    if not np.all(np.isfinite(log_errors[held])):
        return Candidate(law.name, math.inf, 0, "non-finite held-out predictions")
    score = folds.score(log_errors, np.ones((1, log_errors.shape[1])))[0]
    median = float(np.median(np.abs(np.expm1(log_errors[held]))))
    return Candidate(law.name, float(score), int(held.sum()), None, median, log_errors)


def _excluding(result: FitResult) -> str:
    """Why the diagnostics of ``result`` exclude it from the ranking ('' when they do not)."""
    found = [d.message for d in result.diagnostics if d.code in EXCLUDING]
    return ("fails the diagnostics: " + " ".join(found)) if found else ""


def _default(ranking: Sequence[Candidate], laws: dict[str, Law]) -> Candidate:
    """:data:`DEFAULT` when scored, else the scored law with the fewest free parameters."""
    scored = [c for c in ranking if c.error is None]
    named = [c for c in scored if c.law == DEFAULT]
    if named:
        return named[0]
    return min(scored, key=lambda c: len(laws[c.law].free_params))


def _margin(ranking: Sequence[Candidate], chosen: Candidate) -> float | None:
    others = [c for c in ranking if c.error is None and c.law != chosen.law]
    if not others:
        return None
    return float(_ratio(others[0].holdout_error, chosen.holdout_error) - 1.0)


def _confidence(
    ranking: Sequence[Candidate], default: Candidate, folds: _Folds, seed: int
) -> tuple[float | None, float]:
    """How often the best law beat ``default`` over the run resamples (None when it is
    ``default``), and how often it must: :data:`CONFIDENT`, Bonferroni-corrected for
    the other scored laws, each a challenger."""
    challengers = sum(c.error is None for c in ranking) - 1
    needed = 1.0 - (1.0 - CONFIDENT) / max(challengers, 1)
    if ranking[0].law == default.law:
        return None, needed
    return folds.confidence(ranking[0], default, seed), needed


def _decide(
    best: Candidate, default: Candidate, confidence: float | None, needed: float
) -> tuple[Candidate, str | None]:
    """The chosen law and, when ``default`` is kept against a better-scoring law, why.

    ``best`` replaces ``default`` only when its error per decade is at least
    :data:`CLOSE` lower (not a near tie) and it scored lower in at least ``needed``
    of the paired run resamples (beyond the noise of the folds).
    """
    if confidence is None:
        return best, None
    lead = _ratio(default.holdout_error, best.holdout_error) - 1.0
    if lead < CLOSE:
        return default, (
            f"{default.law}'s error per decade is only {lead:.0%} above {best.law}'s, "
            f"a near tie (leaving the default needs {CLOSE:.0%})"
        )
    if confidence < needed:
        return default, (
            f"{default.law}'s error per decade is {lead:.0%} above {best.law}'s, but "
            f"{best.law} scored lower in only {confidence:.1%} of {RESAMPLES} run "
            f"resamples (needs {needed:.1%}): "
            "not beyond the noise of the folds"
        )
    return best, None


def _ratio(value: float, other: float) -> float:
    return math.inf if other == 0 else value / other


def _notes(ranking, chosen, kept, margin, confidence, levels: int) -> list:
    notes = []
    if levels < FEW_LEVELS:
        notes.append(
            f"only {levels} compute levels: the ranking rests on few held-out points; "
            "treat the choice as a hint, not a finding"
        )
    if kept is not None:
        notes.append(
            f"{kept}, so the default {chosen.law} is kept; where no law wins beyond "
            "the noise, --average (the laws weighted by their held-out error) "
            "predicted better than any single law on the shared ladders (docs/laws.md)"
        )
    elif confidence is not None:
        notes.append(
            f"{chosen.law} beat the default in {confidence:.1%} of {RESAMPLES} run "
            "resamples"
        )
    if margin is not None and 0 <= margin < CLOSE:
        notes.append(
            f"{chosen.law} and the next law extrapolated within {margin:.0%} of each "
            "other: a near tie, either law is defensible"
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
    choice : the ranking auto made from the other rows.
    """

    chosen: str
    errors: dict[str, float]
    auto_error: float
    best: str
    n_heldout: int
    average_error: float
    choice: LawChoice

    def to_dict(self) -> dict:
        return {
            "chosen": self.chosen,
            "auto_error": self.auto_error,
            "best": self.best,
            "best_error": self.errors[self.best],
            "errors": dict(self.errors),
            "n_heldout": self.n_heldout,
            "average_error": self.average_error,
            "ranked_first": self.choice.ranking[0].law,
            "default": self.choice.default,
            "confidence": self.choice.confidence,
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
        choice,
    )


def inverse_error_weights(choice: LawChoice) -> dict[str, float]:
    """``--average``'s weights: each scored law's 1 / median_error, normalised to sum to 1."""
    inverse = {
        c.law: 1.0 / max(c.median_error, 1e-12)
        for c in choice.ranking
        if c.error is None and math.isfinite(c.median_error)
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


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
