"""Published and certified numbers: the Chinchilla replication on its own data, closed-form optima."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scalinglab as sl
from scalinglab.analysis.optimal import optimal_N
from scalinglab.fit.engine import Problem, objective_values
from scalinglab.fit.objectives import get_objective
from scalinglab.laws.presets import get_preset


def epoch_runs(shared_data):
    """The 240 points the replication kept: drop the 5 highest losses; D = C / (6N)."""
    frame = pd.read_csv(shared_data / "epoch_chinchilla" / "svg_extracted_data.csv")
    kept = frame.sort_values("loss", kind="stable").iloc[:-5]
    return sl.read_runs(kept, N="Model Size", C="Training FLOP", loss="loss", N_kind="total")


@pytest.mark.realdata
def test_default_fit_reaches_the_replication_optimum(shared_data):
    runs = epoch_runs(shared_data)
    result = sl.fit("chinchilla", runs, bootstrap=1000, seed=0)
    assert result.n_points == 240 and result.converged
    # Besiroglu et al. 2024, section 3.4: the summed-Huber grid fit (E, alpha, beta to 3 decimals).
    assert result.params["E"] == pytest.approx(1.817, abs=5e-4)
    assert result.params["alpha"] == pytest.approx(0.347, abs=5e-4)
    assert result.params["beta"] == pytest.approx(0.367, abs=5e-4)
    law = result.law
    problem = Problem(law, {"N": runs.array("N"), "D": runs.array("D")}, runs.array("loss"),
                      get_objective("huber"), np.ones(240))
    published = objective_values(problem, law.pack(get_preset("besiroglu2024").params)[None])[0]
    assert result.objective <= published
    # Published 95% bootstrap intervals (4,000 point resamples): each end within 0.01 (E) / 0.006.
    ci = result.conf_int()
    for name, (low, high), tol in (("E", (1.769, 1.871), 0.01), ("alpha", (0.317, 0.373), 0.006),
                                   ("beta", (0.331, 0.415), 0.006)):
        assert ci[name][0] == pytest.approx(low, abs=tol), name
        assert ci[name][1] == pytest.approx(high, abs=tol), name


@pytest.mark.parametrize("preset", ["besiroglu2024", "hoffmann2022", "hoffmann2022_rounded"])
def test_closed_form_and_numeric_optimum_agree(preset):
    law = get_preset(preset).law
    values = {k: np.array([[v]]) for k, v in get_preset(preset).params.items()}
    compute = np.geomspace(1e18, 1e26, 9)
    closed, how_closed = optimal_N(law, values, compute, method="closed")
    numeric, how_numeric = optimal_N(law, values, compute, method="numeric")
    assert (how_closed, how_numeric) == ("closed form", "numeric")
    np.testing.assert_allclose(numeric, closed, rtol=1e-6)


def test_optimum_satisfies_the_first_order_condition():
    """alpha A N^-alpha = beta B D^-beta at N*, D* = C / 6N* (formulas.md section 1.3)."""
    preset = get_preset("hoffmann2022")
    p = preset.params
    allocation = preset.optimal(5.76e23)
    model = p["alpha"] * p["A"] * allocation.N ** -p["alpha"]
    data = p["beta"] * p["B"] * allocation.D ** -p["beta"]
    assert model == pytest.approx(data, rel=1e-9)


def test_cost_model_optimum_is_the_minimum_on_its_budget_line():
    """A fixed per-token overhead (6N + 2e9 FLOPs) makes every token dearer, so fewer tokens
    and a larger model; the numeric optimum beats its neighbours on the same budget."""
    preset = get_preset("besiroglu2024")
    flops_per_token = lambda N: 6 * N + 2e9  # noqa: E731
    plain = preset.optimal(1e22)
    costly = preset.optimal(1e22, flops_per_token=flops_per_token)
    assert costly.N > plain.N and costly.D < plain.D
    assert costly.D * flops_per_token(costly.N) == pytest.approx(1e22, rel=1e-12)
    for factor in (0.99, 1.01):
        N = costly.N * factor
        assert preset.predict(N=N, D=1e22 / flops_per_token(N)) > costly.loss
