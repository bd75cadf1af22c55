"""Fit loss-curve laws to whole training curves and predict curves under other schedules.

A curve is the loss logged at some steps of a run whose learning rate is known at
every step (a :class:`~scalinglab.schedules.Schedule`). The two laws of
:mod:`scalinglab.laws.curves` (multi-power, Tissue et al.) are fitted with the one
engine :func:`scalinglab.fit.fit` (summed Huber, delta 1e-3, on log-loss residuals).

Long curves. A curve with more than ``max_points`` logged points is aggregated into
at most ``max_points`` groups of consecutive logged points (boundaries evenly and
geometrically spaced in step, see :func:`aggregate`); each group
becomes one point at its mean step (rounded) with its mean loss, weighted by the
group's size so the summed objective keeps the scale of the raw data. The LR
schedule itself is never downsampled (its cumulative sums are exact at every
step). Averaging within a group also averages out step-to-step noise; the bias
from the curve's curvature inside a group moves fitted exponents by less than 1e-3
relative on a 200,000-point curve kept at 1,000 points (``tests/curves``).

Intervals. The logged steps are a fixed design and the noise of neighbouring points
may be correlated, so the bootstrap keeps every point and perturbs the residuals:
log residuals, corrected for their leverage, redrawn in circular
blocks within each curve, the block length chosen from the curve's residual
autocorrelation (Politis & White 2004; single points, Efron's residual bootstrap,
for white noise). Every replicate is warm-started at the converged point estimate
(with ``profile="luo2025"`` it reruns the authors' whole procedure instead).
Replicates that do not converge within ``REPLICATE_OPTIONS["max_iter"]`` iterations
are left out and counted in a diagnostic. Prediction intervals (``ci95``) are basic
(reflected) bootstrap intervals of the replicates' predicted curves: parameter
uncertainty only, not run-to-run noise. A Huber fit's residuals sit in its quadratic
zone more often than its noise does, so the redrawn residuals are scaled by a factor
measured on a first batch of replicates (:func:`_noise_factor`). An interval that
does not contain its own estimate is reported, never printed silently.
docs/calibration.md has the coverage of these bands, why a bootstrap over blocks of
points ran 0.8x too narrow and why the bands are reflected and scaled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .._json import read_saved, write_json
from ..errors import ScalinglabError
from ..fit import diagnostics as diag
from ..fit import fit
from ..fit.diagnostics import Diagnostic
from ..fit.engine import (
    Problem,
    Refined,
    jacobian,
    objective_values,
    predictions,
    refine,
)
from ..fit.intervals import percentile_interval
from ..laws.curves import (
    CURVE_LAWS,
    DEFAULT_BINS_PER_OCTAVE,
    TISSUE_DECAY,
    build_design,
    curve_law,
)
from ..schedules import DECAY_SHAPES, Schedule, cosine, from_points, linear, wsd

__all__ = [
    "Curve",
    "CurveFit",
    "CurvePrediction",
    "ScheduleSearch",
    "aggregate",
    "block_length",
    "curve_from_log",
    "evaluate_curve",
    "fit_curves",
    "load_curve_fit",
    "optimize_schedule",
    "score_prediction",
]

FORMAT = "scalinglab.curvefit/1"
DEFAULT_MAX_POINTS = 1000
# Bootstrap replicates stop at a looser step/gain than the point fit (their spread is
# far larger than 1e-6 relative) and give up after max_iter: on 3 curves of the 400M
# multi-power data this halves the iterations and moves no percentile by 1e-7.
REPLICATE_OPTIONS = {"max_iter": 100, "xtol": 1e-6, "ftol": 1e-9}
_CONTINUATIONS = 3  # extra refinements of a point fit that stopped before converging
_OUTLIER_Z = 4.0
_WARMUP_AGREEMENT = 0.02  # warmups read from logs within 2 % are one warmup
_MAX_FAILED = 0.2  # more failed replicates than this: no intervals (not identified)
_PILOT = 10  # replicates run first; more than half failing stops the bootstrap


@dataclass(frozen=True, eq=False)
class Curve:
    """One observed curve: its schedule and the loss at some of its steps.

    Attributes
    ----------
    name : str
        Run name.
    schedule : Schedule
        LR at every step ``0 .. schedule.steps - 1``.
    steps : numpy.ndarray
        Observed steps (integers, increasing, within the schedule).
    loss : numpy.ndarray
        Loss at ``steps``.
    weights : numpy.ndarray
        Number of raw logged points each point stands for (1 unless aggregated).
    source : str
        File it was read from ("" when built in memory).
    rows : numpy.ndarray or None
        1-based data row of each point in ``source``, for messages (None when
        unknown or aggregated).
    """

    name: str
    schedule: Schedule
    steps: np.ndarray
    loss: np.ndarray
    weights: np.ndarray | None = None
    source: str = ""
    rows: np.ndarray | None = None

    def __post_init__(self) -> None:
        steps = np.asarray(self.steps, dtype=np.int64)
        loss = np.asarray(self.loss, dtype=float)
        if steps.shape != loss.shape or steps.ndim != 1 or steps.size < 2:
            raise ScalinglabError(
                f"curve {self.name!r}: steps and loss must be equal-length "
                f"arrays of 2 or more; got {steps.shape} and {loss.shape}."
            )
        if (
            np.any(np.diff(steps) <= 0)
            or steps[0] < 0
            or steps[-1] >= self.schedule.steps
        ):
            raise ScalinglabError(
                f"curve {self.name!r}: steps must increase within the schedule's 0.."
                f"{self.schedule.steps - 1}; got {steps[0]}..{steps[-1]}."
            )
        if not np.all(np.isfinite(loss) & (loss > 0)):
            raise ScalinglabError(
                f"curve {self.name!r}: losses must be finite and > 0."
            )
        w = (
            np.ones(steps.size)
            if self.weights is None
            else np.asarray(self.weights, float)
        )
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "loss", loss)
        object.__setattr__(self, "weights", w)


def curve_from_log(log, *, before: str = "warmup") -> Curve:
    """A :class:`Curve` from a logged curve (``name``, ``steps``, ``lr``, ``loss`` arrays).

    The per-step schedule is interpolated between logged LR values; before the
    first logged step the LR rises linearly from 0 (``before="warmup"``) or holds
    the first value (``"constant"``), see
    :func:`~scalinglab.schedules.from_points`.
    """
    schedule = from_points(log.steps, log.lr, name=log.name, before=before)
    return Curve(
        log.name,
        schedule,
        log.steps,
        log.loss,
        source=log.source,
        rows=getattr(log, "rows", None),
    )


def aggregate(steps: np.ndarray, loss: np.ndarray, max_points: int):
    """Group consecutive points into at most ``max_points`` groups.

    Group boundaries are the union of ``max_points/2`` steps evenly spaced over the
    curve and ``max_points/2`` geometrically spaced ones, so groups are short where
    the loss falls fast (early) and no longer than 2/max_points of the run anywhere.

    Returns
    -------
    steps, loss, weights : numpy.ndarray
        Mean step (rounded, strictly increasing), mean loss and size of each group.
    """
    steps, loss = np.asarray(steps), np.asarray(loss, dtype=float)
    if steps.size <= max_points:
        return steps.astype(np.int64), loss, np.ones(steps.size)
    half = max(max_points // 2, 1)
    first, last = float(steps[0]), float(steps[-1])
    marks = np.concatenate(
        [
            np.linspace(first, last, half + 1),
            np.geomspace(max(first, 1.0), last, max_points - half + 1),
        ]
    )
    edges = np.unique(np.concatenate([[0, steps.size], np.searchsorted(steps, marks)]))
    edges = edges[(edges >= 0) & (edges <= steps.size)]
    counts = np.diff(edges).astype(float)
    edges, counts = edges[:-1][counts > 0], counts[counts > 0]
    edges = np.append(edges, steps.size)
    mean_step = np.add.reduceat(steps.astype(float), edges[:-1]) / counts
    mean_loss = np.add.reduceat(loss, edges[:-1]) / counts
    return np.round(mean_step).astype(np.int64), mean_loss, counts


def _prepare(curve: Curve, max_points: int, skip_warmup: bool) -> Curve:
    keep = np.cumsum(curve.schedule.lr)[curve.steps] > 0
    if skip_warmup:
        keep &= curve.steps >= curve.schedule.phases().warmup[1]
    if keep.sum() < 2:
        raise ScalinglabError(
            f"curve {curve.name!r} has fewer than 2 points after warmup; "
            "log more steps or pass skip_warmup=False."
        )
    steps, loss, w = aggregate(curve.steps[keep], curve.loss[keep], max_points)
    rows = None if curve.rows is None or steps.size < keep.sum() else curve.rows[keep]
    return Curve(curve.name, curve.schedule, steps, loss, w * 1.0, curve.source, rows)


def warmup_of(schedule: Schedule) -> int:
    """Warmup steps of a schedule: its spec's ``warmup``, else the first step at the peak."""
    if "warmup" in schedule.spec:
        return int(schedule.spec["warmup"])
    return int(schedule.phases(tolerance=1e-6).warmup[1])


