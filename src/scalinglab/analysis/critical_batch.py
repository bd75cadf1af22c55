"""Critical batch size from runs at several batch sizes (McCandlish et al. 2018).

To reach a fixed target loss, a run at batch size B needs S optimizer steps and
E = B S examples (or tokens). The empirical model of large-batch training says

.. math::

    (S / S_{min} - 1)(E / E_{min} - 1) = 1
    \\iff S = S_{min} + E_{min} / B, \\qquad B_{crit} = E_{min} / S_{min}

so S is linear in 1/B. We fit it by least squares on *relative* residuals
(weights 1/S^2, since step counts scatter multiplicatively), a two-parameter
closed form, and bootstrap over batch sizes for intervals. Across several
targets, ``B_crit`` is then fitted as a power law of the target loss
(Kaplan et al. 2020, eq. 5.3: B_crit = B* L^(-1/alpha_B)) and of ``E_min``, the
fewest tokens that reach the target (Zhang et al. 2024 find B_crit grows with
the data size).

The simple gradient noise scale (McCandlish et al. 2018, sec. 2.2 and app. A)
predicts B_crit from gradients alone: with per-example gradient covariance
Sigma and true gradient G, :math:`B_{simple} = tr(\\Sigma) / |G|^2`.
:func:`gradient_noise` gives unbiased estimates of both from squared gradient
norms at two batch sizes (the trainer measures them within each step, see
``TrainConfig.noise_microbatches``), and :func:`noise_scale_at_target` reads the
logged scale where a run reaches a target loss, to set beside that target's B_crit.

Units: E and B_crit are in the unit of the batch-size column (sequences or
tokens); give batch sizes in tokens to compare with token counts.

References
----------
McCandlish, Kaplan, Amodei et al. 2018, "An Empirical Model of Large-Batch
Training", arXiv 1812.06162.
Zhang et al. 2024, "How Does Critical Batch Size Scale in Pre-training?",
arXiv 2410.21676.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, ScalinglabError
from ..fit.intervals import percentile_interval
from .hparams import PowerLawFit, fit_power_law

__all__ = [
    "CriticalBatchFit",
    "TradeOff",
    "fit_critical_batch",
    "fit_tradeoff",
    "gradient_noise",
    "noise_scale_at_target",
    "noise_scale_by_target",
    "steps_to_target",
]


@dataclass(frozen=True)
class TradeOff:
    """The steps/examples trade-off at one target loss.

    Attributes
    ----------
    target : float or None
        Target loss (None when not given).
    B_crit, S_min, E_min : float
        Critical batch size, fewest steps (infinite batch), fewest examples
        (batch -> 0).
    ci95 : dict
        ``B_crit``, ``S_min``, ``E_min`` -> (low, high) bootstrap percentiles.
    n_batch_sizes : int
        Batch sizes that reached the target.
    max_rel_residual : float
        Largest |fitted S / observed S - 1|.
    draws : ndarray or None
        Bootstrap B_crit per replicate, NaN for a dropped one.
    dropped : int
        Replicates left out of the intervals: their refit has S_min or E_min <= 0
        or saw a single batch size, which the model cannot describe.
    """

    target: float | None
    B_crit: float
    S_min: float
    E_min: float
    ci95: dict
    n_batch_sizes: int
    max_rel_residual: float
    draws: np.ndarray | None = None  # (replicates,) B_crit; NaN where dropped
    dropped: int = 0

    def steps(self, batch: np.ndarray | float) -> np.ndarray:
        """Steps to reach the target at batch size ``batch``: S_min (1 + B_crit / B)."""
        return self.S_min * (1.0 + self.B_crit / np.asarray(batch, float))

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "B_crit": self.B_crit,
            "S_min": self.S_min,
            "E_min": self.E_min,
            "ci95": {k: list(v) for k, v in self.ci95.items()},
            "n_batch_sizes": self.n_batch_sizes,
            "max_rel_residual": self.max_rel_residual,
            "bootstrap_dropped": self.dropped,
        }


def _solve(inv_b: np.ndarray, steps: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(R, 2) [S_min, E_min] per weight row: min sum w ((S_min + E_min/B)/S - 1)^2."""
    X = np.column_stack([1.0 / steps, inv_b / steps])
    gram = np.einsum("rn,np,nq->rpq", weights, X, X)
    moment = np.einsum("rn,np->rp", weights, X)
    return np.einsum("rpq,rq->rp", np.linalg.pinv(gram), moment)


