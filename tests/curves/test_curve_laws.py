"""Curve laws: the binned loss-drop sum, recovery of known parameters, schedules, aggregation."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.analysis.curves import Curve, aggregate, block_length, fit_curves
from scalinglab.laws.curves import (
    MULTIPOWER_PUBLISHED,
    build_design,
    curve_law,
    loss_drop_exact,
    multipower_law,
)
from scalinglab.schedules import (
    constant,
    cosine,
    detect_phases,
    from_points,
    parse_spec,
    step_decay,
    wsd,
)

TRUTH = MULTIPOWER_PUBLISHED["100M"]
DROP = {k: TRUTH[k] for k in ("B", "C", "beta", "gamma")}


def _schedules(steps=6000):
    return [
        cosine(steps, 3e-4, final=3e-5, warmup=300),
        constant(steps, 3e-4, warmup=300),
        wsd(steps, 3e-4, decay=0.25, shape="exp", final=3e-5, warmup=300),
    ]


def _curves(law_name, params, schedules, every=20):
    curves = []
    for s in schedules:
        steps = np.arange(s.phases().warmup[1], s.steps, every)
        design = build_design([s.lr], [steps])
        loss = curve_law(law_name, design).predict(params, point=np.arange(steps.size))
        curves.append(Curve(s.name, s, steps, loss))
    return curves


@pytest.mark.parametrize(
    "schedule",
    [
        wsd(4000, 3e-4, decay=0.3, shape="exp", final=3e-5, warmup=200),
        cosine(4000, 3e-4, final=0.0, warmup=200),
        step_decay(4000, 3e-4, milestones=(2000, 3000), factor=0.3, warmup=100),
    ],
    ids=["wsd", "cosine", "step"],
)
def test_binned_loss_drop_matches_exact_double_sum(schedule):
    steps = np.arange(200, 4000, 37)
    exact = loss_drop_exact(schedule.lr, steps, **DROP)
    design = build_design([schedule.lr], [steps])
    law = multipower_law(design)
    params = dict(TRUTH, L0=0.0, A=0.0)
    binned = law.predict(params, point=np.arange(steps.size))
    scale = np.max(np.abs(exact))
    assert scale > 0.05  # the schedules do anneal
    np.testing.assert_allclose(binned, exact, rtol=0, atol=2e-5)


def test_multipower_recovers_published_parameters():
    curves = _curves("multipower", TRUTH, _schedules())
    result = fit_curves(curves, law="multipower", bootstrap=0)
    assert result.converged
    for name in ("L0", "A", "alpha", "B"):
        assert result.params[name] == pytest.approx(TRUTH[name], rel=2e-3), name
    held_out = wsd(9000, 3e-4, decay=0.2, shape="linear", warmup=300)
    truth = _curves("multipower", TRUTH, [held_out])[0]
    predicted = result.predict(held_out, truth.steps).loss
    np.testing.assert_allclose(predicted, truth.loss, rtol=2e-4)


def test_tissue_recovers_known_parameters():
    truth = {"L0": 2.74, "A": 0.45, "alpha": 0.6, "C": 0.35}
    curves = _curves("tissue", truth, _schedules())
    result = fit_curves(curves, law="tissue", bootstrap=0)
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name


def _noisy_tissue_curves(seed: int, steps: int = 3000, every: int = 30):
    truth = {"L0": 2.74, "A": 0.45, "alpha": 0.6, "C": 0.35}
    rng = np.random.default_rng(seed)
    return [
        Curve(
            c.name,
            c.schedule,
            c.steps,
            c.loss * np.exp(2e-3 * rng.standard_normal(c.steps.size)),
        )
        for c in _curves("tissue", truth, _schedules(steps)[:2], every=every)
    ]


def test_bootstrap_spread_matches_asymptotic_errors():
    """With i.i.d. noise (block length 1, chosen from the residuals) the bootstrap's
    spread of every parameter is the Gauss-Newton standard error sigma^2 (J'J)^-1 of
    scipy's least squares on the same curves, within Monte Carlo error (400
    replicates: ~4% on an sd). Ten blocks per curve (9 points each) give 0.70-0.74x
    here: with few blocks the spread is a noisy estimate (docs/calibration.md)."""
    from scipy.optimize import least_squares

    curves = _noisy_tissue_curves(seed=1)
    result = fit_curves(curves, law="tissue", objective="msle", bootstrap=400, seed=0)
    assert result.settings["blocks"] == [c.steps.size for c in curves]
    design = build_design([c.schedule.lr for c in curves], [c.steps for c in curves])
    law, loss = curve_law("tissue", design), np.concatenate([c.loss for c in curves])
    names = result.param_names

    def residuals(theta):
        pred = law.predict(dict(zip(names, theta)), point=np.arange(loss.size))
        return np.log(pred / loss)

    ls = least_squares(residuals, [result.params[n] for n in names])
    sigma2 = np.sum(ls.fun**2) / (loss.size - len(names))
    standard_errors = np.sqrt(np.diag(sigma2 * np.linalg.inv(ls.jac.T @ ls.jac)))
    spread = result.draws.std(axis=0, ddof=1)
    assert spread == pytest.approx(standard_errors, rel=0.12)


@pytest.mark.parametrize("phi", [0.5, 0.8])
def test_block_length_matches_ar1_closed_form(phi):
    """Politis-White length on an AR(1) series vs its closed form: G / g = 2 phi / (1 -
    phi^2), b = (1.5 (G / g)^2 n)^(1/3) (13.9 and 30.9 for n = 1,000)."""
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(1000)
    series = np.zeros(noise.size)
    for i in range(1, noise.size):
        series[i] = phi * series[i - 1] + noise[i]
    expected = (1.5 * (2 * phi / (1 - phi**2)) ** 2 * noise.size) ** (1 / 3)
    assert block_length(series) == pytest.approx(expected, rel=0.3)
    assert block_length(noise) == 1


def test_bootstrap_interval_holds_estimate_and_block_count_is_kept():
    curves = _noisy_tissue_curves(seed=2)
    result = fit_curves(curves, law="tissue", bootstrap=50, blocks=6, seed=0)
    assert result.settings["blocks"] == [6, 6]
    ci = result.conf_int()
    for name, value in result.params.items():
        assert ci[name][0] < value < ci[name][1], name
    band = result.predict(_schedules(3000)[0]).ci95
    assert np.all(band[0] <= band[1])


def _tissue_truth(schedule, steps, L0, A, alpha, C, lam=0.999):
    """L0 + A S1^-alpha - C S2 computed directly from the schedule (independent of the law)."""
    from scipy.signal import lfilter

    lr = schedule.lr
    drop = np.concatenate([[0.0], lr[:-1] - lr[1:]])
    drop[: int(np.argmax(lr)) + 1] = 0.0
    S2 = np.cumsum(lfilter([1.0], [1.0, -lam], drop))
    return L0 + A * np.cumsum(lr)[steps] ** -alpha - C * S2[steps]


def test_aggregation_keeps_counts_and_fit():
    steps = np.arange(100, 200_100)
    loss = 2.0 + steps**-0.3
    s_agg, _l_agg, w = aggregate(steps, loss, 1000)
    assert s_agg.size <= 1000 and w.sum() == steps.size
    assert np.all(np.diff(s_agg) > 0)
    schedule = wsd(200_100, 1e-3, decay=0.2, warmup=100)
    truth = {"L0": 2.5, "A": 0.4, "alpha": 0.5, "C": 0.3}
    full = _tissue_truth(schedule, steps, **truth)
    result = fit_curves(
        [Curve("long", schedule, steps, full)],
        law="tissue",
        bootstrap=0,
        max_points=1000,
    )
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-3), name
    assert (
        result.curves[0]["raw_points"] == steps.size
        and result.curves[0]["points"] <= 1000
    )


def test_schedule_spec_and_phases():
    s = parse_spec("wsd:steps=10k,peak=3e-4,decay=0.2,warmup=500,shape=cosine")
    assert s.steps == 10_000 and s.peak == pytest.approx(3e-4)
    phases = detect_phases(s.lr, tolerance=1e-9)
    assert phases.warmup == (0, 499)
    assert phases.decay[0] == 8000 + 1  # the decay's first step is still at the peak
    assert s.lr[-1] == pytest.approx(0.0, abs=3e-4 * 1e-3)
    points = from_points([100, 200, 300], [1e-3, 1e-3, 5e-4])
    assert points.lr[50] == pytest.approx(5e-4) and points.lr[250] == pytest.approx(
        7.5e-4
    )


def test_saved_fit_predicts_identically(tmp_path):
    from scalinglab.analysis.curves import load_curve_fit

    curves = _curves(
        "tissue", {"L0": 2.74, "A": 0.45, "alpha": 0.6, "C": 0.35}, _schedules(2000)
    )
    result = fit_curves(curves, law="tissue", bootstrap=20)
    again = load_curve_fit(result.save(tmp_path / "fit.json"))
    s = cosine(5000, 3e-4, warmup=300)
    a, b = result.predict(s), again.predict(s)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.ci95[0], b.ci95[0])