@dataclass(frozen=True, eq=False)
class CurvePrediction:
    """A predicted loss curve.

    Attributes
    ----------
    schedule : str
        Name or spec of the schedule.
    steps, loss : numpy.ndarray
        Steps and predicted loss.
    ci95 : tuple of numpy.ndarray or None
        (low, high) 95 % bootstrap band on the loss (parameter uncertainty).
    notes : tuple of str
        Extrapolation warnings.
    """

    schedule: str
    steps: np.ndarray
    loss: np.ndarray
    ci95: tuple[np.ndarray, np.ndarray] | None = None
    notes: tuple[str, ...] = ()

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1])

    def to_dict(self) -> dict:
        out = {
            "schedule": self.schedule,
            "steps": self.steps.tolist(),
            "loss": self.loss.tolist(),
            "final_loss": self.final_loss,
        }
        if self.ci95 is not None:
            out["ci95"] = [self.ci95[0].tolist(), self.ci95[1].tolist()]
        return out | {"notes": list(self.notes)}


@dataclass(frozen=True, eq=False)
class CurveFit:
    """A loss-curve law fitted to one or several curves.

    Attributes
    ----------
    law : str
        ``"multipower"`` or ``"tissue"``.
    params : dict
        Fitted parameters by name.
    objective : float
        Summed Huber objective at ``params``.
    converged : bool
        Whether the engine met its tolerances (always False with profile luo2025,
        which stops early by design).
    draws : numpy.ndarray or None
        (replicates, params) bootstrap parameter draws in ``param_names`` order,
        converged replicates only; None without a bootstrap or when more than 20 % of
        the replicates failed (see the ``bootstrap_not_converged`` diagnostic).
    param_names : tuple of str
        Parameter order of ``draws``.
    curves : tuple of dict
        Per fitted curve: name, source file, warmup (the default of typed schedule
        specs, :meth:`default_warmup`), first and last step, raw and used points, peak
        LR, LR area, and its fitted-curve errors (``final_rel_err``, ``mean_abs_rel_err``).
    diagnostics : tuple of Diagnostic
        Engine findings (parameters at bounds, non-convergence, ...).
    settings : dict
        Law settings (bins per octave, Tissue decay), aggregation, bootstrap, seed.
    """

    law: str
    params: dict[str, float]
    objective: float
    converged: bool
    draws: np.ndarray | None
    param_names: tuple[str, ...]
    curves: tuple[dict, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    settings: dict = field(default_factory=dict)

    # -- intervals ---------------------------------------------------------
    def conf_int(self, alpha: float = 0.05) -> dict[str, tuple[float, float]]:
        """Percentile bootstrap interval of each parameter."""
        if self.draws is None:
            raise ScalinglabError(
                "this curve fit has no bootstrap draws; refit with bootstrap > 0."
            )
        lo, hi = percentile_interval(self.draws, 1 - alpha)
        return {n: (float(a), float(b)) for n, a, b in zip(self.param_names, lo, hi)}

    def default_warmup(self) -> int:
        """The fitted curves' warmup: the default of a typed schedule spec.

        A warmup read from a log is the first logged step (the LR before it is assumed
        to rise linearly), so it is known only to the logging interval: warmups within
        2 % of each other count as one, the shortest (2160 for curves logged from
        steps 2160 and 2176).

        Raises
        ------
        ScalinglabError
            When the curves' warmups differ by more (or a fit saved before warmups
            were recorded): the spec must then say ``warmup=``.
        """
        warmups = [c.get("warmup") for c in self.curves]
        if None not in warmups and max(warmups) - min(
            warmups
        ) <= _WARMUP_AGREEMENT * max(warmups):
            return int(min(warmups))
        listing = ", ".join(
            f"{c['name']} {c.get('warmup', 'unknown')}" for c in self.curves
        )
        raise ScalinglabError(
            f"the fitted curves do not share one warmup ({listing} steps); say which the "
            "schedule has, e.g. 'cosine:steps=24000,peak=3e-4,warmup=2000'."
        )

    # -- prediction --------------------------------------------------------
    def _evaluate(
        self, schedule: Schedule, steps: np.ndarray, values: dict
    ) -> np.ndarray:
        design = build_design([schedule.lr], [steps], **self._design_settings())
        law = curve_law(self.law, design)
        with np.errstate(all="ignore"):
            return np.asarray(
                law.evaluate({"point": np.arange(steps.size)}, values), float
            )

    def _design_settings(self) -> dict:
        return {
            "bins_per_octave": self.settings.get(
                "bins_per_octave", DEFAULT_BINS_PER_OCTAVE
            ),
            "tissue_decay": self.settings.get("tissue_decay", TISSUE_DECAY),
        }

    def predict(
        self,
        schedule: Schedule,
        steps: np.ndarray | None = None,
        *,
        points: int = 200,
        level: float = 0.95,
    ) -> CurvePrediction:
        """Predicted loss under ``schedule`` at ``steps`` (default ``points`` evenly spaced
        steps from the end of warmup to the last step), with a bootstrap band."""
        steps = _prediction_steps(schedule, steps, points)
        point = {k: np.array([[v]]) for k, v in self.params.items()}
        loss = self._evaluate(schedule, steps, point)[0]
        band, notes = None, self._notes(schedule, steps)
        if self.draws is not None:
            band = _basic_band(self.draw_predictions(schedule, steps), loss, level)
            notes += _band_misses(steps, loss, band, level)
        return CurvePrediction(schedule.name, steps, loss, band, notes)

    def draw_predictions(self, schedule: Schedule, steps: np.ndarray) -> np.ndarray:
        """Loss under ``schedule`` at ``steps`` for every bootstrap draw, (replicates, steps)."""
        if self.draws is None:
            raise ScalinglabError(
                "this curve fit has no bootstrap draws; refit with bootstrap > 0."
            )
        values = {n: self.draws[:, i : i + 1] for i, n in enumerate(self.param_names)}
        return self._evaluate(schedule, np.asarray(steps, dtype=np.int64), values)

    def final_loss(
        self, schedule: Schedule
    ) -> tuple[float, tuple[float, float] | None]:
        """Predicted loss at the schedule's last step, and its 95 % band when draws exist."""
        prediction = self.predict(schedule, np.array([schedule.steps - 1]))
        band = (
            None
            if prediction.ci95 is None
            else (float(prediction.ci95[0][0]), float(prediction.ci95[1][0]))
        )
        return prediction.final_loss, band

    def _notes(self, schedule: Schedule, steps: np.ndarray) -> tuple[str, ...]:
        fitted = max(c["lr_area"] for c in self.curves)
        area = float(np.cumsum(schedule.lr)[steps[-1]])
        if area <= 1.05 * fitted:
            return ()
        note = (
            f"the schedule's LR area {area:.4g} is {area / fitted:.2f}x the largest "
            f"fitted one ({fitted:.4g}); this extrapolates the power-law term."
        )
        return (note,)

    # -- persistence -------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "law": self.law,
            "params": dict(self.params),
            "ci95": self.conf_int() if self.draws is not None else None,
            "objective": self.objective,
            "converged": self.converged,
            "param_names": list(self.param_names),
            "curves": list(self.curves),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "settings": dict(self.settings),
            "draws": None if self.draws is None else self.draws.tolist(),
        }

    def save(self, path: str | Path) -> Path:
        """Write the fit as JSON; :func:`load_curve_fit` restores it exactly."""
        return write_json(path, self.to_dict())


