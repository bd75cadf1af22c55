"""Notebook display: ``to_frame()`` and ``_repr_html_()`` on a fit, a validation and a
recipe comparison hold the result's own numbers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from scalinglab.analysis.compare import compare
from scalinglab.analysis.validation import split_top, validate


def test_fit_frame_is_the_parameters_with_their_intervals(ladder_fit):
    frame = ladder_fit.to_frame()
    assert list(frame.index) == list(ladder_fit.law.param_names)
    ci = ladder_fit.conf_int()
    for name, value in ladder_fit.params.items():
        assert frame.loc[name, "value"] == value
        assert (frame.loc[name, "ci95_low"], frame.loc[name, "ci95_high"]) == ci[name]
        assert frame.loc[name, "std_err"] == pytest.approx(ladder_fit.std_err()[name])
    html = ladder_fit._repr_html_()
    assert html.count("<table") == 1 and "chinchilla (Hoffmann et al. 2022" in html
    assert "objective" in html  # the footer, then the numbered notes


def test_validation_frame_is_one_row_per_heldout_point(ladder_runs):
    v = validate(
        "chinchilla", ladder_runs, split_top(ladder_runs, 0.2, "N"), bootstrap=20
    )
    frame = v.to_frame()
    assert len(frame) == v.summary.n_heldout == 4
    np.testing.assert_array_equal(frame["rel_error"], [p.rel_error for p in v.points])
    assert frame["in_ci95"].mean() == v.summary.coverage
    assert "held-out rows" in v._repr_html_()
    assert v.plot(ladder_runs).axes[1].get_xlabel() == "decades beyond the fitted range"


def test_comparison_frame_lists_each_budget(ladder_runs):
    frame = ladder_runs.frame.copy()
    doubled = frame.assign(run=frame.run + "-b", recipe="B", loss=frame.loss * 0.98)
    runs = replace(ladder_runs, frame=frame.assign(recipe="A"))
    both = replace(
        runs,
        frame=pd.concat([runs.frame, doubled], ignore_index=True),
        row_numbers=np.arange(1, 2 * len(frame) + 1),
    )
    c = compare("chinchilla", both, "recipe", "A", bootstrap=20)
    table = c.to_frame()
    (group,) = c.groups
    assert list(table.index.unique()) == ["B"] and len(table) == len(group.budgets)
    np.testing.assert_array_equal(
        table["multiplier"], [b["value"] for b in group.budgets]
    )
    assert "compute multiplier over A" in c._repr_html_()
    assert c.plot().axes[0].get_ylabel() == "compute multiplier vs A"


def test_plot_draws_each_result_and_asks_for_the_runs(ladder_fit, ladder_runs):
    from scalinglab.errors import ScalinglabError

    fig = ladder_fit.plot(ladder_runs)
    assert fig.axes[0].get_title() == "chinchilla: fitted loss surface"
    with pytest.raises(ScalinglabError, match=r"FitResult.plot\(runs\)"):
        ladder_fit.plot()
