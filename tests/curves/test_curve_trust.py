"""What a new user of `curve fit` / `curve predict` can trust (issue 8, item 7).

Each test failed before its fix: bound diagnostics, typed-schedule warmup, spec keys,
intervals that exclude their estimate, outlier rows per file, prediction scoring.
"""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.fit.diagnostics import at_bounds
from scalinglab.laws.base import make_law


def _law():
    def law(x, *, a, b):
        """y = a + b x."""
        return a + b * x

    return make_law(
        law,
        {
            "a": {"init": 1.0, "lower": 1e-3, "upper": 5.0},
            "b": {"init": 1.0, "lower": 0.0, "upper": 3.0},
        },
    )


def test_bound_diagnostic_is_relative_to_the_bound_not_the_range():
    law = _law()
    # 0.022 is 22x the lower bound 0.001 (but within 1% of the range [0.001, 5]): not at it.
    assert at_bounds(law, {"a": 0.022, "b": 1.0}) == []
    flagged = at_bounds(law, {"a": 0.00101, "b": 2.99})
    assert [(d.details["param"], d.details["side"]) for d in flagged] == [
        ("a", "lower"),
        ("b", "upper"),
    ]
    # A bound of 0 keeps the range as its scale: 0.01 of [0, 3] is at the bound.
    assert [d.details["param"] for d in at_bounds(law, {"a": 1.0, "b": 0.01})] == ["b"]


# -- shared synthetic data: Tissue-law curves logged from the end of a 200-step warmup --

TRUTH = {"L0": 2.74, "A": 0.45, "alpha": 0.6, "C": 0.35}


def _tissue(schedule, steps):
    """L0 + A S1^-alpha - C S2 computed directly from the schedule (independent of the law)."""
    from scipy.signal import lfilter

    lr = schedule.lr
    drop = np.concatenate([[0.0], lr[:-1] - lr[1:]])
    drop[: int(np.argmax(lr)) + 1] = 0.0
    area2 = np.cumsum(lfilter([1.0], [1.0, -0.999], drop))
    return (
        TRUTH["L0"]
        + TRUTH["A"] * np.cumsum(lr)[steps] ** -TRUTH["alpha"]
        - TRUTH["C"] * area2[steps]
    )


def _write_curve(path, schedule, warmup, every=25, spike_row=None, noise=0.0):
    import pandas as pd

    steps = np.arange(warmup, schedule.steps, every)
    loss = _tissue(schedule, steps) * np.exp(
        noise * np.random.default_rng(0).standard_normal(steps.size)
    )
    if spike_row is not None:
        loss[spike_row - 1] *= 1.05
    pd.DataFrame({"step": steps, "lr": schedule.lr[steps], "loss": loss}).to_csv(
        path, index=False
    )
    return path


def _cosine_and_constant(folder):
    """Noise-free cosine and constant curves (4,000 steps, peak 3e-4, warmup 200)."""
    from scalinglab.schedules import constant, cosine

    return [
        _write_curve(
            folder / "cos.csv", cosine(4000, 3e-4, final=3e-5, warmup=200), 200
        ),
        _write_curve(folder / "const.csv", constant(4000, 3e-4, warmup=200), 200),
    ]


def _fit_tissue(files, *options):
    """``scalinglab curve fit FILES --law tissue --bootstrap 0 OPTIONS``."""
    return _cli(
        "curve",
        "fit",
        *map(str, files),
        "--law",
        "tissue",
        "--bootstrap",
        "0",
        *options,
    )


@pytest.fixture()
def fitted(tmp_path):
    """A Tissue-law fit (saved JSON) of a cosine and a constant curve with warmup 200."""
    saved = tmp_path / "fit.json"
    out = _fit_tissue(_cosine_and_constant(tmp_path), "-o", str(saved))
    assert out.exit_code == 0, out.output
    return saved


class _Result:
    def __init__(self, code: int, output: str):
        self.exit_code, self.output = code, output


def _cli(*args):
    """Run ``scalinglab ARGS`` through main (ScalinglabError -> exit 1); output is stdout+stderr."""
    import contextlib
    import io

    from scalinglab.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
    return _Result(code, out.getvalue() + err.getvalue())


def _predict(fit, schedule, *options):
    """``scalinglab curve predict --fit FIT --schedule SCHEDULE OPTIONS``."""
    return _cli("curve", "predict", "--fit", str(fit), "--schedule", schedule, *options)


