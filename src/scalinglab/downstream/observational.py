"""Observational scaling (Ruan et al. 2024): benchmarks of many public models, no training.

1. Standardise the scores of ``benchmarks`` over the models and take their first ``k``
   principal components: a low-dimensional capability ``s`` per model.
2. Fit the target benchmark as a sigmoid of the capability with the one engine, its
   floor at chance and its ceiling at 1, as the paper does:

   .. math:: m = \\frac{1 - b}{1 + e^{-(w \\cdot s + c)}} + b, \\quad b = \\text{chance}

   with a bootstrap over models.
3. Per model family, the capability as a line in log10 compute, ``s = theta_f log10 C +
   nu_f`` (least squares), so a planned model of a known family and compute gets a
   capability and, through the sigmoid, a predicted score.

References
----------
Ruan, Maddison and Hashimoto 2024, "Observational Scaling Laws and the Predictability of
Language Model Performance", arXiv:2405.10938, sections 3.1-3.3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ScalinglabError
from ..fit.result import FitResult
from ..laws.base import Law, make_law
from ._data import check_columns, load_frame

__all__ = ["ObservationalFit", "capability_law", "fit_observational"]


def _sigmoid1(s1, *, a, w1, c, b):
    """m = a / (1 + exp(-(w1 s1 + c))) + b."""
    return a / (1.0 + np.exp(-(w1 * s1 + c))) + b


def _sigmoid2(s1, s2, *, a, w1, w2, c, b):
    """m = a / (1 + exp(-(w1 s1 + w2 s2 + c))) + b."""
    return a / (1.0 + np.exp(-(w1 * s1 + w2 * s2 + c))) + b


def _sigmoid3(s1, s2, s3, *, a, w1, w2, w3, c, b):
    """m = a / (1 + exp(-(w1 s1 + w2 s2 + w3 s3 + c))) + b."""
    return a / (1.0 + np.exp(-(w1 * s1 + w2 * s2 + w3 * s3 + c))) + b


def capability_law(k: int, chance: float = 0.0) -> Law:
    """The sigmoid of a ``k``-dimensional capability ``s1..sk`` (k from 1 to 3), its floor
    ``b`` held at ``chance`` and its ceiling ``a + b`` at 1."""
    functions = {1: _sigmoid1, 2: _sigmoid2, 3: _sigmoid3}
    if k not in functions:
        raise ScalinglabError(f"k (principal components) must be 1, 2 or 3; got {k}.")
    if not 0 <= chance < 1:
        raise ScalinglabError(f"chance must be in [0, 1); got {chance!r}.")
    settings = {
        "c": {"init": 0.0, "lower": -30.0, "upper": 30.0, "grid": (-2.0, 0.0, 2.0)},
    } | {
        f"w{i + 1}": {
            "init": 0.0,
            "lower": -30.0,
            "upper": 30.0,
            "grid": (-1.0, 0.0, 1.0),
        }
        for i in range(k)
    }
    law = make_law(
        functions[k],
        settings,
        name=f"observational sigmoid (k={k})",
        formula="m = a / (1 + exp(-(w . s + c))) + b",
        reference="Ruan et al. 2024, section 3.2",
    )
    return law.fix(a=1.0 - float(chance), b=float(chance))


@dataclass(frozen=True)
class ObservationalFit:
    """Principal capabilities, the target's sigmoid on them, and per-family compute lines.

    Attributes
    ----------
    benchmarks : the benchmarks the capability is built from.
    target : the benchmark predicted.
    center, scale : standardisation of the benchmarks (over the models with all of them).
    components : principal directions, shape (k, len(benchmarks)).
    explained : share of the standardised variance each component explains.
    link : the sigmoid's fit (inputs ``s1..sk``), with a bootstrap over models.
    families : family -> (theta, nu), the capability as ``theta log10 C + nu``.
    models : how many models built the capability, how many fitted the sigmoid, and
        how many were left out for a missing score.
    """

    benchmarks: tuple[str, ...]
    target: str
    center: np.ndarray
    scale: np.ndarray
    components: np.ndarray
    explained: np.ndarray
    link: FitResult
    families: dict[str, tuple[np.ndarray, np.ndarray]]
    models: dict[str, int]

    def capability(self, scores) -> np.ndarray:
        """Capabilities (n, k) of models with scores (n, len(benchmarks))."""
        z = (np.atleast_2d(np.asarray(scores, float)) - self.center) / self.scale
        return z @ self.components.T

    def _through_link(self, s: np.ndarray) -> np.ndarray:
        return self.link.predict(**{f"s{i + 1}": s[:, i] for i in range(s.shape[1])})

    def predict_from_scores(self, scores) -> np.ndarray:
        """The target benchmark of models whose other benchmark scores are known."""
        return self._through_link(self.capability(scores))

    def predict(self, *, family: str, compute) -> np.ndarray:
        """The target of a planned model of a fitted ``family`` at ``compute`` (the compute
        column's units), through the family's capability line."""
        if family not in self.families:
            raise ScalinglabError(
                f"family {family!r} has no compute line (it needs two models of distinct "
                f"compute); fitted families: {', '.join(sorted(self.families))}."
            )
        theta, nu = self.families[family]
        logc = np.log10(np.atleast_1d(np.asarray(compute, float)))
        return self._through_link(logc[:, None] * theta + nu)

    def to_dict(self) -> dict:
        """JSON-safe summary."""
        return {
            "benchmarks": list(self.benchmarks),
            "target": self.target,
            "explained_variance": self.explained.tolist(),
            "components": self.components.tolist(),
            "params": self.link.params,
            "ci95": self.link.conf_int() if self.link.draws is not None else None,
            "families": {
                f: {"theta": t.tolist(), "nu": n.tolist()}
                for f, (t, n) in self.families.items()
            },
            "models": self.models,
        }


def fit_observational(
    data: Any,
    *,
    benchmarks: list[str],
    target: str,
    family: str,
    compute: str,
    k: int = 1,
    chance: float = 0.0,
    bootstrap: int = 200,
    seed: int = 0,
    fit_rows=None,
) -> ObservationalFit:
    """Fit the observational scaling law to a table of models (one row each).

    Parameters
    ----------
    data : a table path or DataFrame.
    benchmarks : score columns (in [0, 1]) that build the capability; rows missing any
        of them or the target are left out (counted in ``models``).
    target : the score column to predict (not among ``benchmarks``).
    family, compute : columns of the model family and training compute (any positive
        unit; rows without compute still count for the capability and the sigmoid).
    k : principal components kept (1-3). The paper uses 3; on obsscaling's hold-out
        by compute 1 extrapolates better (docs/downstream.md).
    chance : the target at chance, the sigmoid's floor.
    bootstrap, seed : bootstrap over models of the sigmoid.
    fit_rows : boolean mask of the rows the sigmoid is fitted on (default all); the
        capability (PCA) uses every complete row, as the paper's hold-out does: a new
        model's other benchmarks are public before its target is.

    Returns
    -------
    ObservationalFit
    """
    from ..fit import fit

    frame, source = load_frame(data)
    check_columns(frame, [*benchmarks, target, family, compute], source)
    if target in benchmarks or len(benchmarks) <= k:
        raise ScalinglabError(
            f"the target must not be a capability benchmark, and {len(benchmarks)} "
            f"benchmarks must be more than k = {k}."
        )
    keep = frame[[*benchmarks, target]].notna().all(axis=1).to_numpy()
    used = frame[keep]
    scores, y = used[benchmarks].to_numpy(float), used[target].to_numpy(float)
    _check_scores(np.column_stack([scores, y]), [*benchmarks, target], source)
    center, scale = scores.mean(axis=0), scores.std(axis=0)
    _, singular, directions = np.linalg.svd(
        (scores - center) / scale, full_matrices=False
    )
    components = _oriented(directions[:k])
    s = (scores - center) / scale @ components.T
    on = (
        np.ones(len(frame), bool) if fit_rows is None else np.asarray(fit_rows, bool)
    )[keep]
    if on.sum() <= k + 3:
        raise ScalinglabError(
            f"{int(on.sum())} complete rows to fit the sigmoid on; it needs more than {k + 3}."
        )
    link = fit(
        capability_law(k, chance),
        {**{f"s{i + 1}": s[on, i] for i in range(k)}, "loss": y[on]},
        objective="mse",
        bootstrap=bootstrap,
        seed=seed,
        extrapolation=None,
    )
    return ObservationalFit(
        benchmarks=tuple(benchmarks),
        target=target,
        center=center,
        scale=scale,
        components=components,
        explained=(singular**2 / np.sum(singular**2))[:k],
        link=link,
        families=_family_lines(
            used[family].astype(str).to_numpy(),
            np.log10(used[compute].to_numpy(float)),
            s,
        ),
        models={
            "capability": int(keep.sum()),
            "sigmoid": int(on.sum()),
            "left_out": int((~keep).sum()),
        },
    )


def _check_scores(values: np.ndarray, columns: list[str], source: str) -> None:
    for column, v in zip(columns, values.T):
        if np.any((v < 0) | (v > 1)):
            raise InputError(
                f"column {column!r} must hold scores in [0, 1]; a percentage? Divide by 100.",
                source=source,
                column=column,
            )
        if np.ptp(v) == 0:
            raise InputError(
                f"column {column!r} is constant.", source=source, column=column
            )


def _oriented(directions: np.ndarray) -> np.ndarray:
    """Principal directions signed so that their loadings sum to a positive number
    (PC1 then grows with capability)."""
    signs = np.where(directions.sum(axis=1) < 0, -1.0, 1.0)
    return directions * signs[:, None]


def _family_lines(families, logc, s) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Least-squares line of each capability in log10 compute, per family with two or more
    models of distinct, known compute."""
    lines = {}
    for name in np.unique(families):
        rows = (families == name) & np.isfinite(logc)
        if np.unique(logc[rows]).size < 2:
            continue
        design = np.column_stack([logc[rows], np.ones(rows.sum())])
        coef, *_ = np.linalg.lstsq(design, s[rows], rcond=None)
        lines[str(name)] = (coef[0], coef[1])
    return lines
