"""Loss-to-loss prediction: a shifted power law between two losses.

.. math::

    L_y = K \\, (L_x - E_x)^{\\kappa} + E_y

with ``E_x`` and ``E_y`` the irreducible losses of each loss's own scaling fit
(step-1 law of N and D). ``K`` and ``kappa`` are fitted by the one engine on the
paired losses; one run resample refits the ``L_x`` law and the link, so a
prediction of ``L_y`` at a new (N, D) through ``L_x``'s law carries both. ``E_x``
and ``E_y`` are held at their point estimates in the replicates.

References
----------
Brandfonbrener et al. 2024, "Loss-to-Loss Prediction: Scaling Laws for All
Datasets", arXiv:2411.12925, eq. 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ScalinglabError
from ..fit.engine import Problem
from ..fit.intervals import percentile_interval, seeded_normals
from ..fit.objectives import get_objective
from ..fit.result import FitResult
from ..laws.base import Law, make_law
from ._data import _numeric, _positive, check_columns, load_frame
from ._joint import joint_draws

__all__ = ["Loss2LossFit", "fit_loss2loss", "shifted_power_law"]


def _shifted(x, *, K, kappa, E_x, E_y):
    """L_y = K (L_x - E_x)^kappa + E_y  (Brandfonbrener et al. 2024, eq. 3)."""
    return K * (x - E_x) ** kappa + E_y


def shifted_power_law(E_x: float, E_y: float) -> Law:
    """The loss-to-loss law with ``E_x`` and ``E_y`` held; ``K`` and ``kappa`` free (> 0)."""
    return make_law(
        _shifted,
        {
            "K": {
                "init": 1.0,
                "lower": 0.0,
                "upper": 1e6,
                "log": True,
                "grid": (0.3, 1.0, 3.0),
            },
            "kappa": {
                "init": 1.0,
                "lower": 0.01,
                "upper": 10.0,
                "grid": (0.5, 1.0, 1.5, 2.0),
            },
            "E_x": {"init": float(E_x), "fixed": True},
            "E_y": {"init": float(E_y), "fixed": True},
        },
        name="loss2loss",
        reference="Brandfonbrener et al. 2024, eq. 3",
    )


@dataclass(frozen=True)
class Loss2LossFit:
    """A fitted loss-to-loss law and the scaling law of ``L_x``.

    Attributes
    ----------
    params : K, kappa (fitted), E_x, E_y (from each loss's own scaling fit).
    draws : joint bootstrap draws of (K, kappa), shape (replicates, 2).
    fit_x, fit_y : the scaling-law fits of the two losses on N and D.
    draws_x : draws of ``fit_x``'s parameters from the same run resamples as ``draws``.
    x_range : the range of L_x the link was fitted on.
    scale : robust scale of the link's log residuals.
    columns : x, y, N, D, run.
    seed : seed of the bootstrap and of the interval noise.
    """

    params: dict[str, float]
    draws: np.ndarray
    fit_x: FitResult
    fit_y: FitResult
    draws_x: np.ndarray
    x_range: tuple[float, float]
    scale: float
    columns: dict[str, str | None]
    seed: int = 0

    @property
    def law(self) -> Law:
        return shifted_power_law(self.params["E_x"], self.params["E_y"])

    def conf_int(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Percentile intervals of K and kappa."""
        return {
            n: percentile_interval(self.draws[:, i], level)
            for i, n in enumerate(("K", "kappa"))
        }

    def predict_from_x(self, x) -> np.ndarray:
        """L_y for given L_x values."""
        return self.law.predict(self.params, x=x)

    def predict(self, *, N, D) -> dict[str, np.ndarray]:
        """L_x from its scaling law at (N, D) and L_y through the link."""
        x = self.fit_x.predict(N=N, D=D)
        return {"x": x, "y": self.predict_from_x(x)}

    def predict_interval(self, level: float = 0.95, *, N, D) -> dict[str, tuple]:
        """Joint intervals of L_x and L_y at (N, D): parameters of both steps from the same
        resamples, plus L_x's run scatter and extrapolation error and the link's scatter."""
        N, D = np.broadcast_arrays(np.asarray(N, float), np.asarray(D, float))
        law_x = self.fit_x.law
        values = {
            n: self.draws_x[:, i : i + 1] for i, n in enumerate(law_x.param_names)
        }
        z = seeded_normals(self.seed, len(self.draws), streams=2)[:, :, None]
        sd = self.fit_x.new_run_sd(z[0], N=N.ravel(), D=D.ravel())
        with np.errstate(all="ignore"):
            x = law_x.evaluate({"N": N.ravel(), "D": D.ravel()}, values) * np.exp(
                sd * z[0]
            )
            K, kappa = self.draws[:, :1], self.draws[:, 1:2]
            y = _shifted(
                x, K=K, kappa=kappa, E_x=self.params["E_x"], E_y=self.params["E_y"]
            )
            y = y * np.exp(self.scale * z[1])
        return {
            k: tuple(np.reshape(b, N.shape) for b in percentile_interval(v, level))
            for k, v in (("x", x), ("y", y))
        }

    def to_dict(self) -> dict:
        """JSON-safe summary: parameters, 95% intervals of K and kappa, the two E fits."""
        return {
            "params": self.params,
            "ci95": {k: list(v) for k, v in self.conf_int().items()},
            "x_range": list(self.x_range),
            "scale": self.scale,
            "replicates": len(self.draws),
            "columns": self.columns,
            "fit_x": {"law": self.fit_x.law.name, "params": self.fit_x.params},
            "fit_y": {"law": self.fit_y.law.name, "params": self.fit_y.params},
        }


def fit_loss2loss(
    data: Any,
    *,
    x: str,
    y: str,
    N: str = "N",
    D: str = "D",
    run: str | None = None,
    law: str = "chinchilla",
    bootstrap: int = 1000,
    seed: int = 0,
) -> Loss2LossFit:
    """Fit ``L_y = K (L_x - E_x)^kappa + E_y`` on paired losses (one row per model).

    Parameters
    ----------
    data : a table path or DataFrame with columns ``x``, ``y``, ``N`` and ``D``.
    x, y : the two loss columns (positive). For train-to-train pairs, join the
        two corpora's models on (N, D) first, one row per pair.
    N, D, run : columns of parameters, tokens and run ids (default: a run per row).
    law : the scaling law (with an ``E``) fitted to each loss for E_x and E_y.
    bootstrap : joint run-resample replicates (at least 20).
    seed : seeds the bootstrap and the interval noise.

    Returns
    -------
    Loss2LossFit
    """
    from ..fit import fit

    if bootstrap < 20:
        raise ScalinglabError(
            f"bootstrap must be at least 20 for intervals; got {bootstrap}."
        )
    frame, source = load_frame(data)
    arrays = _arrays(frame, (x, y, N, D), run, source)
    lx, ly, n, d = (arrays[c] for c in (x, y, N, D))
    run_ids = arrays["run"]
    fits = [
        fit(
            law,
            {"N": n, "D": d, "loss": loss, "run": run_ids.astype(str)},
            bootstrap=bootstrap if i == 0 else 0,
            seed=seed,
        )
        for i, loss in enumerate((lx, ly))
    ]
    for result, column in zip(fits, (x, y)):
        if "E" not in result.params:
            raise ScalinglabError(
                f"law {result.law.name!r} has no irreducible loss E; choose one that has "
                "(chinchilla) for the loss-to-loss shift."
            )
    E_x, E_y = fits[0].params["E"], fits[1].params["E"]
    if np.any(lx <= E_x):
        raise InputError(
            f"column {x!r} has {int(np.sum(lx <= E_x))} losses at or below its fitted "
            f"irreducible loss E_x = {E_x:.4g}; the shifted power law needs L_x > E_x.",
            source=source,
            column=x,
        )
    link = fit(
        shifted_power_law(E_x, E_y),
        {"x": lx, "loss": ly, "run": run_ids.astype(str)},
        bootstrap=0,
        extrapolation=None,
    )
    (draws_x, draws), _ = joint_draws(
        [
            (
                Problem(
                    fits[0].law,
                    {"N": n, "D": d},
                    lx,
                    fits[0].objective_spec,
                    np.ones(lx.size),
                ),
                fits[0].params,
                run_ids,
            ),
            (
                Problem(
                    link.law, {"x": lx}, ly, get_objective("huber"), np.ones(lx.size)
                ),
                link.params,
                run_ids,
            ),
        ],
        int(run_ids.max()) + 1,
        bootstrap,
        seed,
    )
    return Loss2LossFit(
        params=dict(link.params),
        draws=draws[:, :2],
        fit_x=fits[0],
        fit_y=fits[1],
        draws_x=draws_x,
        x_range=(float(lx.min()), float(lx.max())),
        scale=float(link.residual_scale),
        columns={"x": x, "y": y, "N": N, "D": D, "run": run},
        seed=seed,
    )


def _arrays(frame, columns, run, source) -> dict[str, np.ndarray]:
    check_columns(frame, columns + ((run,) if run else ()), source)
    out = {}
    for column in columns:
        values = _numeric(frame, column, source)
        _positive(values, column, source, np.arange(values.size))
        out[column] = values
    names = (
        frame[run].astype(str).to_numpy() if run else np.arange(len(frame)).astype(str)
    )
    out["run"] = np.unique(names, return_inverse=True)[1]
    return out