def test_typed_schedule_takes_the_fitted_warmup(fitted):
    import json

    from scalinglab.schedules import constant

    # Before: warmup silently 0, so the prediction for the fitted curve itself was far off
    # (the area S1 lacks the warmup's 200 * peak / 2).
    out = _predict(fitted, "constant:steps=4000,peak=3e-4", "--json")
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["schedule"].endswith("warmup=200")
    truth = _tissue(constant(4000, 3e-4, warmup=200), np.array([3999]))[0]
    assert payload["final_loss"] == pytest.approx(truth, rel=2e-4)
    no_warmup = _tissue(constant(4000, 3e-4, warmup=0), np.array([3999]))[0]
    assert abs(no_warmup / truth - 1) > 1e-3  # the test can tell the two apart


def test_typed_schedule_refuses_ambiguous_warmup(tmp_path):
    from scalinglab.schedules import constant, cosine

    files = [
        _write_curve(tmp_path / "a.csv", cosine(4000, 3e-4, warmup=200), 200),
        _write_curve(tmp_path / "b.csv", constant(4000, 3e-4, warmup=1000), 1000),
    ]
    saved = tmp_path / "fit.json"
    assert _fit_tissue(files, "-o", str(saved)).exit_code == 0
    out = _predict(saved, "constant:steps=4000,peak=3e-4")
    assert out.exit_code == 1
    assert "do not share one warmup" in out.output and "a 200" in out.output
    explicit = _predict(saved, "constant:steps=4000,peak=3e-4,warmup=500")
    assert explicit.exit_code == 0, explicit.output


def test_spec_typo_lists_the_valid_keys(fitted):
    from scalinglab.errors import ScalinglabError
    from scalinglab.schedules import parse_spec

    with pytest.raises(
        ScalinglabError,
        match=r"unknown key 'finl' for cosine; valid keys: "
        r"steps, peak, warmup, final\.",
    ):
        parse_spec("cosine:steps=100,peak=1e-3,finl=0")
    out = _predict(fitted, "cosine:steps=4000,peak=3e-4,finl=0")
    assert out.exit_code == 1
    assert "unexpected keyword" not in out.output and "valid keys" in out.output


def test_predict_help_documents_every_spec_key():
    from scalinglab.schedules import SPEC_KEYS

    text = " ".join(_cli("curve", "predict", "--help").output.replace("│", " ").split())
    for family, keys in SPEC_KEYS.items():
        assert f"{family}: {', '.join(keys)}" in text


def test_actual_scores_the_prediction(fitted, tmp_path):
    import json

    from scalinglab.schedules import cosine

    held = cosine(6000, 3e-4, final=0.0, warmup=200)
    observed = _write_curve(tmp_path / "held.csv", held, 200, every=50)
    out = _predict(
        fitted,
        "cosine:steps=6000,peak=3e-4,final=0",
        "--actual",
        str(observed),
        "--json",
    )
    assert out.exit_code == 0, out.output
    score = json.loads(out.output)["actual"]
    # The fit recovers the law, so the prediction matches the curve it generated ...
    assert abs(score["final_rel_err"]) < 1e-3 and score["mean_abs_rel_err"] < 1e-3
    assert score["final_step"] == 5950 and score["notes"] == []
    # ... and a wrong schedule is scored as wrong, with a note on the LR mismatch.
    wrong = _predict(fitted, "constant:steps=6000,peak=3e-4", "--actual", str(observed))
    assert wrong.exit_code == 0, wrong.output
    assert "observed held" in wrong.output and "learning rate differs" in wrong.output


def test_outliers_are_named_by_file_and_row(tmp_path):
    from scalinglab.schedules import constant, cosine

    files = [
        _write_curve(
            tmp_path / "cos.csv",
            cosine(4000, 3e-4, final=3e-5, warmup=200),
            200,
            noise=2e-3,
        ),
        _write_curve(
            tmp_path / "const.csv",
            constant(4000, 3e-4, warmup=200),
            200,
            spike_row=40,
            noise=2e-3,
        ),
    ]
    out = _fit_tissue(files)
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    # Row 40 of const.csv is step 200 + 39 * 25; numbered across both files it was row 196.
    assert (
        f"1 point(s) lie more than 4 robust SDs from the fit: const at step {200 + 39 * 25} (data row 40 of {files[1]})"
        in text
    )
    assert "196" not in text


def test_interval_missing_its_estimate_is_reported():
    from scalinglab.analysis.curves import CurveFit, interval_checks

    draws = np.column_stack([np.linspace(1.0, 2.0, 50), np.linspace(0.4, 0.6, 50)])
    fit = CurveFit("tissue", {"a": 0.5, "b": 0.5}, 0.0, True, draws, ("a", "b"), ())
    found = interval_checks(fit)
    assert [d.code for d in found] == ["interval_excludes_estimate"]
    assert "a 0.5 outside" in found[0].message and "b 0.5" not in found[0].message


