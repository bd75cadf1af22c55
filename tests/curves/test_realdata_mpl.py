"""Multi-power law on the authors' released curves (../shared/data/multipower_lr_curves).

The authors' split: fit on cosine_24000 + constant_24000 + wsdcon_9, predict the six
others (72k-step runs, WSD variants, other two-stage schedules).
"""

from __future__ import annotations

import pytest

from scalinglab.analysis.curves import curve_from_log, evaluate_curve, fit_curves
from scalinglab.io.logs import read_curves
from scalinglab.laws.curves import MULTIPOWER_PUBLISHED

TRAIN = ("cosine_24000", "constant_24000", "wsdcon_9")
pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.mark.parametrize("size", ["25", "100", "400"])
def test_fit_short_runs_predict_long_and_held_out(shared_data, size):
    root = shared_data / "multipower_lr_curves" / f"csv_{size}"
    if not root.is_dir():
        pytest.skip(f"{root} is missing")
    curves = {log.name: curve_from_log(log) for log in read_curves(root)}
    fit = fit_curves([curves[n] for n in TRAIN], law="multipower", bootstrap=0)
    published = MULTIPOWER_PUBLISHED[f"{size}M"]
    # The well-identified parameters agree with the authors' fit.
    assert fit.params["L0"] == pytest.approx(published["L0"], rel=0.02)
    assert fit.params["alpha"] == pytest.approx(published["alpha"], rel=0.1)
    reference = fit.__class__(**{**fit.__dict__, "params": dict(published)})
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