def load_curve_fit(path: str | Path) -> CurveFit:
    """Reload a fit written by :meth:`CurveFit.save`."""
    data = read_saved(
        path, format=FORMAT, what="curve fit", make="scalinglab curve fit ..."
    )
    draws = data.get("draws")
    return CurveFit(
        law=data["law"],
        params={k: float(v) for k, v in data["params"].items()},
        objective=float(data["objective"]),
        converged=bool(data["converged"]),
        draws=None if draws is None else np.asarray(draws, float),
        param_names=tuple(data["param_names"]),
        curves=tuple(data["curves"]),
        diagnostics=tuple(Diagnostic.from_dict(d) for d in data.get("diagnostics", [])),
        settings=dict(data.get("settings", {})),
    )


def _basic_band(draws: np.ndarray, loss: np.ndarray, level: float):
    """Basic (reflected) bootstrap band: ``2 loss - q_high, 2 loss - q_low`` of the
    replicates' percentiles (Davison & Hinkley 1997, eq. 5.6).

    A replicate is displaced from the estimate as the estimate is from the truth: on
    the calibration design the replicates' median shift from the estimate correlates
    0.25-0.40 with the estimate's own error (200-300 seeds), so percentiles, which
    add the shift, move the band away from the truth; reflecting them takes it off.
    """
    low, high = percentile_interval(draws, level)
    return 2.0 * loss - high, 2.0 * loss - low


def _band_misses(steps, loss, band, level: float) -> tuple[str, ...]:
    """A note when the bootstrap band leaves out the predicted curve itself."""
    outside = (loss < band[0]) | (loss > band[1])
    if not outside.any():
        return ()
    note = (
        f"the {level:.0%} band leaves out the prediction itself at {outside.sum()} of "
        f"{steps.size} steps (from step {steps[outside][0]}): the bootstrap distribution is "
        "biased (weakly identified parameters); do not read the band as an interval."
    )
    return (note,)


def _prediction_steps(schedule: Schedule, steps, points: int) -> np.ndarray:
    if steps is not None:
        steps = np.asarray(steps, dtype=np.int64)
        if steps.size == 0 or steps.min() < 0 or steps.max() >= schedule.steps:
            raise ScalinglabError(
                f"prediction steps must lie in 0..{schedule.steps - 1}."
            )
        return steps
    first = max(schedule.phases().warmup[1], int(np.argmax(np.cumsum(schedule.lr) > 0)))
    return np.unique(
        np.linspace(first, schedule.steps - 1, max(points, 2)).round().astype(np.int64)
    )


# -- fitting -------------------------------------------------------------------