def test_stratified_run_weights_keep_every_group_size():
    from scalinglab.fit.bootstrap import run_weights

    run_index = np.repeat(np.arange(7), 3)
    strata = np.array([0, 0, 0, 1, 1, 1, 1])
    w = run_weights(run_index, 200, np.random.default_rng(0), strata)
    counts = w[:, ::3]  # one point per run
    np.testing.assert_array_equal(counts[:, :3].sum(axis=1), 3)
    np.testing.assert_array_equal(counts[:, 3:].sum(axis=1), 4)
    # Without strata: the draws of before (all runs in one pool).
    rng = np.random.default_rng(0)
    draws = rng.integers(0, 7, size=(200, 7))
    old = np.zeros((200, 7))
    np.add.at(old, (np.arange(200)[:, None], draws), 1.0)
    np.testing.assert_array_equal(
        run_weights(run_index, 200, np.random.default_rng(0)), old[:, run_index]
    )


def test_prediction_figure_skips_the_first_steps():
    import matplotlib

    matplotlib.use("Agg")
    from scalinglab.analysis.curves import CurvePrediction
    from scalinglab.plot.curves import schedules_figure

    steps = np.arange(0, 4000, 20)
    loss = 2.5 + 0.3 * (steps + 1.0) ** -0.5 + 20.0 * (steps == 0)  # step 0: 23
    fig = schedules_figure([CurvePrediction("s", steps, loss)])
    low, high = fig.axes[0].get_ylim()
    assert 2.49 < low < 2.51 and 2.5 < high < 2.6  # was 0..25


def test_fit_takes_the_fix_and_bound_its_advice_names(fitted, tmp_path):
    import json

    out = _fit_tissue(
        _cosine_and_constant(tmp_path),
        "--fix",
        "alpha=0.55",
        "--bound",
        "C=0.1,0.2",
        "--json",
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["params"]["alpha"] == 0.55
    assert payload["params"]["C"] == pytest.approx(
        0.2
    )  # the truth 0.35 lies above the bound
    advice = [d["message"] for d in payload["diagnostics"] if d["code"] == "at_bound"]
    assert advice and "--bound C=LOW,HIGH" in advice[0]


def test_band_that_leaves_out_the_prediction_is_noted():
    from scalinglab.analysis.curves import CurveFit
    from scalinglab.schedules import constant

    params = {"L0": 2.74, "A": 0.45, "alpha": 0.6, "C": 0.35}
    names = tuple(params)
    centred = np.tile([params[n] for n in names], (40, 1))
    centred[:, 0] += np.linspace(-0.01, 0.01, 40)
    curves = ({"name": "a", "lr_area": 10.0, "warmup": 0},)
    schedule = constant(2000, 3e-4, warmup=100)
    fit = CurveFit("tissue", params, 0.0, True, centred, names, curves)
    assert fit.predict(schedule, points=20).notes == ()
    shifted = CurveFit(
        "tissue", params, 0.0, True, centred + [0.05, 0, 0, 0], names, curves
    )
    (note,) = shifted.predict(schedule, points=20).notes
    assert "leaves out the prediction itself at 20 of 20 steps" in note


def test_optimize_takes_the_fitted_warmup(fitted):
    import json

    out = _cli(
        "curve",
        "optimize",
        "--fit",
        str(fitted),
        "--steps",
        "6000",
        "--peak",
        "3e-4",
        "--family",
        "cosine",
        "--json",
    )
    assert out.exit_code == 0, out.output
    names = [c["schedule"] for c in json.loads(out.output)["candidates"]]
    assert names and all(n.endswith("warmup=200") for n in names)  # was warmup=0


def test_aggregated_noise_is_not_flagged_as_outliers():
    """Aggregated points of w raw points scatter 1/sqrt(w) as much; the outlier scale is
    Huber's proposal 2 of residuals times sqrt(w), as for loss fits. The unweighted MAD
    it replaced flagged 17 of these 596 points (groups of 1-132 steps of pure
    log-normal noise) as more than 4 robust SDs out."""
    from scalinglab.analysis.curves import Curve, fit_curves
    from scalinglab.laws.curves import build_design, curve_law
    from scalinglab.schedules import constant, cosine

    truth = {"L0": 2.74, "A": 0.45, "alpha": 0.6, "C": 0.35}
    rng = np.random.default_rng(0)
    curves = []
    for s in (
        cosine(20000, 3e-4, final=3e-5, warmup=200),
        constant(20000, 3e-4, warmup=200),
    ):
        steps = np.arange(200, 20000)
        design = build_design([s.lr], [steps])
        loss = curve_law("tissue", design).predict(truth, point=np.arange(steps.size))
        noisy = loss * np.exp(2e-3 * rng.standard_normal(steps.size))
        curves.append(Curve(s.name, s, steps, noisy))
    fit = fit_curves(curves, law="tissue", bootstrap=0, max_points=300)
    assert sum(c["points"] for c in fit.curves) == 596
    assert "outliers" not in [d.code for d in fit.diagnostics]
