"""Multi-power law on the authors' released curves (../shared/data/multipower_lr_curves).

The authors' split: fit on cosine_24000 + constant_24000 + wsdcon_9, predict the six
others (72k-step runs, WSD variants, other two-stage schedules).
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest

from scalinglab.analysis.curves import curve_from_log, evaluate_curve, fit_curves
from scalinglab.io.logs import read_curves
from scalinglab.laws.curves import MULTIPOWER_PUBLISHED

TRAIN = ("cosine_24000", "constant_24000", "wsdcon_9")
SIZES = ("25", "100", "400")
pytestmark = [pytest.mark.realdata]


def _curves(shared_data, size):
    root = shared_data / "multipower_lr_curves" / f"csv_{size}"
    if not root.is_dir():
        pytest.skip(f"{root} is missing")
    return {log.name: curve_from_log(log) for log in read_curves(root)}


@pytest.fixture(scope="module")
def fits(shared_data):
    """Per size: the curves and our fit on the authors' split (50 bootstrap draws)."""
    out = {}
    for size in SIZES:
        curves = _curves(shared_data, size)
        out[size] = (
            curves,
            fit_curves([curves[n] for n in TRAIN], bootstrap=50, seed=0),
        )
    return out


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_fit_short_runs_predict_long_and_held_out(fits, size):
    curves, fit = fits[size]
    published = MULTIPOWER_PUBLISHED[f"{size}M"]
    # The well-identified parameters agree with the authors' fit.
    assert fit.params["L0"] == pytest.approx(published["L0"], rel=0.02)
    assert fit.params["alpha"] == pytest.approx(published["alpha"], rel=0.1)
    reference = replace(fit, params=dict(published))
    for name, curve in curves.items():
        if name in TRAIN:
            continue
        ours, theirs = evaluate_curve(fit, curve), evaluate_curve(reference, curve)
        # Whole-curve error below 0.5 % (the paper reports 0.11-0.17 % on average), and
        # no worse than the published parameters by more than 0.3 percentage points (the
        # largest gap: 400M cosine_72000, 0.47 % against 0.20 %).
        assert ours["mean_abs_rel_err"] < 0.005, (name, ours)
        assert ours["mean_abs_rel_err"] < theirs["mean_abs_rel_err"] + 0.003, (
            name,
            ours,
            theirs,
        )
        assert abs(ours["final_rel_err"]) < 0.01, (name, ours)


@pytest.mark.slow
def test_median_final_error_not_above_published(fits):
    """On the 18 held-out schedules (3 sizes x 6), our fit's median |final-loss error| is
    at or below the published parameters' within our fit's own measured noise: twice the
    standard deviation of that median across the fit's bootstrap replicates.

    Measured (2026-12-02): ours 0.305 %, published 0.288 %, sd of ours 0.035 pp (50
    residual-bootstrap replicates per size, reflected and noise-scaled; 0.031 pp
    before, 0.027 pp with the run bootstrap over blocks of points), so the tolerance is
    0.070 pp. Data, split, LR schedules (linear warmup) and objective are the authors';
    what differs is the optimiser: theirs is AdamW stopped after 67-94 steps, short of
    the optimum of their own objective (2.3-6.3x ours on the training curves), which
    holds the loss-drop parameters near its start; ``profile="luo2025"`` reruns it and
    gives 0.178 % (test_luo2025_median_final_error_at_or_below_published). The default
    converges, so "at or below" is not met by it: the gap, 0.017 pp, is half the noise.
    """
    ours_median, theirs_median, noise = _held_out_medians(fits)
    print(
        f"median |final error|: ours {ours_median:.4%}, published {theirs_median:.4%}, "
        f"sd of ours over replicates {noise:.4%}"
    )
    assert theirs_median == pytest.approx(
        0.00288, abs=0.0001
    )  # the published side is fixed
    assert ours_median <= theirs_median + 2 * noise


def test_single_cosine_curve_gives_finite_parameters(shared_data):
    """One cosine curve does not identify the loss-drop term: C ran to infinity (printed
    as ``C = inf`` with a numpy RuntimeWarning). It now stops at its bound and says so."""
    curves = _curves(shared_data, "400")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fit = fit_curves([curves["cosine_24000"]], bootstrap=0)
    assert all(np.isfinite(v) for v in fit.params.values()), fit.params
    flagged = {d.details.get("param") for d in fit.diagnostics if d.code == "at_bound"}
    assert flagged, [d.message for d in fit.diagnostics]


@pytest.mark.slow
def test_two_curves_intervals_contain_estimates_or_are_withheld(shared_data):
    """The new user's fit (400M, cosine_24000 + constant_24000, default bootstrap) printed
    intervals that excluded their estimates (B 1896 [2452, 1.025e+04]). Every interval
    given now contains its estimate; when too many replicates fail, none is given."""
    curves = _curves(shared_data, "400")
    fit = fit_curves([curves["cosine_24000"], curves["constant_24000"]])
    codes = [d.code for d in fit.diagnostics]
    assert "interval_excludes_estimate" not in codes
    if fit.draws is None:
        (failed,) = [d for d in fit.diagnostics if d.code == "bootstrap_not_converged"]
        # Measured: 9 of a first batch of 10 failed, and the other 90 were not run.
        assert failed.details["failed"] > failed.details["total"] / 2
        assert failed.details["total"] == 10 and failed.details["requested"] == 100
        return
    for name, (low, high) in fit.conf_int().items():
        assert low <= fit.params[name] <= high, name