def _check(name: str, values, n: int | None = None) -> np.ndarray:
    values = np.asarray(values, float).ravel()
    if n is not None and values.size != n:
        raise InputError(
            f"expected {n} values like the other columns; got {values.size}.",
            column=name,
        )
    bad = np.flatnonzero(~(np.isfinite(values) & (values > 0)))
    if bad.size:
        raise InputError(
            "must be finite and > 0.", column=name, rows=(bad + 1).tolist()
        )
    return values


def fit_tradeoff(
    batch, steps, *, target: float | None = None, bootstrap: int = 1000, seed: int = 0
) -> TradeOff:
    """Fit ``S = S_min + E_min / B`` to steps-to-target at several batch sizes.

    Parameters
    ----------
    batch, steps : array_like
        Batch size of each run and the steps it took to reach the target.
    target : float, optional
        The target loss, for the record.
    bootstrap : int
        Resamples of the batch sizes (0: no intervals).
    seed : int
        Seed of the resampling.

    Returns
    -------
    TradeOff
    """
    batch = _check("bs", batch)
    steps = _check("steps", steps, batch.size)
    if np.unique(batch).size < 3:
        raise ScalinglabError(
            f"the trade-off needs at least 3 batch sizes reaching the target "
            f"{target}; got {np.unique(batch).size}."
        )
    S_min, E_min = _solve(1.0 / batch, steps, np.ones((1, batch.size)))[0]
    if not (S_min > 0 and E_min > 0):
        raise ScalinglabError(
            f"target {target}: the fit gives S_min = {S_min:.4g}, E_min = {E_min:.4g}; steps do not "
            "fall with batch size the way the model needs (both must be > 0). Use batch sizes on "
            "both sides of the critical batch size."
        )
    ci95, draws, dropped = {}, None, 0
    if bootstrap:
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, batch.size, size=(bootstrap, batch.size))
        counts = np.stack([np.bincount(p, minlength=batch.size) for p in picks]).astype(
            float
        )
        rep = _solve(1.0 / batch, steps, counts)
        rep[~_inside_model(rep, counts, batch)] = np.nan
        dropped = int(np.isnan(rep[:, 0]).sum())
        draws = rep[:, 1] / rep[:, 0]
        for name, values in (
            ("B_crit", draws),
            ("S_min", rep[:, 0]),
            ("E_min", rep[:, 1]),
        ):
            ci95[name] = percentile_interval(values, 0.95)
    fitted = S_min + E_min / batch
    return TradeOff(
        target,
        float(E_min / S_min),
        float(S_min),
        float(E_min),
        ci95,
        int(np.unique(batch).size),
        float(np.max(np.abs(fitted / steps - 1))),
        draws,
        dropped,
    )


