"""``--law auto --average``: the candidate laws stacked by their held-out performance.

Each candidate of :func:`~scalinglab.analysis.autolaw.choose_law` is fitted on
every run and weighted by the inverse of its rolling-origin ``median_error``, the
median |relative error| of all its held-out predictions (laws that could not be
scored or whose fit fails the diagnostics get no weight; the single choice ranks
by ``holdout_error`` instead, the error per decade projected to the full fit):

.. math::

    \\hat L(x) = \\sum_i w_i \\hat L_i(x), \\qquad w_i \\propto 1 / e_i .

The interval is that of a mixture: each law's prediction interval is read as a
log-normal (median its prediction, spread from the interval's width), and the
mixture of those log-normals, weighted by ``w_i``, is sampled with a fixed
seed. Where the laws disagree the mixture is wide, so the interval includes the
spread between laws as well as each law's own uncertainty.

On the shared ladders (largest 20% of compute held out, docs/laws.md) this
average had a median held-out error of 0.42%, against 0.55% for ``chinchilla``
and 0.51% for the best law per ladder in hindsight; it was at least as good as
``chinchilla`` on 9 of 11 ladders. Inverse-error weights were the first of seven
weighting schemes tried on those same ladders; the others did worse (0.53% to
0.75%), so read the figure as measured on the data that chose it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

from .._json import read_saved, write_json
from ..errors import ScalinglabError
from ..fit.api import fit
from ..fit.bootstrap import offset_progress
from ..fit.diagnostics import Diagnostic
from ..fit.intervals import percentile_interval
from ..fit.result import FitResult, from_dict
from ..laws.base import Law
from ..laws.registry import get_law
from .autolaw import (
    CONFIDENT,
    LawChoice,
    candidate_laws,
    choose_law,
    inverse_error_weights,
)

__all__ = ["AVERAGE_FORMAT", "LawAverage", "fit_average", "load_average"]

AVERAGE_FORMAT = "law-average-1"
# Mixture samples for an interval: percentiles to about 0.1% of the spread.
SAMPLES = 20_000


@dataclass(frozen=True, eq=False)
class LawAverage:
    """Fitted laws and their weights; predicts like a :class:`FitResult`.

    Attributes
    ----------
    fits : each weighted law fitted on every run.
    weights : one per fit, summing to 1 (inverse held-out error).
    choice : the ranking the weights come from.
    """

    fits: tuple[FitResult, ...]
    weights: tuple[float, ...]
    choice: LawChoice

    @property
    def inputs(self) -> tuple[str, ...]:
        """Inputs a prediction needs: every member's, less ``C`` when N and D give it."""
        names = dict.fromkeys(n for f in self.fits for n in f.law.inputs)
        if "N" in names and "D" in names:
            names.pop("C", None)
        return tuple(names)

    @property
    def draws(self) -> tuple[np.ndarray, ...] | None:
        """Each member's bootstrap draws, or None when a member has none (no intervals)."""
        if any(f.draws is None for f in self.fits):
            return None
        return tuple(f.draws for f in self.fits)

    def predict(self, **inputs: np.ndarray | float) -> np.ndarray:
        """The weighted mean of the members' predictions (C derived as 6ND when absent)."""
        return sum(
            w * f.predict(**self._member(f, inputs))
            for w, f in zip(self.weights, self.fits)
        )

    def predict_interval(
        self, level: float = 0.95, *, kind: str = "prediction", **inputs
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``level`` interval of the weighted mixture of the members' log-normals."""
        if self.draws is None:
            raise ScalinglabError(
                "intervals of an average need every law's bootstrap draws; refit with "
                "bootstrap > 0."
            )
        z = NormalDist().inv_cdf(0.5 + level / 2)
        rng = np.random.default_rng(0)
        samples = []
        for w, f in zip(self.weights, self.fits):
            member = self._member(f, inputs)
            low, high = f.predict_interval(level, kind=kind, **member)
            centre = np.log(f.predict(**member))
            sd = np.log(high / low) / (2 * z)
            count = max(1, round(w * SAMPLES))
            normal = rng.standard_normal((count, *np.shape(centre)))
            samples.append(np.exp(centre + sd * normal))
        return percentile_interval(np.concatenate(samples), level=level, axis=0)

    def extrapolation(self, **inputs: np.ndarray | float) -> list[Diagnostic]:
        """Each member's warnings about inputs outside its fitted range, once each."""
        found: dict[str, Diagnostic] = {}
        for f in self.fits:
            for d in f.extrapolation(**self._member(f, inputs)):
                found.setdefault(d.message, d)
        return list(found.values())

    def _member(self, f: FitResult, inputs) -> dict:
        available = dict(inputs)
        if "C" not in available and "N" in available and "D" in available:
            # A law of C in the average predicts at C = 6ND.
            available["C"] = 6.0 * np.asarray(inputs["N"]) * np.asarray(inputs["D"])
        missing = [n for n in f.law.inputs if n not in available]
        if missing:
            raise ScalinglabError(
                f"the average's law {f.law.name} needs {', '.join(missing)}; give "
                f"{', '.join(self.inputs)}."
            )
        return {n: available[n] for n in f.law.inputs}

    def to_dict(self) -> dict:
        return {
            "format": AVERAGE_FORMAT,
            "law": "average",
            "weights": {f.law.name: w for f, w in zip(self.fits, self.weights)},
            "ranking": self.choice.to_dict()["ranking"],
            "law_selection": self.choice.to_dict(),
            "fits": [f.to_dict() for f in self.fits],
        }

    def save(self, path: str | Path) -> Path:
        """Write the average (every member fit, weights, ranking) as JSON."""
        return write_json(path, self.to_dict())


def fit_average(runs, laws: list[str | Law] | None = None, **options) -> LawAverage:
    """Rank the candidates with :func:`choose_law`, fit every scored one on all runs,
    and weight them by inverse held-out error. ``options`` go to :func:`scalinglab.fit`;
    its ``progress`` callback counts the bootstrap replicates of every member together."""
    chosen = [get_law(law) for law in laws] if laws else candidate_laws(runs)
    candidates = {law.name: law for law in chosen}
    choice = choose_law(
        runs,
        list(candidates.values()),
        objective=options.get("objective"),
        seed=options.get("seed", 0),
    )
    weights = inverse_error_weights(choice)
    progress, replicates = options.pop("progress", None), options.get("bootstrap", 1000)
    total = len(weights) * replicates
    fits = tuple(
        fit(
            candidates[name],
            runs,
            **options,
            progress=offset_progress(progress, i * replicates, total),
        )
        for i, name in enumerate(weights)
    )
    return LawAverage(fits, tuple(weights.values()), choice)


def load_average(path: str | Path) -> LawAverage:
    """Reload an average saved with :meth:`LawAverage.save`."""
    data = read_saved(
        path,
        format=AVERAGE_FORMAT,
        what="scalinglab law average",
        make="scalinglab fit DATA --law auto --average",
    )
    selection = data["law_selection"]
    from .autolaw import Candidate

    choice = LawChoice(
        law=selection["law"],
        ranking=tuple(
            Candidate(
                c["law"],
                _inf_if_none(c["holdout_error"]),
                c["n_heldout"],
                c["error"],
                # Before median_error was stored, holdout_error was that median.
                _inf_if_none(c.get("median_error", c["holdout_error"])),
            )
            for c in selection["ranking"]
        ),
        margin=selection["margin"],
        folds=selection["folds"],
        levels=selection["levels"],
        notes=tuple(selection["notes"]),
        default=selection.get("default"),
        confidence=selection.get("confidence"),
        needed=selection.get("needed", CONFIDENT),
    )
    fits = tuple(from_dict(f) for f in data["fits"])
    return LawAverage(fits, tuple(data["weights"][f.law.name] for f in fits), choice)


def _inf_if_none(value: float | None) -> float:
    return math.inf if value is None else value