@pytest.fixture(scope="module")
def luo_fits(shared_data):
    """Per size: the curves and the ``luo2025`` profile's fit on the authors' split
    (30 bootstrap draws, each rerunning the procedure: about 1 s a replicate)."""
    out = {}
    for size in SIZES:
        curves = _curves(shared_data, size)
        train = [curves[n] for n in TRAIN]
        out[size] = (
            curves,
            fit_curves(train, bootstrap=30, seed=0, profile="luo2025"),
        )
    return out


@pytest.mark.slow
@pytest.mark.parametrize("size, within", [("25", 0.03), ("100", 0.2), ("400", 0.03)])
def test_luo2025_profile_gives_the_published_parameters(luo_fits, size, within):
    """The published parameters are the authors' AdamW procedure stopped early, not the
    optimum of their objective: ``profile="luo2025"`` on the same curves lands within
    3 % of every published parameter at 25M and 400M (measured 0.02-2.9 %; at 100M
    within 20 %, measured up to 18 % for C), stops after 94, 67 and 87 AdamW steps,
    while our converged fit reaches a training objective below half of theirs
    (measured 2.3x and 6.3x lower at 25M and 400M)."""
    from scalinglab.analysis.luo2025 import NAMES, objective_and_gradient
    from scalinglab.laws.curves import build_design

    curves, rerun = luo_fits[size]
    published = MULTIPOWER_PUBLISHED[f"{size}M"]
    assert rerun.params == pytest.approx(published, rel=within)
    (stop,) = (d for d in rerun.diagnostics if d.code == "early_stopped")
    assert stop.details["steps"] == {"25": 94, "100": 67, "400": 87}[size]
    train = [curves[n] for n in TRAIN]
    design = build_design([c.schedule.lr for c in train], [c.steps for c in train])
    loss = np.concatenate([c.loss for c in train])

    def objective(params):
        theta = np.array([params[n] for n in NAMES])
        return objective_and_gradient(design, loss, theta)[0]

    assert rerun.objective == pytest.approx(objective(rerun.params), rel=1e-9)
    ours = fit_curves(train, bootstrap=0)
    assert ours.objective < rerun.objective
    if size != "100":
        assert objective(ours.params) < 0.5 * objective(published)


@pytest.mark.slow
def test_luo2025_median_final_error_at_or_below_published(luo_fits):
    """Issue 8's claim, with the authors' procedure: on the 18 held-out schedules the
    median |final-loss error| of ``profile="luo2025"`` is at or below the published
    parameters'. Measured (2026-12-02): 0.178 % against 0.288 %, with no tolerance: the
    gap is 2.8 sd of the profile's median over its own bootstrap replicates (30 per
    size, each rerunning the procedure; sd 0.039 pp), and 2 sd bounds how far the
    measured 0.178 % may move.
    """
    ours_median, theirs_median, noise = _held_out_medians(luo_fits)
    print(
        f"median |final error|: luo2025 {ours_median:.4%}, published "
        f"{theirs_median:.4%}, sd of luo2025's over replicates {noise:.4%}"
    )
    assert ours_median <= theirs_median
    assert ours_median == pytest.approx(0.00178, abs=2 * noise)


def _held_out_medians(fits) -> tuple[float, float, float]:
    """Median |final-loss error| over the 18 held-out schedules of these fits and of the
    published parameters, and the sd of the fits' median over their bootstrap replicates."""
    ours, theirs, replicates = [], [], []
    for size in SIZES:
        curves, fit = fits[size]
        assert fit.draws is not None, [d.message for d in fit.diagnostics]
        reference = replace(fit, params=dict(MULTIPOWER_PUBLISHED[f"{size}M"]))
        for name, curve in curves.items():
            if name in TRAIN:
                continue
            mine = evaluate_curve(fit, curve)
            ours.append(abs(mine["final_rel_err"]))
            theirs.append(abs(evaluate_curve(reference, curve)["final_rel_err"]))
            step = np.array([curve.steps[-1]])
            drawn = fit.draw_predictions(curve.schedule, step)[:, 0]
            replicates.append(np.abs(drawn / mine["final_loss"] - 1.0))
    assert len(ours) == 18
    # Replicates of the three sizes' fits are independent; pair them by index (sizes keep
    # different numbers of converged replicates).
    kept = min(r.size for r in replicates)
    medians = np.median(np.vstack([r[:kept] for r in replicates]), axis=0)
    return np.median(ours), np.median(theirs), float(np.std(medians, ddof=1))
