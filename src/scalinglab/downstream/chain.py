"""Two-step task prediction: (N, D) -> task loss -> metric, with one joint run bootstrap.

Step 1 fits a registered scaling law to the task loss (bits per byte or CE of the
correct answer) of the *final* checkpoint of every run. Step 2 fits a link
(:mod:`~scalinglab.downstream.links`) from task loss to the metric on every
checkpoint (``link_rows="all"``, as Bhagia et al. do) or on the final ones. One run
resample drives both steps: replicate ``r`` refits step 1 and step 2 on the same
drawn runs, so the metric's interval carries step 1's uncertainty into step 2.

References
----------
Bhagia et al. 2024, "Establishing Task Scaling Laws via Compute-Efficient Model
Ladders", arXiv:2412.04403, sections 3-4.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._json import jsonable
from ..errors import ScalinglabError
from ..fit.diagnostics import Diagnostic
from ..fit.engine import Problem
from ..fit.intervals import percentile_interval, seeded_normals
from ..fit.objectives import get_objective
from ..fit.result import FitResult
from ..fit.result import from_dict as fit_from_dict
from ._data import TaskRows, check_chance, load_frame, task_rows
from ._joint import joint_draws
from .links import higher_is_better, make_link

__all__ = ["TaskFit", "fit_task", "load_task_fit", "load_task_fit_dict"]

FORMAT = "scalinglab-task/1"
NEAR_CHANCE = 0.05  # best fitted metric within this of chance: no signal to extrapolate
NARROW_RANGE = (
    0.1  # link fitted on a task-loss range narrower than this fraction of its level
)


@dataclass(frozen=True)
class TaskFit:
    """A fitted two-step task law: step 1 (N, D) -> task loss, step 2 task loss -> metric.

    Attributes
    ----------
    task : the task's name (its metric column unless given).
    step1 : the scaling-law fit of the task loss on final checkpoints.
    link : the link's name, ``"sigmoid"``, ``"exp"`` or ``"linear"``.
    link_params : the link's parameters by name.
    draws1, draws2 : joint bootstrap draws of step 1's and step 2's parameters,
        row ``r`` of both from the same run resample, shape (replicates, params).
    link_scale : robust scale of the link's residuals (metric units), the scatter
        of one checkpoint's metric about the link.
    chance : the metric at chance, or None.
    floor : ``"free"`` (the sigmoid's floor ``b`` fitted) or ``"chance"`` (held at chance).
    x_range : range of task loss the link was fitted on.
    metric_range : range of the metric the link was fitted on.
    rows : which rows each step used (counts and a sentence).
    kept : index of each kept joint resample among the ``replicates`` drawn (a
        resample is dropped when either step's refit did not converge).
    replicates : joint resamples drawn.
    notes : warnings about the fit (near chance, narrow link range).
    columns : the table's columns used: N, D, task_loss, metric, run.
    seed : seed of the bootstrap and of the interval noise.
    """

    task: str
    step1: FitResult
    link: str
    link_params: dict[str, float]
    draws1: np.ndarray
    draws2: np.ndarray
    link_scale: float
    chance: float | None
    x_range: tuple[float, float]
    metric_range: tuple[float, float]
    rows: dict[str, Any]
    kept: np.ndarray
    replicates: int
    notes: tuple[Diagnostic, ...] = ()
    columns: dict[str, str | None] = field(default_factory=dict)
    seed: int = 0
    floor: str = "free"

    @property
    def link_law(self):
        """The link as a :class:`~scalinglab.laws.Law` (input ``x``, the task loss)."""
        held = self.chance if self.floor == "chance" else None
        return make_link(self.link, np.asarray(self.x_range), held)

    def predict(self, *, N, D) -> dict[str, np.ndarray]:
        """Point predictions ``{"task_loss": ..., "metric": ...}`` at (N, D) (arrays broadcast)."""
        task_loss = self.step1.predict(N=N, D=D)
        metric = self.link_law.predict(self.link_params, x=task_loss)
        return {"task_loss": task_loss, "metric": metric}

    def predict_draws(self, *, N, D, kind: str = "prediction") -> dict[str, np.ndarray]:
        """Joint draws (replicates, *shape) of the task loss and the metric at (N, D).

        ``kind="mean"`` propagates the parameters only; ``"prediction"`` (default) adds,
        with seeded normals, step 1's run scatter and extrapolation error beyond the
        fitted range (as :meth:`FitResult.predict_interval`) to the task loss before the
        link, and the link's residual scatter to the metric.
        """
        if kind not in ("prediction", "mean"):
            raise ScalinglabError(f"kind must be 'prediction' or 'mean'; got {kind!r}.")
        N, D = np.broadcast_arrays(np.asarray(N, float), np.asarray(D, float))
        shape = (len(self.draws1), *N.shape)
        law1, law2 = self.step1.law, self.link_law
        values1 = {n: self.draws1[:, i : i + 1] for i, n in enumerate(law1.param_names)}
        with np.errstate(all="ignore"):
            task_loss = np.broadcast_to(
                law1.evaluate({"N": N.ravel(), "D": D.ravel()}, values1),
                (shape[0], N.size),
            ).reshape(shape)
            if kind == "prediction":
                z1, z2 = self._normals(shape)
                task_loss = task_loss * np.exp(self.step1.new_run_sd(z1, N=N, D=D) * z1)
            values2 = {
                n: self.draws2[:, i : i + 1].reshape(-1, *([1] * N.ndim))
                for i, n in enumerate(law2.param_names)
            }
            metric = law2.function(task_loss, **values2)
        if kind == "prediction":
            metric = metric + self.link_scale * z2
        return {"task_loss": task_loss, "metric": metric}

    def predict_interval(
        self, level: float = 0.95, *, N, D, kind: str = "prediction"
    ) -> dict[str, tuple]:
        """Equal-tailed intervals ``{"task_loss": (lo, hi), "metric": (lo, hi)}`` from the joint draws."""
        draws = self.predict_draws(N=N, D=D, kind=kind)
        return {k: percentile_interval(v, level) for k, v in draws.items()}

    def warnings_at(self, *, N, D) -> list[Diagnostic]:
        """Warnings for a prediction at (N, D): task loss outside the link's range, (N, D)
        outside step 1's range."""
        task_loss = np.atleast_1d(self.step1.predict(N=N, D=D))
        low, high = self.x_range
        found = list(self.step1.extrapolation(N=N, D=D))
        outside = (task_loss < low) | (task_loss > high)
        if outside.any():
            value = float(task_loss[outside][0])
            found.append(
                Diagnostic(
                    "task_loss_outside_link_range",
                    f"{self.task}: predicted task loss {value:.4g} is outside the range the "
                    f"link was fitted on [{low:.4g}, {high:.4g}]; the metric is extrapolated "
                    "along the link's shape.",
                    details={"task_loss": value, "range": [low, high]},
                )
            )
        return found

    def summary(self) -> str:
        """A short text summary: both steps' parameters with 95% intervals, rows, notes."""
        lines = [
            f"{self.task}: {self.step1.law.name} (N, D) -> task loss -> {self.link} link",
            f"rows: {self.rows['sentence']}",
            (
                f"bootstrap: {len(self.kept)} of {self.replicates} joint run "
                f"resamples converged in both steps (seed {self.seed})"
            ),
            "step 1 "
            + _param_line(self.step1.params, self.step1.law.param_names, self.draws1),
            "step 2 "
            + _param_line(self.link_params, self.link_law.param_names, self.draws2),
            (
                f"link residual scale {self.link_scale:.4g}; task loss seen "
                f"[{self.x_range[0]:.4g}, {self.x_range[1]:.4g}]"
            ),
        ]
        lines += [f"note: {d.message}" for d in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-safe dict; :func:`load_task_fit` rebuilds an identical fit from it."""
        return {
            "format": FORMAT,
            "task": self.task,
            "step1": self.step1.to_dict(),
            "link": self.link,
            "link_params": self.link_params,
            "draws1": self.draws1.tolist(),
            "draws2": self.draws2.tolist(),
            "link_scale": self.link_scale,
            "chance": self.chance,
            "x_range": list(self.x_range),
            "metric_range": list(self.metric_range),
            "rows": self.rows,
            "kept": self.kept.tolist(),
            "replicates": self.replicates,
            "notes": [d.to_dict() for d in self.notes],
            "columns": self.columns,
            "seed": self.seed,
            "floor": self.floor,
        }

    def save(self, path: str | Path) -> Path:
        """Write the fit as JSON."""
        path = Path(path)
        path.write_text(json.dumps(jsonable(self.to_dict()), allow_nan=False))
        return path

    def _normals(self, shape) -> tuple[np.ndarray, np.ndarray]:
        z = seeded_normals(self.seed, shape[0], streams=2)
        extra = (1,) * (len(shape) - 1)
        return z[0].reshape(-1, *extra), z[1].reshape(-1, *extra)


def _param_line(params, names, draws) -> str:
    low, high = percentile_interval(draws, 0.95)
    return ", ".join(
        f"{n}={params[n]:.4g} [{lo:.3g}, {hi:.3g}]"
        for n, lo, hi in zip(names, np.atleast_1d(low), np.atleast_1d(high))
    )


def load_task_fit(path: str | Path) -> TaskFit:
    """Reload a fit written by :meth:`TaskFit.save`."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as why:
        raise ScalinglabError(f"cannot read task fit {path}: {why}") from None
    return load_task_fit_dict(data, path)


def load_task_fit_dict(data: Any, path: str | Path = "<dict>") -> TaskFit:
    """A :class:`TaskFit` from :meth:`TaskFit.to_dict`'s output (``path`` for messages)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ScalinglabError(
            f"{path} is not a task fit (format {FORMAT!r}); make one with "
            "`scalinglab task fit`."
        )
    return TaskFit(
        task=data["task"],
        step1=fit_from_dict(data["step1"]),
        link=data["link"],
        link_params={k: float(v) for k, v in data["link_params"].items()},
        draws1=np.asarray(data["draws1"], float),
        draws2=np.asarray(data["draws2"], float),
        link_scale=float(data["link_scale"]),
        chance=data["chance"],
        x_range=tuple(data["x_range"]),
        metric_range=tuple(data["metric_range"]),
        rows=data["rows"],
        kept=np.asarray(data["kept"], int),
        replicates=int(data["replicates"]),
        notes=tuple(Diagnostic.from_dict(d) for d in data["notes"]),
        columns=data["columns"],
        seed=int(data["seed"]),
        floor=data["floor"],
    )


def fit_task(
    data: Any,
    *,
    task_loss: str,
    metric: str,
    N: str = "N",
    D: str = "D",
    run: str | None = None,
    link: str = "sigmoid",
    chance: float | None = None,
    floor: str = "free",
    law: str = "chinchilla",
    link_rows: str = "all",
    bootstrap: int = 1000,
    seed: int = 0,
    name: str | None = None,
    extrapolation: str | None = "rolling",
    progress: Callable[[int, int], None] | None = None,
) -> TaskFit:
    """Fit the two-step task law with a joint run bootstrap.

    Parameters
    ----------
    data : a table path or DataFrame, one row per checkpoint (or per run).
    task_loss, metric : columns of the task loss (e.g. bits per byte of the correct
        answer) and of the metric (accuracy for the sigmoid and linear links, top-1
        error for the exponential link), the metric in [0, 1].
    N, D, run : columns of parameters, tokens seen and the run's id. Without ``run``
        every row is its own run (and so a final checkpoint).
    link : "sigmoid" (Bhagia et al.), "exp" (Gadre et al.) or "linear".
    chance : the metric at chance: checked against the data, used for the near-chance
        warning, and with ``floor="chance"`` the sigmoid's floor ``b``.
    floor : ``"free"`` (default: ``b`` fitted in [0, 1], as Bhagia et al. fit all four
        sigmoid parameters; on olmo_ladder it predicts the 3B runs better, 3.1% vs 4.3%
        mean relative error) or ``"chance"`` (``b`` held at ``chance``).
    law : the step-1 law (a registered name or formula of N and D).
    link_rows : "all" (every checkpoint, the paper's choice) or "final".
    bootstrap : joint run-resample replicates (at least 20).
    seed : seeds the bootstrap and the interval noise.
    name : the task's name (default: the metric column).
    extrapolation : step 1's extrapolation error (``"rolling"``, see
        :func:`scalinglab.fit`), added to prediction intervals beyond the fitted
        range; None leaves them to the joint bootstrap and the run scatter.
    progress : called as ``progress(done, total)`` with joint-bootstrap refits done
        (``total`` = 2 steps x ``bootstrap``).

    Returns
    -------
    TaskFit

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> N, D = (a.ravel() for a in np.meshgrid([1e8, 3e8, 1e9], [2e9, 8e9, 3e10]))
    >>> tl = 0.6 + 30 * N**-0.3 + 60 * D**-0.3
    >>> acc = 0.25 + 0.6 / (1 + np.exp(8 * (tl - 1.0)))
    >>> frame = pd.DataFrame({"N": N, "D": D, "bpb": tl, "acc": acc})
    >>> task = fit_task(frame, task_loss="bpb", metric="acc", chance=0.25, bootstrap=50)
    >>> round(float(task.predict(N=3e9, D=6e10)["metric"]), 3)
    0.808
    """
    from ..fit import fit

    if link_rows not in ("all", "final"):
        raise ScalinglabError(f"link_rows must be 'all' or 'final'; got {link_rows!r}.")
    if bootstrap < 20:
        raise ScalinglabError(
            f"bootstrap must be at least 20 for intervals; got {bootstrap}."
        )
    frame, source = load_frame(data)
    rows = task_rows(
        frame, N=N, D=D, task_loss=task_loss, metric=metric, run=run, source=source
    )
    if floor not in ("free", "chance") or (floor == "chance" and chance is None):
        raise ScalinglabError(
            f"floor must be 'free' or 'chance' (with a chance level); got {floor!r}"
            + (" without --chance." if floor == "chance" else ".")
        )
    link_law = make_link(link, rows.task_loss, chance if floor == "chance" else None)
    check_chance(rows.metric, chance, metric, higher_is_better(link))
    final = rows.final
    on_link = np.ones_like(final) if link_rows == "all" else final
    step1 = fit(
        law,
        {
            "N": rows.N[final],
            "D": rows.D[final],
            "loss": rows.task_loss[final],
            "run": rows.run[final].astype(str),
        },
        # Its own bootstrap only gates the extrapolation estimate; the joint draws replace it.
        bootstrap=bootstrap if extrapolation else 0,
        seed=seed,
        extrapolation=extrapolation,
    )
    step2 = fit(
        link_law,
        {
            "x": rows.task_loss[on_link],
            "loss": rows.metric[on_link],
            "run": rows.run[on_link].astype(str),
        },
        objective="mse",
        bootstrap=0,
        extrapolation=None,
    )
    (draws1, draws2), kept = _joint_draws(
        step1, step2, rows, final, on_link, bootstrap, seed, progress
    )
    x = rows.task_loss[on_link]
    m = rows.metric[on_link]
    return TaskFit(
        task=name or metric,
        step1=replace(step1, draws=draws1),
        link=link,
        link_params=dict(step2.params),
        draws1=draws1,
        draws2=draws2,
        link_scale=float(step2.residual_scale),
        chance=chance,
        x_range=(float(x.min()), float(x.max())),
        metric_range=(float(m.min()), float(m.max())),
        rows=_rows_used(rows, final, on_link),
        kept=kept,
        replicates=bootstrap,
        notes=tuple(
            _fit_notes(name or metric, m, x, chance, link) + _step_notes(step1, step2)
        ),
        columns={"N": N, "D": D, "task_loss": task_loss, "metric": metric, "run": run},
        seed=seed,
        floor=floor,
    )


def _joint_draws(
    step1, step2, rows: TaskRows, final, on_link, replicates, seed, progress
):
    """Both steps refitted on the same run resamples (:func:`._joint.joint_draws`)."""
    steps = [
        (
            Problem(
                step1.law,
                {"N": rows.N[final], "D": rows.D[final]},
                rows.task_loss[final],
                step1.objective_spec,
                np.ones(final.sum()),
            ),
            step1.params,
            rows.run[final],
        ),
        (
            Problem(
                step2.law,
                {"x": rows.task_loss[on_link]},
                rows.metric[on_link],
                get_objective("mse"),
                np.ones(on_link.sum()),
            ),
            step2.params,
            rows.run[on_link],
        ),
    ]
    return joint_draws(steps, len(rows.run_names), replicates, seed, progress=progress)


def _rows_used(rows: TaskRows, final, on_link) -> dict[str, Any]:
    n_runs = len(rows.run_names)
    link_what = "every checkpoint" if on_link.all() else "final checkpoints"
    sentence = (
        f"step 1 used the final checkpoint of each of {n_runs} runs ({int(final.sum())} rows); "
        f"step 2 used {link_what} ({int(on_link.sum())} rows)"
    )
    if rows.dropped:
        sentence += f"; {rows.dropped} rows without a task loss or metric were left out"
    return {
        "step1": int(final.sum()),
        "step2": int(on_link.sum()),
        "runs": n_runs,
        "dropped": rows.dropped,
        "sentence": sentence,
    }


def _fit_notes(task, metric, x, chance, link) -> list[Diagnostic]:
    found = []
    if chance is not None:
        best = metric.max() if higher_is_better(link) else metric.min()
        if abs(best - chance) < NEAR_CHANCE:
            found.append(
                Diagnostic(
                    "near_chance",
                    f"{task}: the best fitted metric ({best:.3f}) is within {NEAR_CHANCE} of "
                    f"chance ({chance:g}); there is little signal to extrapolate.",
                    details={"best": float(best), "chance": float(chance)},
                )
            )
    spread = float(np.ptp(x)) / float(np.median(np.abs(x)))
    if spread < NARROW_RANGE:
        found.append(
            Diagnostic(
                "narrow_link_range",
                f"{task}: the link was fitted on task losses spanning only {100 * spread:.1f}% "
                f"of their level ([{x.min():.4g}, {x.max():.4g}]); its shape beyond is a guess.",
                details={"range": [float(x.min()), float(x.max())]},
            )
        )
    return found


def _step_notes(step1, step2) -> list[Diagnostic]:
    keep = ("not_converged", "at_bound", "multiple_optima", "few_runs")
    return [
        d
        for result in (step1, step2)
        for d in result.diagnostics
        if d.severity == "warning" and any(d.code.startswith(k) for k in keep)
    ]
