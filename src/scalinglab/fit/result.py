"""FitResult: parameters, intervals, predictions and provenance of one fit (statsmodels-style)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from .._json import read_saved, write_json
from ..errors import ScalinglabError
from ..laws.base import Law
from ..report._display import Display
from .diagnostics import Diagnostic, extrapolation, interval_excludes_estimate
from .extrapolation import ExtrapolationError
from .intervals import percentile_interval, seeded_normals
from .objectives import Objective, get_objective

FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class FitResult(Display):
    """The outcome of :func:`scalinglab.fit`.

    Attributes
    ----------
    law : the fitted :class:`~scalinglab.laws.Law` (with any fixed or bounded parameters).
    params : fitted values by name (natural units, unrounded).
    objective : value of the fitted objective at ``params`` (summed over points).
    objective_spec : the objective (name, residual space, delta).
    converged : whether the optimizer met its tolerances at the best start.
    gradient : scaled projected gradient at the optimum: the fraction of the objective
        one more Gauss-Newton step would remove (``converged`` needs at most 1e-10).
    n_points, n_runs : data size (bootstrap resamples runs).
    diagnostics : structured warnings (see :class:`~scalinglab.fit.diagnostics.Diagnostic`).
    draws : bootstrap parameter draws (replicates, params) in ``law.param_names`` order, or None.
    residual_scale : robust SD of the residuals in the objective's space (run-to-run noise;
        Huber's proposal 2 with n - p degrees of freedom, see
        :func:`~scalinglab.fit.diagnostics.residual_scale`).
    input_ranges : fitted range of each input, for extrapolation warnings.
    settings : objective, bootstrap size, seed, starts screened/refined/agreeing.
    provenance : data hash, source, column mapping, conventions, law, package version.
    extrapolation_error : rolling-origin estimate of the log error per decade beyond the fitted
        range (:class:`~scalinglab.fit.extrapolation.ExtrapolationError`), or None.
    """

    law: Law
    params: dict[str, float]
    objective: float
    objective_spec: Objective
    converged: bool
    gradient: float
    n_points: int
    n_runs: int
    diagnostics: tuple[Diagnostic, ...]
    draws: np.ndarray | None
    residual_scale: float
    input_ranges: dict[str, tuple[float, float]]
    settings: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    extrapolation_error: ExtrapolationError | None = None

    def __post_init__(self) -> None:
        # An interval that misses its own estimate is a bug (failed replicates, a biased
        # bootstrap); say so in the diagnostics rather than print it silently.
        if self.draws is None or any(
            d.code == "interval_excludes_estimate" for d in self.diagnostics
        ):
            return
        found = interval_excludes_estimate(self.params, self.conf_int(), "parameter")
        object.__setattr__(self, "diagnostics", (*self.diagnostics, *found))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        draws = (
            "no bootstrap"
            if self.draws is None
            else f"{len(self.draws)} bootstrap draws"
        )
        return (
            f"FitResult({self.law.name}: {params}; objective {self.objective:.6g} "
            f"({self.objective_spec.name}), {self.n_runs} runs, {self.n_points} points, "
            f"{'converged' if self.converged else 'NOT converged'}, {draws}, "
            f"{len(self.diagnostics)} diagnostics)"
        )

    # -- parameters ---------------------------------------------------------
    def draws_by_name(self) -> dict[str, np.ndarray]:
        self._require_draws("parameter intervals")
        return {name: self.draws[:, i] for i, name in enumerate(self.law.param_names)}

    def conf_int(self, alpha: float = 0.05) -> dict[str, tuple[float, float]]:
        """Percentile bootstrap interval of each parameter at level 1 - alpha."""
        return {
            k: percentile_interval(v, level=1 - alpha)
            for k, v in self.draws_by_name().items()
        }

    def std_err(self) -> dict[str, float]:
        """Bootstrap standard deviation of each parameter."""
        return {k: float(np.std(v, ddof=1)) for k, v in self.draws_by_name().items()}

    # -- predictions --------------------------------------------------------
    def predict(self, **inputs: np.ndarray | float) -> np.ndarray:
        """Predicted loss at the given inputs (arrays broadcast), e.g. ``predict(N=7e9, D=2e12)``."""
        return self.law.predict(self.params, **inputs)

    def predict_draws(self, **inputs: np.ndarray | float) -> np.ndarray:
        """Predictions under every bootstrap draw, shape (replicates, *broadcast shape)."""
        self._require_draws("prediction intervals")
        arrays = np.broadcast_arrays(
            *(np.asarray(inputs[n], dtype=float) for n in self.law.inputs)
        )
        flat = {n: a.ravel() for n, a in zip(self.law.inputs, arrays)}
        values = {
            name: self.draws[:, i : i + 1]
            for i, name in enumerate(self.law.param_names)
        }
        with np.errstate(all="ignore"):
            pred = np.asarray(self.law.evaluate(flat, values), dtype=float)
        return np.broadcast_to(pred, (len(self.draws), arrays[0].size)).reshape(
            -1, *arrays[0].shape
        )

    def predict_interval(
        self,
        level: float = 0.95,
        *,
        kind: str = "prediction",
        **inputs: np.ndarray | float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Interval for the loss at ``inputs``.

        ``kind="mean"`` covers parameter uncertainty only (bootstrap over runs).
        ``kind="prediction"`` (default) also covers run-to-run scatter of a new run,
        drawn from the fit's robust residual scale with a fixed seed, so the
        interval is reproducible bit for bit, and, beyond the fitted range, the
        law's measured extrapolation error (``tau`` per decade, see ``extrapolation_error``).
        """
        draws = self.predict_draws(**inputs)
        if kind == "prediction":
            draws = self._add_noise(draws, inputs)
        elif kind != "mean":
            raise ScalinglabError(f"kind must be 'prediction' or 'mean'; got {kind!r}.")
        return percentile_interval(draws, level=level, axis=0)

    def noise(self, count: int) -> np.ndarray:
        """The seeded standard normals (one per bootstrap draw) that every interval of this fit
        scales its run scatter and extrapolation error by, so intervals repeat bit for bit."""
        return seeded_normals(self.settings.get("seed", 0), count)[0]

    def new_run_sd(
        self, z: np.ndarray | None = None, **inputs: np.ndarray | float
    ) -> np.ndarray:
        """Log-scale SD of a new run's loss about the law at ``inputs``: the run
        scatter plus, beyond the fitted range, the measured extrapolation error
        (per draw of the normals ``z`` when given: wider on the side the law drifts to,
        see :meth:`ExtrapolationError.extra_sd`)."""
        scatter = self.residual_scale
        if self.objective_spec.space != "log":
            scatter = scatter / np.abs(self.predict(**inputs))
        spread = self.extrapolation_error
        extra = 0.0 if spread is None else spread.extra_sd(z, **inputs)
        return np.sqrt(scatter**2 + extra**2)

    def _add_noise(self, draws: np.ndarray, inputs) -> np.ndarray:
        z = self.noise(draws.shape[0]).reshape(-1, *([1] * (draws.ndim - 1)))
        return draws * np.exp(self.new_run_sd(z, **inputs) * z)

    def extrapolation(self, **inputs: np.ndarray | float) -> list[Diagnostic]:
        """Diagnostics for inputs outside the fitted range (how far, in factors)."""
        return extrapolation(
            self.input_ranges, {k: np.asarray(v) for k, v in inputs.items()}
        )

    def optimal(
        self, compute, *, flops_per_token=None, level: float = 0.95, **fixed_inputs
    ):
        """Compute-optimal N*, D*, loss and tokens per parameter at ``compute`` FLOPs, with intervals."""
        from ..analysis.optimal import optimal_allocation

        return optimal_allocation(
            self, compute, flops_per_token=flops_per_token, level=level, **fixed_inputs
        )

    # -- reporting ----------------------------------------------------------
    def summary(self):
        """A :class:`~scalinglab.fit.summary.Summary` (text, markdown, dict, rich)."""
        from .summary import Summary

        return Summary(self)

    def to_dict(self) -> dict:
        """JSON-safe dict; :func:`load_fit` rebuilds an identical result from it."""
        return {
            "format": FORMAT_VERSION,
            "law": self.law.describe() | {"source": self.law.source},
            "params": dict(self.params),
            "ci95": self.conf_int() if self.draws is not None else None,
            "objective": self.objective,
            "objective_spec": self.objective_spec.to_dict(),
            "converged": self.converged,
            "gradient": self.gradient,
            "n_points": self.n_points,
            "n_runs": self.n_runs,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "draws": None if self.draws is None else self.draws.tolist(),
            "residual_scale": self.residual_scale,
            "input_ranges": {k: list(v) for k, v in self.input_ranges.items()},
            "settings": self.settings,
            "provenance": self.provenance,
            "extrapolation_error": None
            if self.extrapolation_error is None
            else self.extrapolation_error.to_dict(),
        }

    def save(self, path: str | Path) -> Path:
        """Write the fit as JSON (parameters, draws, diagnostics, provenance)."""
        return write_json(path, self.to_dict())

    def _require_draws(self, what: str) -> None:
        if self.draws is None:
            raise ScalinglabError(
                f"{what} need bootstrap draws; this fit has none (refit with bootstrap > 0)."
            )


