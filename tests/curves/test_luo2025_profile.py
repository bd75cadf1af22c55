"""Profile ``luo2025`` of the curve fit: the multi-power authors' procedure.

Its reproduction of the published parameters and its held-out error on the authors'
curves are in test_realdata_mpl.py; here, on synthetic multi-power curves: the
gradient AdamW follows, determinism, the bootstrap rerunning the procedure, and the
refusals (library and CLI).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.analysis.curves import Curve, fit_curves
from scalinglab.analysis.luo2025 import NAMES, objective_and_gradient
from scalinglab.cli import app, main
from scalinglab.errors import ScalinglabError
from scalinglab.laws.curves import build_design, curve_law
from scalinglab.schedules import constant, cosine, wsd

TRUTH = {
    "L0": 3.0,
    "A": 0.5,
    "alpha": 0.5,
    "B": 400.0,
    "C": 2.0,
    "beta": 0.6,
    "gamma": 0.6,
}


def _curves(noise: float = 0.002, seed: int = 0) -> list[Curve]:
    """Three 3000-step runs (cosine, constant, WSD) on the multi-power law, logged
    every 30 steps after warmup, with log-normal noise of sd ``noise``."""
    rng = np.random.default_rng(seed)
    out = []
    for schedule in (
        cosine(3000, 3e-4, final=3e-5, warmup=200),
        constant(3000, 3e-4, warmup=200),
        wsd(3000, 3e-4, warmup=200, decay=0.2),
    ):
        steps = np.arange(200, 3000, 30)
        design = build_design([schedule.lr], [steps])
        clean = curve_law("multipower", design).predict(
            TRUTH, point=np.arange(steps.size)
        )
        loss = clean * np.exp(noise * rng.standard_normal(steps.size))
        out.append(Curve(schedule.name, schedule, steps, loss))
    return out


def test_gradient_matches_finite_differences():
    """AdamW follows the analytic gradient: it must be the objective's (central
    differences, away from the optimum, with unequal point weights)."""
    curves = _curves()
    design = build_design([c.schedule.lr for c in curves], [c.steps for c in curves])
    loss = np.concatenate([c.loss for c in curves])
    weights = np.linspace(0.5, 2.0, loss.size)
    theta = np.array([2.9, 0.6, 0.45, 350.0, 1.5, 0.5, 0.7])
    value, gradient = objective_and_gradient(design, loss, theta, weights)
    numeric = np.empty(theta.size)
    for i, step in enumerate(1e-6 * np.maximum(np.abs(theta), 1.0)):
        shift = np.zeros(theta.size)
        shift[i] = step
        up, down = (
            objective_and_gradient(design, loss, theta + s, weights)[0]
            for s in (shift, -shift)
        )
        numeric[i] = (up - down) / (2 * step)
    assert value > 0
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5)


def test_profile_is_deterministic_and_stops_early():
    curves = _curves()
    first = fit_curves(curves, bootstrap=0, profile="luo2025")
    again = fit_curves(curves, bootstrap=0, profile="luo2025")
    assert first.params == again.params
    assert list(first.params) == list(NAMES)
    assert first.settings["profile"] == "luo2025" and not first.converged
    (stop,) = (d for d in first.diagnostics if d.code == "early_stopped")
    assert 20 < stop.details["steps"] <= 200
    # The well-identified parameters come out near the truth even stopped early
    # (measured: L0 3.068, alpha 0.4935; the loss-drop ones stay near their start).
    assert first.params["L0"] == pytest.approx(TRUTH["L0"], rel=0.03)
    assert first.params["alpha"] == pytest.approx(TRUTH["alpha"], rel=0.03)
    # Early stop: the converged default reaches a lower training objective.
    default = fit_curves(curves, bootstrap=0)
    assert default.settings["profile"] == "converged"
    assert default.objective < first.objective


@pytest.mark.slow
def test_profile_bootstrap_reruns_the_procedure():
    """Replicates rerun the procedure from its own initialisation, not the engine from
    the estimate: with the same seed the draws repeat exactly, and AdamW's bounded
    steps (about its lr, 5e-3, per step for at most 200 steps) keep every draw's beta
    and gamma within 1 of their start 0.5, whereas the engine's bounds are 5 and 3."""
    curves = _curves()
    fit = fit_curves(curves, bootstrap=12, seed=3, profile="luo2025")
    again = fit_curves(curves, bootstrap=12, seed=3, profile="luo2025")
    assert fit.draws is not None and fit.draws.shape == (12, 7)
    np.testing.assert_array_equal(fit.draws, again.draws)
    assert "luo2025" in fit.settings["replicate_options"]
    assert np.all(fit.draws.std(axis=0) > 0)
    for name in ("beta", "gamma"):
        column = fit.draws[:, fit.param_names.index(name)]
        assert np.all(np.abs(column - 0.5) < 1.0), (name, column)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"law": "tissue"}, "does not fit the tissue law"),
        ({"fixed": {"beta": 0.6}}, "all seven parameters free"),
        ({"bounds": {"C": (0.0, 10.0)}}, "all seven parameters free"),
        ({"objective": "mse"}, "summed Huber"),
    ],
)
def test_profile_refuses_what_it_cannot_do(options, match):
    with pytest.raises(ScalinglabError, match=match):
        fit_curves(_curves(), bootstrap=0, profile="luo2025", **options)


def test_unknown_profile_is_refused():
    with pytest.raises(ScalinglabError, match="choose one of converged, luo2025"):
        fit_curves(_curves(), bootstrap=0, profile="adam")


def test_cli_profile_refuses_other_laws(tmp_path, capsys):
    frame = pd.concat(
        pd.DataFrame(
            {
                "run": c.name,
                "step": c.steps,
                "lr": c.schedule.lr[c.steps],
                "loss": c.loss,
            }
        )
        for c in _curves()
    )
    path = tmp_path / "curves.csv"
    frame.to_csv(path, index=False)
    args = ["curve", "fit", str(path), "--run", "run", "--bootstrap", "0"]
    with pytest.raises(SystemExit) as stopped:
        main([*args, "--law", "tissue", "--profile", "luo2025"])
    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert "profile luo2025 is the multi-power law authors' procedure" in err
    assert "Traceback" not in err
    fitted = CliRunner().invoke(app, [*args, "--profile", "luo2025", "--json"])
    assert fitted.exit_code == 0, fitted.output
    assert '"profile": "luo2025"' in fitted.output
