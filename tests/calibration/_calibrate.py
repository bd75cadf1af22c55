"""Shared machinery of the calibration suite: repeated seeded simulations with known truth.

Every interval the tool prints is checked both ways over ``REPS`` repetitions:

- coverage: the share of repetitions whose nominal 95% interval holds the truth
  must lie in ``COVERAGE`` (88%-99%);
- sharpness: the median interval width must be at most ``MAX_WIDTH_RATIO`` times
  the oracle width, the 2.5-97.5 percentile range of the estimate's error across
  the repetitions (the width an interval centred on the estimate would need).

Each test prints its rows (``pytest -s``); docs/calibration.md holds the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

import numpy as np

import scalinglab as sl
from scalinglab.fit.intervals import percentile_interval
from scalinglab.laws.examples import Example, example, simulate

REPS = 100
BOOTSTRAP = 100
NOISE = 0.01
COVERAGE = (0.88, 0.99)
MAX_WIDTH_RATIO = 2.0


@dataclass(frozen=True)
class Row:
    """Coverage and widths of one interval over the repetitions."""

    name: str
    coverage: float
    median_width: float
    oracle_width: float
    reps: int

    @property
    def ratio(self) -> float:
        return self.median_width / self.oracle_width

    @property
    def calibrated(self) -> bool:
        low, high = COVERAGE
        return low <= self.coverage <= high and self.ratio <= MAX_WIDTH_RATIO

    def line(self) -> str:
        return (
            f"| {self.name} | {self.reps} | {self.coverage:.0%} | "
            f"{self.median_width:.4g} | {self.oracle_width:.4g} | {self.ratio:.2f} |"
        )


def row(name: str, truth, estimate, low, high) -> Row:
    """One :class:`Row` from per-repetition truth, estimate and interval ends.

    ``truth`` may be a scalar (a parameter) or one value per repetition (a new
    observation); NaN intervals (a failed repetition) count as misses.
    """
    estimate, low, high = (np.asarray(v, dtype=float) for v in (estimate, low, high))
    truth = np.broadcast_to(np.asarray(truth, dtype=float), estimate.shape)
    covered = (low <= truth) & (truth <= high)
    error_low, error_high = percentile_interval(estimate - truth, 0.95)
    return Row(
        name,
        float(np.mean(covered)),
        float(np.nanmedian(high - low)),
        error_high - error_low,
        int(estimate.size),
    )


HEADER = (
    "| interval | reps | coverage | median width | oracle width | ratio |\n"
    "|---|---|---|---|---|---|"
)


def report(title: str, rows: list[Row]) -> None:
    """Print the rows as a markdown table (visible with ``pytest -s``)."""
    print(f"\n{title}\n{HEADER}")
    for r in rows:
        print(r.line())


def failures(rows: list[Row]) -> list[str]:
    return [r.line() for r in rows if not r.calibrated]


# ------------------------------------------------------------------ loss-law fits


def _small_data_constrained() -> Example:
    """A lighter design than the registered example (75 points, not 147), same truth."""
    full = example("data_constrained")
    sizes = np.geomspace(1e7, 2e9, 5)
    unique = np.array([1e8, 1e9, 1e10])
    epochs = np.array([0.5, 1.0, 4.0, 16.0, 40.0])
    N, U, R = (a.ravel() for a in np.meshgrid(sizes, unique, epochs, indexing="ij"))
    return Example(
        "data_constrained", dict(full.params), {"N": N, "D": R * U, "U": U}, full.note
    )


def truth_for(name: str) -> Example:
    return _small_data_constrained() if name == "data_constrained" else example(name)


@dataclass(frozen=True)
class Repetition:
    """One simulated data set and the fit to it."""

    data: MappingProxyType
    result: sl.FitResult


@cache
def repetitions(name: str, extrapolation: str | None = None) -> tuple[Repetition, ...]:
    """``REPS`` fits of law ``name`` to its example with 1% noise, seeds 0..REPS-1.

    Cached: the parameter, prediction and optimum tests share the same fits.
    """
    law = sl.get_law(name)
    truth = truth_for(name)
    out = []
    for seed in range(REPS):
        data = simulate(law, truth.params, truth.inputs, noise=NOISE, seed=seed)
        result = sl.fit(
            law, data, bootstrap=BOOTSTRAP, seed=seed, extrapolation=extrapolation
        )
        out.append(Repetition(MappingProxyType(data), result))
    return tuple(out)


def new_observation(law, params, inputs, seed: int) -> np.ndarray:
    """A fresh run at ``inputs``: the true loss with its own 1% log-normal noise."""
    rng = np.random.default_rng(10_000 + seed)
    mean = law.predict(params, **inputs)
    return mean * np.exp(NOISE * rng.standard_normal(np.shape(mean)))
