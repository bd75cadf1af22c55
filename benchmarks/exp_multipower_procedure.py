"""Why the published multi-power parameters beat our fit on the held-out schedules.

Run ``python benchmarks/exp_multipower_procedure.py`` (about 1-2 min of CPU; needs
../shared/data/multipower_lr_curves). On the authors' split (fit cosine_24000,
constant_24000 and wsdcon_9; score the other six schedules of each size) it compares
three parameter sets on the same data, schedules and objective (summed Huber,
delta 1e-3, on log loss):

- ours: ``fit_curves`` (multi-start Levenberg-Marquardt run to convergence);
- published: the README / ``src/config.py`` parameters (formulas.md 7.2);
- the authors' procedure re-run here: their initialisation (a 135-point grid of
  L-BFGS-B fits of the simplified law ``L0 + A S1^-alpha - B (3e-4 - eta)``, then
  C = 1, beta = gamma = 0.5) and their optimiser (AdamW as torch defines it: lr 5e-2
  for L0, A, B, C and 5e-3 for alpha, beta, gamma, weight decay 1e-2; at most 200
  steps, stopped after 20 without improvement), written out in numpy with the law's
  analytic derivatives.

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
from itertools import product
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "multipower_lr_curves"
TRAIN = ("cosine_24000", "constant_24000", "wsdcon_9")
NAMES = ("L0", "A", "alpha", "B", "C", "beta", "gamma")
DELTA = 1e-3
ADAM_LR = np.array([5e-2, 5e-2, 5e-3, 5e-2, 5e-2, 5e-3, 5e-3])  # in NAMES order
WEIGHT_DECAY, MAX_STEPS, PATIENCE = 1e-2, 200, 20


def huber(r: np.ndarray) -> np.ndarray:
    a = np.abs(r)
    return np.where(a < DELTA, 0.5 * r * r, DELTA * (a - 0.5 * DELTA))


def authors_init(design, loss: np.ndarray) -> np.ndarray:
    """Their initialize_params: log-log regression, then the best L-BFGS-B fit of the
    simplified law from a 5 x 3 x 3 x 3 grid; C, beta, gamma start at 1, 0.5, 0.5."""
    from scipy.optimize import minimize
    from scipy.stats import linregress

    low = loss.min()
    slope, intercept = linregress(np.log(design.S1), np.log(loss - low + 0.01))[:2]

    def simplified(p):
        L0, A, alpha, B = p
        pred = L0 + A * design.S1**-alpha - B * (3e-4 - design.eta)
        with np.errstate(all="ignore"):
            value = huber(np.log(loss) - np.log(pred)).sum()
        return value if np.isfinite(value) else 1e10

    grid = product(
        np.linspace(low - 0.2, low + 0.2, 5),
        np.linspace(np.exp(intercept) - 0.1, np.exp(intercept) + 0.1, 3),
        np.linspace(-slope - 0.1, -slope + 0.1, 3),
        np.linspace(100, 1000, 3),
    )
    options = {"maxiter": 100000, "ftol": 1e-9, "gtol": 1e-6, "eps": 1e-8}
    fits = [
        minimize(
            simplified, p, method="L-BFGS-B", bounds=[(0, None)] * 4, options=options
        )
        for p in grid
    ]
    best = min(fits, key=lambda r: r.fun)
    return np.concatenate([best.x, [1.0, 0.5, 0.5]])


def objective_and_gradient(design, loss: np.ndarray, theta: np.ndarray):
    """Summed Huber on log loss and its gradient in the natural parameters."""
    from scalinglab.laws.curves import _loss_drop_terms

    L0, A, alpha, B, C, beta, gamma = theta
    drop, *d_drop = (t[0] for t in _loss_drop_terms(design, B, C, beta, gamma, True))
    power = design.S1**-alpha
    pred = L0 + A * power + drop
    r = np.log(loss) - np.log(np.maximum(pred, 1e-10))
    d_pred = np.array(
        [np.ones_like(power), power, -A * power * np.log(design.S1), *d_drop]
    )
    return huber(r).sum(), -(d_pred * (np.clip(r, -DELTA, DELTA) / pred)).sum(axis=1)


def authors_adamw(design, loss: np.ndarray, theta: np.ndarray):
    """Their mpl_adam_fit: AdamW steps, patience 20, the best loss's parameters kept
    (as they record them: after the step that followed the evaluation)."""
    first, second = np.zeros(7), np.zeros(7)
    best, best_theta, lowest, stale = np.inf, theta, np.inf, 0
    for step in range(MAX_STEPS):
        value, grad = objective_and_gradient(design, loss, theta)
        theta = theta * (1 - ADAM_LR * WEIGHT_DECAY)
        first = 0.9 * first + 0.1 * grad
        second = 0.999 * second + 0.001 * grad**2
        scale = np.sqrt(second / (1 - 0.999 ** (step + 1))) + 1e-8
        theta = theta - ADAM_LR * first / (1 - 0.9 ** (step + 1)) / scale
        lowest, stale = (value, 0) if value < lowest else (lowest, stale + 1)
        if step > PATIENCE and stale >= PATIENCE:
            break
        if value < best:
            best, best_theta = value, theta.copy()
    return dict(zip(NAMES, best_theta)), step + 1


def main() -> int:
    from scalinglab.analysis.curves import curve_from_log, evaluate_curve, fit_curves
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
        rerun, steps = authors_adamw(design, loss, authors_init(design, loss))
        fits = {
            "ours": ours,
            "published": replace(ours, params=dict(MULTIPOWER_PUBLISHED[f"{size}M"])),
            "authors' procedure": replace(ours, params=rerun),
        }
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
