"""The new figures and ``--plot`` on fit, predict and optimal."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scalinglab.errors import ScalinglabError
from scalinglab.plot.fit import frontier_figure, isoloss_figure, residuals_figure


def test_residuals_beyond_the_axis_are_marked_not_dropped(ladder_fit, ladder_runs):
    frame = ladder_runs.frame.copy()
    frame.loc[3, "loss"] *= 1.5  # one run 50% above the law
    runs = replace(ladder_runs, frame=frame)
    fig = residuals_figure(ladder_fit, runs)
    axes = fig.axes
    assert [a.get_xlabel() for a in axes] == [
        "parameters N",
        "training tokens D",
        "training compute C (FLOPs)",
    ]
    top = axes[0].get_ylim()[1]
    assert 2 < top < 50  # the outlier does not set the scale
    labels = axes[-1].get_legend_handles_labels()[1]
    assert any(label.startswith("beyond the axis (1, up to 5") for label in labels)


def test_isoloss_needs_a_law_of_n_and_d(ladder_runs):
    from scalinglab import fit

    power = fit("power", ladder_runs.subset(ladder_runs.array("D") > 0), bootstrap=0)
    with pytest.raises(ScalinglabError, match="needs a law of N and D"):
        isoloss_figure(power, ladder_runs)


def test_isoloss_optimal_path_is_the_allocation(ladder_fit, ladder_runs):
    fig = isoloss_figure(ladder_fit, ladder_runs)
    ax = fig.axes[0]
    (path,) = [
        l for l in ax.get_lines() if l.get_label() == "compute-optimal allocation"
    ]
    N, D = path.get_data()
    expected = ladder_fit.optimal(6 * N * D)
    np.testing.assert_allclose(N, expected.N, rtol=1e-6)


def test_frontier_of_a_preset_draws_bands_only_with_draws():
    from scalinglab.laws.presets import get_preset

    fig = frontier_figure(get_preset("besiroglu2024"), np.array([1e24]))
    left, right = fig.axes[:2]
    assert right.get_xlabel() == "training compute C (FLOPs)"
    assert [
        line.get_xdata()[0] for line in left.get_lines() if line.get_linestyle() == "--"
    ] == [1e24]


def test_plot_options_write_figures(invoke, ladder_csv, tmp_path):
    cols = ["--N", "params", "--D", "tokens", "--loss", "loss", "--run", "name"]
    saved = tmp_path / "fit.json"
    code, _, err = invoke(
        "fit",
        ladder_csv,
        *cols,
        "--bootstrap",
        "20",
        "-o",
        str(saved),
        "--plot",
        str(tmp_path / "fit.svg"),
    )
    assert code == 0, err
    code, _, err = invoke(
        "predict",
        "--fit",
        str(saved),
        "--N",
        "1e9,3e9",
        "--D",
        "2e10",
        "--plot",
        str(tmp_path / "predict.png"),
    )
    assert code == 0, err
    code, _, err = invoke(
        "optimal",
        "--fit",
        str(saved),
        "--compute",
        "1e20,1e21",
        "--plot",
        str(tmp_path / "optimal.png"),
    )
    assert code == 0, err
    assert (tmp_path / "fit.svg").read_text().count("<svg") == 1
    for name in ("predict.png", "optimal.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    code, _, err = invoke(
        "optimal",
        "--fit",
        str(saved),
        "--compute",
        "1e20",
        "--plot",
        str(tmp_path / "optimal.pdf"),
    )
    assert code == 1 and ".png or .svg" in err
