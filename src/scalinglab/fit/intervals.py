"""One percentile interval for every bootstrap or simulation draw in scalinglab."""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["percentile_interval", "seeded_normals"]

#: Added to a fit's seed to seed its interval noise, apart from its bootstrap stream.
NOISE_SEED_OFFSET = 7919


def seeded_normals(seed: int, count: int, streams: int = 1) -> np.ndarray:
    """The standard normals that prediction intervals scale their noise by.

    One row of ``count`` (one per bootstrap draw) per noise source, all from one
    generator seeded ``seed + NOISE_SEED_OFFSET``, so intervals repeat bit for bit.
    Row 0 does not depend on ``streams``: a fit (one source) and a chain built on
    it (task loss and metric, or two losses) share their first row.

    Parameters
    ----------
    seed : int
        The fit's seed.
    count : int
        Normals per row (the bootstrap draws).
    streams : int
        Rows, one per independent noise source.

    Returns
    -------
    numpy.ndarray
        Shape ``(streams, count)``.

    Examples
    --------
    >>> one, two = seeded_normals(0, 4), seeded_normals(0, 4, streams=2)
    >>> bool((one[0] == two[0]).all()), two.shape
    (True, (2, 4))
    """
    rng = np.random.default_rng(seed + NOISE_SEED_OFFSET)
    return rng.standard_normal((streams, count))


def percentile_interval(
    draws: np.ndarray, level: float = 0.95, axis: int = 0
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """Equal-tailed percentile interval of ``draws`` along ``axis``, ignoring NaN.

    Parameters
    ----------
    draws : array_like
        Replicate values (bootstrap refits, parametric draws); NaN marks a
        replicate that failed and is left out.
    level : float
        Coverage of the interval, in (0, 1); 0.95 gives the 2.5 and 97.5
        percentiles.
    axis : int
        Axis that runs over the replicates.

    Returns
    -------
    (low, high)
        Plain floats for 1-d ``draws``, arrays otherwise. NaN where fewer than
        two replicates remain; an infinite replicate counts (an unbounded end).

    Examples
    --------
    >>> percentile_interval(np.arange(101.0), level=0.9)
    (5.0, 95.0)
    >>> percentile_interval(np.array([1.0, np.nan, 3.0]))
    (1.05, 2.95)
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level!r}.")
    draws = np.asarray(draws, dtype=float)
    tail = round(50.0 * (1.0 - level), 12)  # 1 - 0.9 is 0.0999...; 5th, not 4.999th
    present = np.sum(~np.isnan(draws), axis=axis)
    with warnings.catch_warnings():
        # All-NaN slices are expected (failed replicates); they become NaN below.
        warnings.simplefilter("ignore", RuntimeWarning)
        # inf - inf is NaN inside the interpolation: carry infinities as the
        # largest float and give them back afterwards.
        big = np.finfo(float).max
        low, high = np.nanpercentile(
            np.clip(draws, -big, big), [tail, 100 - tail], axis=axis
        )
        low, high = (
            np.where(np.abs(v) >= big, np.sign(v) * np.inf, v) for v in (low, high)
        )
    low, high = (np.where(present >= 2, v, np.nan) for v in (low, high))
    if np.ndim(low) == 0:
        return float(low), float(high)
    return low, high