def fit_curves(
    curves: Sequence[Curve],
    *,
    law: str = "multipower",
    bootstrap: int = 100,
    blocks: int | None = None,
    seed: int = 0,
    max_points: int = DEFAULT_MAX_POINTS,
    skip_warmup: bool = True,
    bins_per_octave: int | None = DEFAULT_BINS_PER_OCTAVE,
    tissue_decay: float = TISSUE_DECAY,
    objective: str = "huber",
    fixed: dict[str, float] | None = None,
    bounds: dict[str, tuple[float, float]] | None = None,
    refine_starts: int = 4,
    profile: str = "converged",
    progress: Callable[[int, int], None] | None = None,
) -> CurveFit:
    """Fit a loss-curve law to training curves.

    Parameters
    ----------
    curves : sequence of Curve
        One or more curves (schedules and observed losses).
    law : {"multipower", "tissue"}
        Multi-power law (Luo et al. 2025) or LR-annealing law (Tissue et al. 2024).
    bootstrap : int
        Block-bootstrap replicates (0: no intervals).
    blocks : int, optional
        Blocks per curve in which the bootstrap redraws residuals (block length =
        points / blocks); default: each curve's length over :func:`block_length` of its residuals (one
        point per block when they look independent).
    seed : int
        Seed of the bootstrap; the fit itself is deterministic.
    max_points : int
        Points kept per curve; longer curves are aggregated (module docs).
    skip_warmup : bool
        Drop points logged during warmup (the laws describe the post-warmup curve).
    bins_per_octave : int or None
        Resolution of the multi-power loss-drop sum (None: exact double sum).
    tissue_decay : float
        Momentum ``lambda`` of the Tissue annealing area (0.999 in the paper).
    objective : str
        Engine objective (default summed Huber, delta 1e-3, on log loss).
    fixed : dict, optional
        Parameters held at given values.
    bounds : dict, optional
        ``{name: (low, high)}`` replacing a parameter's bounds.
    refine_starts : int
        Best screened starts refined by the engine (each costs a full LM run).
    profile : {"converged", "luo2025"}
        ``"converged"``: the engine's multi-start Levenberg-Marquardt run to a
        stationary point. ``"luo2025"`` (multi-power law only, default objective,
        no ``fixed``/``bounds``): the authors' procedure
        (:mod:`scalinglab.analysis.luo2025`), AdamW stopped early from their
        initialisation; a higher training objective, closer to their published
        parameters and, on their held-out schedules, a lower final-loss error.
        Its bootstrap replicates rerun the whole procedure.
    progress : callable, optional
        Called as ``progress(done, total)`` during the bootstrap.

    Returns
    -------
    CurveFit

    Examples
    --------
    >>> from scalinglab.schedules import cosine
    >>> import numpy as np
    >>> s = cosine(3000, 3e-4, warmup=100)
    >>> steps = np.arange(100, 3000, 10)
    >>> area = np.cumsum(s.lr)[steps]
    >>> c = Curve("a", s, steps, 2.5 + 0.5 * area**-0.5)
    >>> round(fit_curves([c], law="tissue", bootstrap=0).params["alpha"], 3)
    0.5
    """
    if law not in CURVE_LAWS:
        raise ScalinglabError(
            f"unknown curve law {law!r}; choose one of {', '.join(CURVE_LAWS)}."
        )
    if not curves:
        raise ScalinglabError("fit_curves needs at least one curve.")
    _check_profile(profile, law, objective, fixed, bounds)
    used = [_prepare(c, max_points, skip_warmup) for c in curves]
    design = build_design(
        [c.schedule.lr for c in used],
        [c.steps for c in used],
        bins_per_octave=bins_per_octave,
        tissue_decay=tissue_decay,
    )
    loss = np.concatenate([c.loss for c in used])
    weights = np.concatenate([c.weights for c in used])
    built = curve_law(
        law, design, loss_min=float(loss.min()), loss_span=float(np.ptp(loss)) or 0.1
    )
    built = built.bound(**bounds) if bounds else built
    data = {
        "point": np.arange(loss.size),
        "loss": loss,
        "run": np.repeat(np.arange(len(used)), [c.steps.size for c in used]).astype(
            str
        ),
    }
    if profile == "luo2025":
        result, refit = _luo2025_fit(built, design, data, loss, weights, objective)
    else:
        if law == "multipower":
            built = _warm_start(built, design, data, loss, weights, objective, fixed)
        options = {"objective": objective, "weights": weights, "fixed": fixed}
        result, refit = _converged_fit(built, data, options, refine_starts), None
    found = [d for d in result.diagnostics if d.code not in ("few_runs", "outliers")]
    found += _outliers(used, result.params, law, design, len(result.law.free_params))
    draws, resampling, failures = _bootstrap_draws(
        result, used, blocks, bootstrap, seed, progress, refit
    )
    found += failures
    summary = tuple(
        _curve_summary(c, raw, result.params, law, design)
        for c, raw in zip(used, curves)
    )
    settings = {
        "bins_per_octave": bins_per_octave,
        "tissue_decay": tissue_decay,
        "profile": profile,
        "max_points": max_points,
        "skip_warmup": skip_warmup,
        "bootstrap": bootstrap,
        "bootstrap_method": "circular block bootstrap of leverage-corrected log "
        "residuals, scaled by noise_factor",
        **resampling,
        "seed": seed,
        "objective": result.objective_spec.to_dict(),
        "replicate_options": dict(REPLICATE_OPTIONS)
        if refit is None
        else "the luo2025 procedure, rerun from its initialisation",
        "aggregation": "groups of consecutive points (linear + geometric step "
        "boundaries): mean step, mean loss, weight = group size",
    }
    fitted = CurveFit(
        law,
        result.params,
        result.objective,
        result.converged,
        draws,
        built.param_names,
        summary,
        tuple(found),
        settings,
    )
    return replace(
        fitted, diagnostics=fitted.diagnostics + tuple(interval_checks(fitted))
    )


PROFILES = ("converged", "luo2025")


def _check_profile(profile, law, objective, fixed, bounds) -> None:
    """Refuse a profile the law or options do not allow, saying what to do."""
    if profile not in PROFILES:
        raise ScalinglabError(
            f"unknown curve-fit profile {profile!r}; choose one of {', '.join(PROFILES)}."
        )
    if profile != "luo2025":
        return
    if law != "multipower":
        raise ScalinglabError(
            f"profile luo2025 is the multi-power law authors' procedure; it does not fit "
            f"the {law} law. Use --law multipower, or the default profile (converged)."
        )
    if objective != "huber" or fixed or bounds:
        raise ScalinglabError(
            "profile luo2025 fits the authors' objective (summed Huber on log loss) with "
            "all seven parameters free; drop --fix/--bound/objective or use the default "
            "profile (converged)."
        )