def _inside_model(rep: np.ndarray, counts: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """Replicates the model can describe: S_min, E_min > 0 from 2+ distinct batch sizes.

    The point fit refuses S_min or E_min <= 0; a replicate there (B_crit <= 0 or
    infinite) would put impossible values into the interval, and one that drew a
    single batch size has no trade-off to fit.
    """
    _, size = np.unique(batch, return_inverse=True)
    distinct = np.zeros((counts.shape[0], size.max() + 1))
    np.add.at(distinct.T, size.ravel(), counts.T)
    return (rep > 0).all(axis=1) & ((distinct > 0).sum(axis=1) >= 2)


def steps_to_target(steps, loss, target: float) -> float:
    """First step at which a curve's running-minimum loss reaches ``target`` (linear
    interpolation between logged steps); NaN when it never does. Rows without a
    loss (NaN, e.g. steps that were not evaluated) are skipped."""
    steps, loss = np.asarray(steps, float), np.asarray(loss, float)
    logged = np.isfinite(loss)
    steps, loss = steps[logged], np.minimum.accumulate(loss[logged])
    below = np.flatnonzero(loss <= target)
    if below.size == 0:
        return float("nan")
    i = int(below[0])
    if i == 0:
        return float(steps[0])
    frac = (loss[i - 1] - target) / (loss[i - 1] - loss[i])
    return float(steps[i - 1] + frac * (steps[i] - steps[i - 1]))


@dataclass(frozen=True)
class CriticalBatchFit:
    """Trade-offs at several targets and B_crit's trend across them.

    Attributes
    ----------
    tradeoffs : tuple of TradeOff
        One per target.
    vs_loss : PowerLawFit or None
        ``B_crit = coef * loss^loss`` (3+ targets with a loss value).
    vs_tokens : PowerLawFit or None
        ``B_crit = coef * E_min^E_min`` (3+ targets).
    """

    tradeoffs: tuple[TradeOff, ...]
    vs_loss: PowerLawFit | None
    vs_tokens: PowerLawFit | None

    def to_dict(self) -> dict:
        return {
            "tradeoffs": [t.to_dict() for t in self.tradeoffs],
            "vs_loss": None if self.vs_loss is None else _law_dict(self.vs_loss),
            "vs_tokens": None if self.vs_tokens is None else _law_dict(self.vs_tokens),
        }


def _law_dict(law: PowerLawFit) -> dict:
    return {k: v for k, v in law.to_dict().items() if k != "draws"}


def fit_critical_batch(
    batch, steps, targets, *, bootstrap: int = 1000, seed: int = 0
) -> CriticalBatchFit:
    """Fit the trade-off at every target and B_crit against target loss and E_min.

    Parameters
    ----------
    batch, steps : array_like
        One row per (run, target): batch size and steps to reach that target
        (NaN steps, a run that never got there, are dropped).
    targets : array_like
        The target loss of each row.
    bootstrap, seed : int
        Resampling of batch sizes within each target; the power laws' intervals
        use the same replicates (so B_crit's uncertainty at each target enters).

    Returns
    -------
    CriticalBatchFit
    """
    batch, steps, targets = (
        np.asarray(v, float).ravel() for v in (batch, steps, targets)
    )
    reached = np.isfinite(steps)
    if np.all(np.isnan(targets)):  # one unnamed target
        return CriticalBatchFit(
            (
                fit_tradeoff(
                    batch[reached], steps[reached], bootstrap=bootstrap, seed=seed
                ),
            ),
            None,
            None,
        )
    fits = []
    for i, target in enumerate(np.unique(targets[reached])[::-1]):
        rows = reached & (targets == target)
        fits.append(
            fit_tradeoff(
                batch[rows],
                steps[rows],
                target=float(target),
                bootstrap=bootstrap,
                seed=seed + i,
            )
        )
    return CriticalBatchFit(tuple(fits), *_trends(fits, bootstrap))


def _trends(fits: list[TradeOff], bootstrap: int):
    if len(fits) < 3:
        return None, None
    b = np.array([f.B_crit for f in fits])
    laws = []
    for name, x in (
        ("loss", np.array([f.target for f in fits])),
        ("E_min", np.array([f.E_min for f in fits])),
    ):
        draws = None
        if bootstrap:
            logs = np.log(np.column_stack([f.draws for f in fits]))  # (R, targets)
            design = np.column_stack([np.ones(x.size), np.log(x)])
            ok = np.all(np.isfinite(logs), axis=1)
            draws = np.linalg.lstsq(design, logs[ok].T, rcond=None)[0].T
        laws.append(fit_power_law("B_crit", {name: x}, b, draws=draws))
    return tuple(laws)


def gradient_noise(small_sq, big_sq, b_small: float, b_big: float):
    """Unbiased estimates of ``|G|^2`` and ``tr(Sigma)`` from gradient norms at two batch sizes.

    A mean gradient over B independent examples has
    :math:`E|G_B|^2 = |G|^2 + tr(\\Sigma) / B`; two batch sizes give two equations:

    .. math::

        |G|^2 = \\frac{B_{big} |G_{big}|^2 - B_{small} |G_{small}|^2}{B_{big} - B_{small}},
        \\qquad
        tr(\\Sigma) = \\frac{|G_{small}|^2 - |G_{big}|^2}{1/B_{small} - 1/B_{big}}

    Each estimate is unbiased but noisy (it can be negative); average many
    before taking the ratio :math:`B_{simple} = tr(\\Sigma) / |G|^2`.

    Parameters
    ----------
    small_sq, big_sq : float or array_like
        Squared norm of a mean gradient over ``b_small`` and over ``b_big`` examples
        (e.g. the mean over microbatches of each one's squared norm, and the full
        batch's).
    b_small, b_big : float
        The two batch sizes, ``b_small < b_big``, in examples.

    Returns
    -------
    tuple
        ``(grad_sq, trace)``, estimates of :math:`|G|^2` and :math:`tr(\\Sigma)`
        (per example).

    References
    ----------
    McCandlish et al. 2018, arXiv 1812.06162, appendix A.1.

    Examples
    --------
    >>> gradient_noise(5.0, 3.0, 1, 2)   # |G|^2 + tr/1 = 5, |G|^2 + tr/2 = 3
    (1.0, 4.0)
    """
    if not 0 < b_small < b_big:
        raise ScalinglabError(
            f"need 0 < b_small < b_big for the gradient noise estimate; got {b_small}, {b_big}."
        )
    small_sq, big_sq = np.asarray(small_sq, float), np.asarray(big_sq, float)
    grad_sq = (b_big * big_sq - b_small * small_sq) / (b_big - b_small)
    trace = (small_sq - big_sq) / (1.0 / b_small - 1.0 / b_big)
    if grad_sq.ndim == 0:
        return float(grad_sq), float(trace)
    return grad_sq, trace


def noise_scale_at_target(steps, loss, noise, target: float) -> float:
    """The logged noise scale at the first step a curve's running-minimum loss reaches ``target``.

    McCandlish et al. compare B_crit at a target with the noise scale measured
    where training reaches it.

    Parameters
    ----------
    steps, loss : array_like
        One curve, in step order (NaN loss: a row that was not evaluated).
    noise : array_like
        The trainer's ``noise_scale`` column (NaN where not logged).
    target : float
        Target loss.

    Returns
    -------
    float
        ``noise`` at the last logged row at or before the step that reaches the
        target (:func:`steps_to_target`); NaN if the target is never reached or no
        value was logged by then.
    """
    steps, noise = np.asarray(steps, float), np.asarray(noise, float)
    reached = steps_to_target(steps, loss, target)
    logged = np.flatnonzero((steps <= reached) & np.isfinite(noise))
    return float(noise[logged[-1]]) if logged.size else float("nan")


def noise_scale_by_target(batch, steps, loss, noise, targets) -> dict[float, dict]:
    """The gradient noise scale where each run reaches each target, summarised per target.

    Parameters
    ----------
    batch, steps, loss, noise : array_like
        Whole curves, one row per logged step: the run's batch size (which tells
        runs apart), step, loss and the logged ``noise_scale`` (NaN where absent).
    targets : sequence of float
        Target losses.

    Returns
    -------
    dict
        ``{target: {"median", "low", "high", "runs"}}``: median, smallest and
        largest of :func:`noise_scale_at_target` over the runs that reached the
        target with a logged scale (NaN and 0 runs when none did). To compare with
        :class:`TradeOff` ``.B_crit`` at the same target (same unit as ``batch``).
    """
    batch, steps, loss, noise = (
        np.asarray(v, float) for v in (batch, steps, loss, noise)
    )
    out = {}
    for target in targets:
        values = []
        for b in np.unique(batch):
            run = batch == b
            order = np.argsort(steps[run])
            values.append(
                noise_scale_at_target(
                    steps[run][order], loss[run][order], noise[run][order], target
                )
            )
        found = np.array([v for v in values if np.isfinite(v)])
        summary = (
            (np.median(found), found.min(), found.max())
            if found.size
            else (np.nan,) * 3
        )
        out[float(target)] = dict(
            zip(("median", "low", "high"), map(float, summary)), runs=int(found.size)
        )
    return out