def load_fit(path: str | Path) -> FitResult:
    """Reload a fit saved with :meth:`FitResult.save`; it predicts bit-identically."""
    return from_dict(
        read_saved(
            path,
            format=FORMAT_VERSION,
            what="scalinglab fit",
            make="scalinglab fit ...",
        )
    )


def from_dict(data: Mapping) -> FitResult:
    law = _rebuild_law(data["law"])
    spec = data["objective_spec"]
    draws = data.get("draws")
    return FitResult(
        law=law,
        params={k: float(v) for k, v in data["params"].items()},
        objective=float(data["objective"]),
        objective_spec=get_objective(spec["name"], spec.get("delta")),
        converged=bool(data["converged"]),
        gradient=float(data["gradient"])
        if data.get("gradient") is not None
        else float("nan"),
        n_points=int(data["n_points"]),
        n_runs=int(data["n_runs"]),
        diagnostics=tuple(Diagnostic.from_dict(d) for d in data.get("diagnostics", [])),
        draws=None if draws is None else np.asarray(draws, dtype=float),
        residual_scale=float(data["residual_scale"]),
        input_ranges={
            k: (float(v[0]), float(v[1])) for k, v in data["input_ranges"].items()
        },
        settings=dict(data.get("settings", {})),
        provenance=dict(data.get("provenance", {})),
        extrapolation_error=_extrapolation_error(data.get("extrapolation_error")),
    )


def _extrapolation_error(data: Mapping | None) -> ExtrapolationError | None:
    return None if not data else ExtrapolationError.from_dict(data)


def _rebuild_law(described: Mapping) -> Law:
    from ..laws.registry import LAWS, get_law

    source = described.get("source")
    if source:
        law = get_law(source, inputs=described.get("inputs", ()))
    elif described["name"] in LAWS or described["name"].endswith(")"):
        law = get_law(described["name"])  # a registered name, power(X) or mixing(...)
    else:
        raise ScalinglabError(
            f"cannot rebuild law {described['name']!r}: not registered and no formula."
        )
    changes = {}
    for p in described["params"]:
        changes[p["name"]] = {
            k: p[k] if p[k] is not None else (np.inf if k == "upper" else -np.inf)
            for k in ("init", "lower", "upper", "fixed")
        }
    return law._replace_params(changes)
