"""Why the published multi-power parameters beat our fit on the held-out schedules.

Run ``python benchmarks/exp_multipower_procedure.py`` (about 1-2 min of CPU; needs
../shared/data/multipower_lr_curves). On the authors' split (fit cosine_24000,
constant_24000 and wsdcon_9; score the other six schedules of each size) it compares
three parameter sets on the same data, schedules and objective (summed Huber,
delta 1e-3, on log loss):

- ours: ``fit_curves`` (multi-start Levenberg-Marquardt run to convergence);
- published: the README / ``src/config.py`` parameters (formulas.md 7.2);
- the authors' procedure re-run: ``fit_curves(..., profile="luo2025")``
  (:mod:`scalinglab.analysis.luo2025`): their initialisation (a 135-point grid of
  L-BFGS-B fits of the simplified law ``L0 + A S1^-alpha - B (3e-4 - eta)``, then
  C = 1, beta = gamma = 0.5) and their optimiser (AdamW as torch defines it: lr 5e-2
  for L0, A, B, C and 5e-3 for alpha, beta, gamma, weight decay 1e-2; at most 200
  steps, stopped after 20 without improvement).

It prints each parameter set's training objective and final-loss error per held-out
schedule, and the median |final-loss error| over the 18. Measured (2026-12-02): the
re-run stops after 94, 67 and 87 steps and lands within 3 % of every published
parameter at 25M and 400M (within 18 % at 100M), so those are that procedure's
output. Its training objective is 2.3-10x the minimum ours reaches (the published
parameters' 2.3-6.3x): the fit stops well short of the optimum of its own objective,
which keeps the weakly identified loss-drop parameters (C, beta, gamma) near their
start (1, 0.5, 0.5), where ours go to C ~ 0.07 or its bound. Medians: ours 0.305 %,
published 0.288 %, the re-run 0.178 %.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "multipower_lr_curves"
TRAIN = ("cosine_24000", "constant_24000", "wsdcon_9")


def main() -> int:
    from scalinglab.analysis.curves import curve_from_log, evaluate_curve, fit_curves
    from scalinglab.analysis.luo2025 import NAMES, objective_and_gradient
    from scalinglab.io.logs import read_curves
    from scalinglab.laws.curves import MULTIPOWER_PUBLISHED, build_design

    if not DATA.is_dir():
        print(f"{DATA} is missing", file=sys.stderr)
        return 1
    errors = {"ours": [], "published": [], "authors' procedure": []}
    for size in ("25", "100", "400"):
        curves = {
            log.name: curve_from_log(log) for log in read_curves(DATA / f"csv_{size}")
        }
        train = [curves[n] for n in TRAIN]
        design = build_design([c.schedule.lr for c in train], [c.steps for c in train])
        loss = np.concatenate([c.loss for c in train])
        ours = fit_curves(train, bootstrap=0)
        rerun = fit_curves(train, bootstrap=0, profile="luo2025")
        fits = {
            "ours": ours,
            "published": replace(ours, params=dict(MULTIPOWER_PUBLISHED[f"{size}M"])),
            "authors' procedure": rerun,
        }
        (stop,) = (d for d in rerun.diagnostics if d.code == "early_stopped")
        steps = stop.details["steps"]
        print(f"\n{size}M (authors' procedure stopped after {steps} AdamW steps)")
        for label, fit in fits.items():
            theta = np.array([fit.params[n] for n in NAMES])
            value = objective_and_gradient(design, loss, theta)[0]
            shown = ", ".join(f"{n} {fit.params[n]:.4g}" for n in NAMES)
            print(f"  {label:19s} objective {value:.3e}  {shown}")
        for name, curve in curves.items():
            if name in TRAIN:
                continue
            row = {
                k: evaluate_curve(f, curve)["final_rel_err"] for k, f in fits.items()
            }
            for k, v in row.items():
                errors[k].append(abs(v))
            print(
                f"    {name:18s} " + "  ".join(f"{k} {v:+.3%}" for k, v in row.items())
            )
    print("\nmedian |final-loss error| over the 18 held-out schedules:")
    for label, values in errors.items():
        print(f"  {label:19s} {np.median(values):.3%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
