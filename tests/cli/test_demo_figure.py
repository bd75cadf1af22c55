"""The demo figure names the unit of its corpus: bytes, so nats per byte."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglab as sl

pytest.importorskip("matplotlib")


def test_demo_figure_says_nats_per_byte():
    from scalinglab.plot.demo import demo_figure

    N = np.repeat([1e5, 2e5, 4e5], 3)
    D = N * np.tile([4.0, 8.0, 16.0], 3)
    loss = 1.5 + 40 * N**-0.3 + 60 * D**-0.3
    held = N == 4e5
    data = {"N": N[~held], "D": D[~held], "loss": loss[~held]}
    result = sl.fit("chinchilla", data, bootstrap=20, extrapolation=None)
    figure = demo_figure(result, N=N, D=D, loss=loss, held_out=held)
    axis = figure.axes[0]
    assert axis.get_ylabel() == "held-out loss (nats per byte)"
    assert "token" not in axis.get_ylabel()
    assert axis.get_xlabel() == "training tokens D (bytes)"
