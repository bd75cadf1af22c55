"""RegMix (Liu et al. 2024): regression from proxy runs' data mixtures to a target loss.

Many small models are trained on random mixtures of the domains; a regression
from each run's proportions ``r`` to its loss on the target domain then ranks
unseen mixtures, and the ranking is assumed to carry over to larger models
("rank invariance"). Two regressions, as in the paper:

- ``linear`` (the paper's baseline): :math:`L(r) = w \\cdot r`, least squares.
  The proportions sum to 1, so an intercept is absorbed in ``w``
  (:math:`a + w \\cdot r = (w + a) \\cdot r`); no extra dependency.
- ``lightgbm`` (the paper's choice): gradient-boosted trees with the paper's
  settings (1,000 rounds, learning rate 0.01, L2 loss), seeded and
  single-threaded so that a fit is reproducible. Needs the optional
  ``lightgbm`` package (``pip install 'scalinglab[regmix]'``).

A fit is scored by the Spearman rank correlation between predicted and actual
losses of held-out mixtures (:func:`rank_correlation`), the paper's measure.

References
----------
Liu, Zheng, Muennighoff, Zeng, Dou, Pang, Jiang, Lin (2024). RegMix: Data
Mixture as Regression for Language Model Pre-training. arXiv 2407.01492.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._json import read_saved, write_json
from ..errors import InputError, ScalinglabError

__all__ = ["METHODS", "RegMixFit", "fit_regmix", "rank_correlation"]

METHODS = ("linear", "lightgbm")
FORMAT_VERSION = 1
# Rows of proportions may be rounded (RegMix's own sum to 0.996-1.003).
_SUM_TOLERANCE = 0.01
# The paper's LightGBM settings (sail-sg/regmix, regression notebook).
_LIGHTGBM = {
    "objective": "regression",
    "learning_rate": 1e-2,
    "verbose": -1,
    "num_threads": 1,
    "deterministic": True,
}
_ROUNDS = 1000


@dataclass(frozen=True)
class RegMixFit:
    """A fitted RegMix regression of one target loss on the domain proportions.

    Attributes
    ----------
    domains : the proportion columns, in order.
    target : what the loss is (e.g. the loss column's name).
    method : ``"linear"`` or ``"lightgbm"``.
    coef : per-domain weight of the linear regression (None for lightgbm).
    model : the LightGBM model as text (None for linear).
    n_train : runs fitted.
    seed : the seed of the LightGBM fit.
    """

    domains: tuple[str, ...]
    target: str
    method: str
    coef: tuple[float, ...] | None
    model: str | None
    n_train: int
    seed: int = 0

    @property
    def smooth(self) -> bool:
        """Whether the prediction is differentiable in the proportions (linear)."""
        return self.method == "linear"

    def predict(self, **proportions) -> np.ndarray:
        """Predicted loss at the given proportions, one keyword per domain (broadcast)."""
        missing = [d for d in self.domains if d not in proportions]
        if missing:
            raise ScalinglabError(
                f"give a proportion for every domain; missing {', '.join(missing)}."
            )
        columns = np.broadcast_arrays(
            *(np.asarray(proportions[d], float) for d in self.domains)
        )
        X = np.column_stack([c.ravel() for c in columns])
        if self.method == "linear":
            predicted = X @ np.asarray(self.coef)
        else:
            predicted = _booster(self.model).predict(X)
        return predicted.reshape(columns[0].shape)

    def to_dict(self) -> dict:
        """JSON-safe; ``kind`` tells ``mix optimize`` it is a RegMix fit."""
        return {
            "format": FORMAT_VERSION,
            "kind": "regmix",
            "domains": list(self.domains),
            "target": self.target,
            "method": self.method,
            "coef": None if self.coef is None else list(self.coef),
            "model": self.model,
            "n_train": self.n_train,
            "seed": self.seed,
        }

    def save(self, path: str | Path) -> Path:
        """Write the fit as JSON (read back with :func:`load_regmix`)."""
        return write_json(path, self.to_dict())


def fit_regmix(
    proportions: Mapping[str, Sequence[float]],
    loss: Sequence[float],
    *,
    method: str = "linear",
    target: str = "loss",
    seed: int = 0,
) -> RegMixFit:
    """Fit RegMix's regression of ``loss`` on the domain ``proportions``.

    Parameters
    ----------
    proportions : domain name -> each run's share of that domain (rows sum to 1).
    loss : each run's loss on the target domain.
    method : ``"linear"`` (least squares) or ``"lightgbm"`` (the paper's trees).
    target : a name for the loss, kept with the fit.
    seed : seed of the LightGBM fit.

    Returns
    -------
    RegMixFit

    Raises
    ------
    ScalinglabError
        An unknown method, or lightgbm not installed.
    InputError
        Non-finite or negative proportions, rows not summing to 1, a loss of
        another length or non-finite, fewer runs than domains.

    Examples
    --------
    >>> fit = fit_regmix({"a": [1.0, 0.0, 0.5], "b": [0.0, 1.0, 0.5]}, [3.0, 2.0, 2.5])
    >>> [round(c, 6) for c in fit.coef]
    [3.0, 2.0]
    """
    if method not in METHODS:
        raise ScalinglabError(
            f"unknown method {method!r}; choose {' or '.join(METHODS)}."
        )
    domains = tuple(proportions)
    X, y = _checked(proportions, loss)
    if method == "linear":
        coef = tuple(np.linalg.lstsq(X, y, rcond=None)[0].tolist())
        return RegMixFit(domains, target, method, coef, None, len(y), seed)
    lightgbm = _lightgbm()
    data = lightgbm.Dataset(X, y, params={"verbose": -1})
    booster = lightgbm.train(_LIGHTGBM | {"seed": seed}, data, num_boost_round=_ROUNDS)
    return RegMixFit(
        domains, target, method, None, booster.model_to_string(), len(y), seed
    )


def rank_correlation(
    fit: RegMixFit, proportions: Mapping[str, Sequence[float]], loss: Sequence[float]
) -> float:
    """Spearman's rank correlation between the fit's predictions and ``loss`` (held-out runs)."""
    from scipy.stats import spearmanr

    _checked({d: proportions[d] for d in fit.domains}, loss)
    return float(
        spearmanr(fit.predict(**proportions), np.asarray(loss, float)).statistic
    )


def load_regmix(data: Mapping) -> RegMixFit:
    """A RegMix fit from its :meth:`RegMixFit.to_dict` (``format`` and ``kind`` checked)."""
    if data.get("kind") != "regmix" or data.get("format") != FORMAT_VERSION:
        raise ScalinglabError("not a saved RegMix fit (kind 'regmix', format 1).")
    coef = data["coef"]
    return RegMixFit(
        tuple(data["domains"]),
        data["target"],
        data["method"],
        None if coef is None else tuple(float(c) for c in coef),
        data["model"],
        int(data["n_train"]),
        int(data.get("seed", 0)),
    )


def read_regmix(path: str | Path) -> RegMixFit:
    """Read a RegMix fit saved with :meth:`RegMixFit.save`."""
    data = read_saved(
        path, format=FORMAT_VERSION, what="RegMix fit", make="scalinglab mix fit"
    )
    return load_regmix(data)


def _checked(proportions: Mapping, loss) -> tuple[np.ndarray, np.ndarray]:
    names = list(proportions)
    X = np.column_stack([np.asarray(proportions[d], dtype=float) for d in names])
    y = np.asarray(loss, dtype=float)
    if y.shape != (X.shape[0],) or not np.all(np.isfinite(y)):
        raise InputError(
            f"the loss must be {X.shape[0]} finite numbers, one per run; got "
            f"{y.size} values ({int(np.sum(~np.isfinite(y)))} not finite)."
        )
    bad = ~np.isfinite(X) | (X < 0)
    sums = X.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1.0) > _SUM_TOLERANCE)
    if bad.any() or off.size:
        rows = np.flatnonzero(bad.any(axis=1) | (np.abs(sums - 1.0) > _SUM_TOLERANCE))
        raise InputError(
            f"proportions of {', '.join(names)} must be finite, >= 0 and sum to 1 "
            f"(within {_SUM_TOLERANCE:g}) in each run; rows "
            f"{', '.join(str(r + 1) for r in rows[:8])} do not (1-based). Name every "
            "domain column, or renormalise the rows."
        )
    if len(y) <= len(names):
        raise InputError(
            f"RegMix needs more runs than domains; got {len(y)} runs for "
            f"{len(names)} domains."
        )
    return X, y


def _lightgbm():
    try:
        import lightgbm
    except ImportError:
        raise ScalinglabError(
            "method 'lightgbm' needs the lightgbm package: pip install "
            "'scalinglab[regmix]' (or use method 'linear')."
        ) from None
    return lightgbm


def _booster(model: str):
    return _lightgbm().Booster(model_str=model)
