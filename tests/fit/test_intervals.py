"""The one percentile-interval helper: numpy's percentiles, NaN left out, infinities kept."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.fit.intervals import percentile_interval, seeded_normals


def test_matches_numpy_percentiles_along_an_axis():
    draws = np.random.default_rng(0).normal(size=(500, 3))
    low, high = percentile_interval(draws, 0.9, axis=0)
    np.testing.assert_allclose(low, np.percentile(draws, 5, axis=0), rtol=1e-12)
    np.testing.assert_allclose(high, np.percentile(draws, 95, axis=0), rtol=1e-12)


def test_nan_replicates_are_left_out_and_infinite_ones_count():
    values = np.arange(1.0, 41.0)
    with_nan = np.concatenate([values, np.full(10, np.nan)])
    assert percentile_interval(with_nan) == percentile_interval(values)
    unbounded = np.concatenate([values, np.full(5, np.inf)])
    assert percentile_interval(unbounded)[1] == np.inf
    assert np.isnan(percentile_interval(np.array([np.nan, 1.0]))[0])


def test_level_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="level must be in"):
        percentile_interval(np.ones(10), level=95)


def test_seeded_normals_share_row_zero_and_repeat_the_former_draws():
    # The former per-module draws (seed + 7919, two rows) are reproduced bit for bit.
    former = np.random.default_rng(5 + 7919).standard_normal((2, 300))
    assert np.array_equal(seeded_normals(5, 300, streams=2), former)
    assert np.array_equal(seeded_normals(5, 300)[0], former[0])
    assert not np.array_equal(seeded_normals(6, 300)[0], former[0])