def _luo2025_fit(built, design, data, loss, weights, objective):
    """The authors' procedure as an engine result (``converged`` False: it stops
    early by design), and the refit its bootstrap replicates run."""
    from ..fit.objectives import get_objective
    from ..fit.result import FitResult
    from .luo2025 import fit_luo2025

    params, steps = fit_luo2025(design, loss, weights)
    spec = get_objective(objective, None)
    problem = Problem(built, {"point": data["point"]}, loss, spec, weights)
    theta = built.pack(params)
    value = float(objective_values(problem, theta[None])[0])
    note = Diagnostic(
        "early_stopped",
        f"profile luo2025: AdamW stopped after {steps} steps (the authors' early stop), "
        f"short of the objective's optimum; objective {value:.4g}.",
        severity="info",
        details={"steps": steps},
    )

    def refit(replicate: Problem) -> Refined:
        drawn, _ = fit_luo2025(design, replicate.target, replicate.weights)
        packed = built.pack(drawn)[None]
        ok = np.all(np.isfinite(packed), axis=1)
        return Refined(packed, np.full(1, np.nan), ok, np.zeros(1, int), np.zeros(1))

    residuals = (predictions(problem, theta[None]) - problem.observed)[0]
    result = FitResult(
        law=built,
        params=params,
        objective=value,
        objective_spec=spec,
        converged=False,
        gradient=float("nan"),
        n_points=int(loss.size),
        n_runs=int(np.unique(data["run"]).size),
        diagnostics=(note,),
        draws=None,
        residual_scale=diag.residual_scale(residuals, len(params)),
        input_ranges={},
    )
    return result, refit


def _converged_fit(built, data, options, refine_starts):
    """The engine's fit, refined further from its own optimum while it has not converged
    (a weakly identified law can creep along a ridge for more than the engine's 500
    iterations; bootstrap replicates warm-started short of the optimum then drift
    past the estimate and give intervals that exclude it)."""
    first = fit(built, data, bootstrap=0, refine_starts=refine_starts, **options)
    result = first
    for _ in range(_CONTINUATIONS):
        if result.converged:
            break
        result = fit(
            built.with_init(**result.params),
            data,
            bootstrap=0,
            refine_starts=1,
            **options,
        )
    kept = tuple(d for d in first.diagnostics if d.code == "multiple_optima")
    return replace(
        result,
        diagnostics=kept
        + tuple(d for d in result.diagnostics if d.code != "multiple_optima"),
    )


def _warm_start(built, design, data, loss, weights, objective, fixed):
    """Start the multi-power law's (L0, A, alpha) from a Tissue-law fit (no pair sums, so
    cheap) and screen the grid only over the loss-drop parameters (B, C, beta, gamma):
    36 starts instead of 972, which keeps million-point fits within seconds. The
    multi-power authors likewise initialise from a simplified law (formulas.md 7.2)."""
    simple = curve_law(
        "tissue",
        design,
        loss_min=float(loss.min()),
        loss_span=float(np.ptp(loss)) or 0.1,
    )
    power = {k: v for k, v in (fixed or {}).items() if k in ("L0", "A", "alpha")}
    start = fit(
        simple, data, objective=objective, bootstrap=0, weights=weights, fixed=power
    ).params
    values = {k: start[k] for k in ("L0", "A", "alpha") if k not in power}
    values = {
        k: float(np.clip(v, built.param(k).lower, built.param(k).upper))
        for k, v in values.items()
    }
    return built.with_init(**values)


def block_length(residuals: np.ndarray) -> int:
    """Block length for a series' bootstrap from its autocorrelation (1 for white noise).

    The automatic choice of Politis & White (2004, with the correction of Patton,
    Politis & White 2009) for the circular block bootstrap: the lag window ends where
    the autocorrelations become insignificant (Politis 2003: 5 lags in a row within
    2 sqrt(log10(n) / n)), and the length is (2 G^2 / D)^(1/3) n^(1/3) from the
    window's spectral estimates.

    Parameters
    ----------
    residuals : numpy.ndarray
        One curve's residuals in step order.

    Returns
    -------
    int
        Block length in points, between 1 and ``residuals.size``.
    """
    n = residuals.size
    x = residuals - residuals.mean()
    acov = np.correlate(x, x, "full")[n - 1 :] / n
    if n < 8 or acov[0] <= 0:
        return 1
    small = np.abs(acov[1:] / acov[0]) < 2.0 * np.sqrt(np.log10(n) / n)
    runs = [m for m in range(n - 6) if small[m : m + 5].all()]
    bandwidth = min(2 * (runs[0] if runs else n // 2), n - 1)
    if bandwidth == 0:
        return 1
    lags = np.arange(-bandwidth, bandwidth + 1)
    window = np.clip(2.0 * (1.0 - np.abs(lags) / bandwidth), 0.0, 1.0)
    g = np.sum(window * np.abs(lags) * acov[np.abs(lags)])
    spectrum = np.sum(window * acov[np.abs(lags)])
    if spectrum <= 0:
        return 1
    length = (2.0 * g**2 / (4.0 / 3.0 * spectrum**2)) ** (1 / 3) * n ** (1 / 3)
    return int(np.clip(np.ceil(length), 1, n))


def _bootstrap_draws(result, curves, blocks, replicates, seed, progress, refit=None):
    """Draws (None without a bootstrap or when more than 20 % of replicates failed),
    the bootstrap's ``blocks`` per curve and ``noise_factor`` (None without a
    bootstrap) and the failure diagnostics."""
    if replicates <= 0:
        return None, {"blocks": None, "noise_factor": None}, []
    draws, failed, ran, counts, kappa = _residual_bootstrap(
        result, curves, blocks, replicates, seed, progress, refit
    )
    if failed > _MAX_FAILED * ran:
        draws = None
    design = {"blocks": counts, "noise_factor": kappa}
    return draws, design, _replicate_failures(failed, ran, replicates)


def _residual_bootstrap(result, curves, blocks, replicates, seed, progress, refit):
    """Parameter draws of the converged replicates of a residual block bootstrap, how
    many replicates did not converge, how many ran, the blocks per curve and the
    noise scale ``kappa`` of the replicates.

    The logged steps are a fixed design, so every replicate keeps them all: its log
    losses are the fitted curve plus residuals drawn in circular blocks within each
    curve (:func:`_resampled_residuals`), refitted from the point estimate. With white
    noise the blocks are single points (Efron's residual bootstrap, pooling a curve's
    residuals into one noise estimate). Resampling blocks of points as runs instead
    (10 per curve) left the block that pins a curve's final loss out of a third of
    the replicates and lost the noise the fit absorbs into its smooth terms: its bands
    ran 0.8x the estimate's spread (docs/calibration.md).

    A first batch of ``_PILOT`` replicates runs alone at ``kappa = 1``: when more than
    half of it fails, the rest is not run (were at most 20 % of all replicates to
    fail, 6 or more of 10 would happen with probability 0.6 %), which spares the
    minutes a law the curves do not identify would cost. Otherwise it measures
    ``kappa`` (:func:`_noise_factor`) and all ``replicates`` run with their redrawn
    residuals times ``kappa``.

    A ``refit`` other than the engine's (profile luo2025, which reruns the authors'
    procedure) keeps ``kappa = 1`` and the pilot among the replicates: the factor
    corrects what a converged M-estimate does to its residuals, while an early-stopped
    fit's residuals still carry the misfit it stopped at (with the factor, 14 of 30
    replicates at 100M went non-finite).
    """
    loss = np.concatenate([c.loss for c in curves])
    weights = np.concatenate([c.weights for c in curves])
    inputs = {"point": np.arange(loss.size)}
    spec, theta = result.objective_spec, result.law.pack(result.params)
    base = Problem(result.law, inputs, loss, spec, weights)
    fitted = _loss_scale(spec, predictions(base, theta[None])[0])
    raw = np.log(loss / fitted)
    counts = (
        [blocks] * len(curves)
        if blocks
        else _block_counts(curves, raw * np.sqrt(weights))
    )
    residuals = raw / np.sqrt(1.0 - _leverage(base, theta))
    rng = np.random.default_rng(seed)
    scaled = refit is None
    if scaled:

        def refit(problem):
            return refine(problem, theta[None], **REPLICATE_OPTIONS)

    def refits(count: int, kappa: float, report=None):
        outs = []
        for done in range(count):
            noise = kappa * _resampled_residuals(curves, residuals, counts, rng)
            problem = replace(base, target=fitted * np.exp(noise))
            out = refit(problem)
            outs.append((problem, out))
            if report is not None and (done + 1) % _chunk(count) == 0:
                report(done + 1, count)
        return outs

    outs = pilot = refits(min(_PILOT, replicates), 1.0)
    kappa = 1.0
    enough = sum(bool(out.converged[0]) for _, out in pilot) >= _PILOT / 2
    if enough and scaled:
        own = np.concatenate(_unit_residuals(curves, residuals))
        kappa = _noise_factor(base, theta, own, pilot)
        outs = refits(replicates, kappa, progress)
    elif enough:
        outs = pilot + refits(replicates - len(pilot), kappa, progress)
    converged = np.array([bool(out.converged[0]) for _, out in outs])
    thetas = np.array([out.theta[0] for _, out in outs])
    values = result.law.unpack(thetas[converged])
    draws = np.column_stack([values[n][:, 0] for n in result.law.param_names])
    ran = converged.size
    failed = int(ran - converged.sum())
    return (draws if draws.shape[0] >= 2 else None), failed, ran, list(counts), kappa


def _noise_factor(base: Problem, theta: np.ndarray, own: np.ndarray, pilot) -> float:
    """Factor on the redrawn residuals that gives replicates the noise of the data.

    A robust fit's residuals are not its noise: a Huber fit with delta below the noise
    pulls about one residual per parameter into the quadratic zone (an L1 fit sets
    them to zero), so resampled residuals sit there more often than the noise does,
    and the fit looks more efficient on them than it is on the data. An M-estimate's
    spread scales as the square root of the sandwich factor ``c`` of its noise
    (:func:`_sandwich_factor`). Each pilot replicate shows what fitting does: the
    ``c`` of its residuals over that of the noise it was given, ``f`` on average. The
    data's noise then has ``c(r) / f`` from the data's residuals ``r``, the redrawn
    residuals have ``c`` of ``own`` (each point's own redrawable residual), so

    .. math:: \\kappa = \\sqrt{c(r) / (f\\, c(\\mathrm{own}))}

    (one step of a double bootstrap). For least squares the leverage correction
    already makes it 1. Fitting only pulls residuals in, so a value below 1 is the
    measurement's noise (sd about 0.07 on 96 points) or a misfit law's systematic
    residuals (0.80 for the Tissue law on 100M multi-power curves): ``kappa`` is kept
    at 1 or above, and is 1 where ``c`` is not measured (no point in Huber's
    quadratic zone).
    """
    ratios = [
        _sandwich_factor(problem, out.theta[0]) / _sandwich_factor(problem, theta)
        for problem, out in pilot
        if out.converged[0]
    ]
    data = _sandwich_factor(base, theta)
    fitted = _loss_scale(base.objective, predictions(base, theta[None])[0])
    redrawn = _sandwich_factor(replace(base, target=fitted * np.exp(own)), theta)
    ratio = data / (np.mean(ratios) * redrawn) if ratios else np.nan
    return max(1.0, float(np.sqrt(ratio))) if np.isfinite(ratio) else 1.0


def _sandwich_factor(problem: Problem, theta: np.ndarray) -> float:
    """Sandwich factor of an M-estimate's residuals at ``theta`` (fit space):
    :math:`\\overline{(w \\psi(r))^2} / \\overline{w \\psi'(r)}^2`, residuals in
    the objective's space (the variance of the noise for least squares). NaN when no
    point has :math:`\\psi' > 0` (all outside Huber's quadratic zone)."""
    objective, w = problem.objective, problem.weights
    r = predictions(problem, theta[None])[0] - problem.observed
    slope = (objective.exact_curvature or objective.curvature)(r)
    gain = float(np.mean(w * slope))
    if gain <= 0:
        return np.nan
    return float(np.mean((w * objective.psi(r)) ** 2)) / gain**2


def _block_counts(curves: Sequence[Curve], residuals: np.ndarray) -> list[int]:
    """Blocks per curve: its length over :func:`block_length` of its residuals."""
    ends = np.cumsum([c.steps.size for c in curves])
    parts = np.split(residuals, ends[:-1])
    return [-(-part.size // block_length(part)) for part in parts]


def _loss_scale(spec, values: np.ndarray) -> np.ndarray:
    """Engine predictions in the objective's residual space, as losses."""
    return np.exp(values) if spec.space == "log" else values


def _leverage(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """Leverage of every point in the weighted linearised fit (hat-matrix diagonal).

    A point of leverage h keeps a residual of variance (1 - h) times the noise's; the
    last points of a curve, which pin its final loss, shrink most. Kept <= 0.99.
    """
    root = np.sqrt(problem.weights)
    X = root[:, None] * jacobian(problem, theta[None])[0]
    h = np.einsum("ij,jk,ik->i", X, np.linalg.pinv(X.T @ X), X)
    return np.clip(h, 0.0, 0.99)


def _resampled_residuals(curves, residuals, blocks: Sequence[int], rng) -> np.ndarray:
    """Log residuals of one replicate: per curve, circular blocks of its centred
    residuals (``blocks[i]`` blocks' length, so correlated noise stays correlated;
    every point equally likely, Politis & Romano 1992), joined to the curve's length.

    ``residuals`` are leverage-corrected (divided by sqrt(1 - h); Davison & Hinkley
    1997, Algorithm 6.1). Aggregated points carry ``weight`` raw points (residual
    variance / weight), so blocks are drawn on residuals times sqrt(weight) and
    divided back at their new place.
    """
    out = []
    for c, count, own in zip(curves, blocks, _unit_residuals(curves, residuals)):
        n, root = c.steps.size, np.sqrt(c.weights)
        length = -(-n // max(1, min(count, n)))
        heads = rng.integers(0, n, size=-(-n // length))
        picks = (heads[:, None] + np.arange(length)).ravel()[:n] % n
        out.append(own[picks] * root[picks] / root)
    return np.concatenate(out)


def _unit_residuals(curves, residuals) -> list[np.ndarray]:
    """Per curve, its residuals centred in unit-weight space (residual times
    sqrt(weight), mean removed) and divided back by sqrt(weight) at their place."""
    ends = np.cumsum([c.steps.size for c in curves])
    out = []
    for c, part in zip(curves, np.split(residuals, ends[:-1])):
        root = np.sqrt(c.weights)
        unit = part * root
        out.append((unit - unit.mean()) / root)
    return out


def _chunk(replicates: int) -> int:
    """Replicates refined together: batches of about a tenth, so progress moves."""
    return max(10, -(-replicates // 10))


def _replicate_failures(failed: int, total: int, requested: int) -> list[Diagnostic]:
    if failed == 0:
        return []
    head = (
        f"{failed}/{total} bootstrap replicates did not converge within "
        f"{REPLICATE_OPTIONS['max_iter']} iterations"
    )
    if total < requested:
        head += f" (a first batch; the other {requested - total} were not run)"
    if failed > _MAX_FAILED * total:
        message = (
            f"{head}: the parameters are not identified by these curves, so no intervals "
            "are given (those of the rest would be biased). Fit more schedules (e.g. one "
            "with a decay to a low LR) or hold some parameters (--fix beta=0.6)."
        )
    else:
        message = (
            f"{head} and are left out of the intervals, which describe the others."
        )
    return [
        Diagnostic(
            "bootstrap_not_converged",
            message,
            severity="info" if failed < 0.05 * total else "warning",
            details={"failed": failed, "total": total, "requested": requested},
        )
    ]


def interval_checks(result: CurveFit, level: float = 0.95) -> list[Diagnostic]:
    """A warning when a parameter interval does not contain its own estimate."""
    if result.draws is None:
        return []
    return diag.interval_excludes_estimate(
        result.params, result.conf_int(1 - level), f"{level:.0%} parameter"
    )


def _outliers(
    curves: Sequence[Curve], params: dict, law: str, design, n_params: int
) -> list[Diagnostic]:
    """Points more than 4 robust SDs from the fit, named by curve, file, step and data row.

    The SD is :func:`~scalinglab.fit.diagnostics.residual_scale` (Huber's proposal 2
    with ``n - n_params`` degrees of freedom), the scale loss-law fits flag outliers
    with, of residuals times sqrt(weight): an aggregated point of ``w`` raw points
    scatters 1/sqrt(w) as much as one raw point.
    """
    residuals = [
        np.log(_fitted(c, params, law, design) / c.loss) * np.sqrt(c.weights)
        for c in curves
    ]
    pooled = np.concatenate(residuals)
    scale = diag.residual_scale(pooled, n_params)
    if scale == 0:
        return []
    center = np.median(pooled)
    places, where = [], []
    for curve, r in zip(curves, residuals):
        hits = np.flatnonzero(np.abs(r - center) > _OUTLIER_Z * scale)
        if hits.size:
            places.append(_place(curve, hits))
            where.append(
                {
                    "curve": curve.name,
                    "source": curve.source,
                    "steps": curve.steps[hits].tolist(),
                    "rows": None if curve.rows is None else curve.rows[hits].tolist(),
                }
            )
    if not places:
        return []
    count = sum(len(w["steps"]) for w in where)
    return [
        Diagnostic(
            "outliers",
            f"{count} point(s) lie more than {_OUTLIER_Z:g} robust SDs from the fit: "
            f"{'; '.join(places)}. Check them for logging glitches or restarts.",
            details={"points": where},
        )
    ]


def _place(curve: Curve, hits: np.ndarray, shown: int = 6) -> str:
    more = "..." if hits.size > shown else ""
    steps = ", ".join(str(int(s)) for s in curve.steps[hits[:shown]]) + more
    text = f"{curve.name} at step {steps}"
    if curve.rows is not None:
        rows = ", ".join(str(int(r)) for r in curve.rows[hits[:shown]]) + more
        text += f" (data row{'s' if hits.size > 1 else ''} {rows} of {curve.source})"
    elif curve.source:
        text += f" ({curve.source})"
    return text


def _fitted(curve: Curve, params: dict, law: str, design) -> np.ndarray:
    part = build_design(
        [curve.schedule.lr], [curve.steps], bins_per_octave=design.bins_per_octave
    )
    return curve_law(law, part).predict(params, point=np.arange(curve.steps.size))


def _curve_summary(curve: Curve, raw: Curve, params: dict, law: str, design) -> dict:
    rel = _fitted(curve, params, law, design) / curve.loss - 1.0
    return {
        "name": curve.name,
        "source": curve.source,
        "warmup": warmup_of(curve.schedule),
        "first_step": int(curve.steps[0]),
        "last_step": int(curve.steps[-1]),
        "raw_points": int(raw.steps.size),
        "points": int(curve.steps.size),
        "peak_lr": curve.schedule.peak,
        "lr_area": float(np.cumsum(curve.schedule.lr)[curve.steps[-1]]),
        "final_rel_err": float(rel[-1]),
        "mean_abs_rel_err": float(np.mean(np.abs(rel))),
    }


def evaluate_curve(fit_result: CurveFit, curve: Curve) -> dict:
    """Errors of a fit's prediction on an observed curve: final and whole-curve.

    Returns ``final_rel_err`` (predicted / observed - 1 at the last point),
    ``mean_abs_rel_err`` and ``max_abs_rel_err`` over all points after warmup,
    and ``r2`` of the loss.
    """
    used = _prepare(curve, DEFAULT_MAX_POINTS * 100, True)
    pred = fit_result.predict(used.schedule, used.steps).loss
    rel = pred / used.loss - 1.0
    r2 = 1.0 - np.sum((pred - used.loss) ** 2) / np.sum(
        (used.loss - used.loss.mean()) ** 2
    )
    return {
        "name": curve.name,
        "final_loss": float(used.loss[-1]),
        "predicted": float(pred[-1]),
        "final_rel_err": float(rel[-1]),
        "mean_abs_rel_err": float(np.mean(np.abs(rel))),
        "max_abs_rel_err": float(np.max(np.abs(rel))),
        "r2": float(r2),
    }


def score_prediction(fit_result: CurveFit, schedule: Schedule, observed: Curve) -> dict:
    """Errors of the curve predicted under ``schedule`` against an observed curve.

    The observed points after warmup and within the schedule are compared with the
    prediction at the same steps.

    Returns
    -------
    dict
        ``name``, ``final_step``, ``final_loss`` (observed), ``predicted``,
        ``final_rel_err`` (predicted / observed - 1 at the last compared point),
        ``mean_abs_rel_err`` and ``max_abs_rel_err`` over the compared ``points``,
        and ``notes`` (an observed run that ends early or whose LR differs from the
        schedule).
    """
    used = _prepare(observed, DEFAULT_MAX_POINTS * 100, True)
    inside = used.steps < schedule.steps
    if inside.sum() < 2:
        raise ScalinglabError(
            f"the observed curve {observed.name!r} has fewer than 2 points after warmup within "
            f"the schedule's {schedule.steps} steps; is it the run of this schedule?"
        )
    steps, loss = used.steps[inside], used.loss[inside]
    rel = fit_result.predict(schedule, steps).loss / loss - 1.0
    return {
        "name": observed.name,
        "final_step": int(steps[-1]),
        "final_loss": float(loss[-1]),
        "predicted": float(loss[-1] * (1 + rel[-1])),
        "final_rel_err": float(rel[-1]),
        "mean_abs_rel_err": float(np.mean(np.abs(rel))),
        "max_abs_rel_err": float(np.max(np.abs(rel))),
        "points": int(steps.size),
        "notes": _score_notes(schedule, observed, steps),
    }


def _score_notes(schedule: Schedule, observed: Curve, steps: np.ndarray) -> list[str]:
    notes = []
    if steps[-1] < schedule.steps - 1 - 0.01 * schedule.steps:
        notes.append(
            f"the observed curve ends at step {steps[-1]}, before the schedule's last "
            f"step {schedule.steps - 1}; its final error is at step {steps[-1]}."
        )
    gap = np.abs(observed.schedule.lr[steps] - schedule.lr[steps]) / schedule.peak
    if gap.max() > 0.01:
        at = int(steps[np.argmax(gap)])
        notes.append(
            f"the observed run's learning rate differs from the schedule by up to "
            f"{gap.max():.1%} of the peak (step {at}); is it the run of this schedule?"
        )
    return notes


# -- schedule search -----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ScheduleSearch:
    """Candidates of a schedule family ranked by predicted final loss.

    Attributes
    ----------
    best : dict
        The candidate with the lowest predicted final loss.
    candidates : tuple of dict
        Every candidate: ``schedule`` (spec), its family arguments, ``final_loss``
        and, with bootstrap draws, ``ci95`` and ``p_best`` (share of replicates in
        which it is the best candidate).
    """

    best: dict
    candidates: tuple[dict, ...]

    def to_dict(self) -> dict:
        return {"best": self.best, "candidates": list(self.candidates)}


def _family_grid(family, steps, peak, warmup, final, decays, shapes, finals):
    if family == "wsd":
        return [
            wsd(steps, peak, decay=d, shape=s, final=final, warmup=warmup)
            for s in shapes
            for d in decays
        ]
    if family in ("cosine", "linear"):
        build = cosine if family == "cosine" else linear
        return [build(steps, peak, final=f * peak, warmup=warmup) for f in finals]
    raise ScalinglabError(
        f"schedule search supports families wsd, cosine and linear; got {family!r}."
    )


def optimize_schedule(
    fit_result: CurveFit,
    *,
    steps: int,
    peak: float,
    family: str = "wsd",
    warmup: int = 0,
    final: float = 0.0,
    decays: Sequence[float] = (
        0.05,
        0.1,
        0.15,
        0.2,
        0.25,
        0.3,
        0.4,
        0.5,
        0.6,
        0.8,
        1.0,
    ),
    shapes: Sequence[str] = tuple(DECAY_SHAPES),
    finals: Sequence[float] = (0.0, 0.01, 0.03, 0.1, 0.3),
) -> ScheduleSearch:
    """Search a schedule family for the lowest predicted final loss.

    Parameters
    ----------
    fit_result : CurveFit
        A fitted curve law.
    steps, peak, warmup : int, float, int
        Length, peak LR and warmup of every candidate.
    family : {"wsd", "cosine", "linear"}
        ``wsd``: grid over decay fraction x decay shape (ending at ``final``);
        ``cosine``/``linear``: grid over the final LR as a fraction of the peak.
    decays, shapes, finals : sequences
        The grids.

    Returns
    -------
    ScheduleSearch
    """
    shapes = [s for s in shapes if not (s == "exp" and final <= 0)]
    grid = _family_grid(family, steps, peak, warmup, final, decays, shapes, finals)
    rows, draws = [], []
    for schedule in grid:
        loss, band = fit_result.final_loss(schedule)
        row = {
            "schedule": schedule.name,
            **{
                k: v
                for k, v in schedule.spec.items()
                if k not in ("steps", "peak", "warmup")
            },
            "final_loss": loss,
        }
        if band is not None:
            row["ci95"] = list(band)
            draws.append(_final_draws(fit_result, schedule))
        rows.append(row)
    if draws:
        winner = np.argmin(np.vstack(draws), axis=0)
        for i, row in enumerate(rows):
            row["p_best"] = float(np.mean(winner == i))
    order = sorted(range(len(rows)), key=lambda i: rows[i]["final_loss"])
    ranked = tuple(rows[i] for i in order)
    return ScheduleSearch(ranked[0], ranked)


def _final_draws(fit_result: CurveFit, schedule: Schedule) -> np.ndarray:
    return fit_result.draw_predictions(schedule, np.array([schedule.steps - 1]))[:, 0]
