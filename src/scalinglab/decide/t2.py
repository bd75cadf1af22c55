"""Train-to-test (T^2): choose N, D and the samples per query k together.

A task model turns the pretraining loss into pass@k: pass@1 is a sigmoid of the
loss, and per-problem success probabilities are Beta-distributed around it with a
fixed concentration (Schaeffer et al. 2025), so

.. math::

    \\text{pass@}k(N, D) = 1 - B(m\\kappa, (1-m)\\kappa + k) / B(m\\kappa, (1-m)\\kappa),
    \\quad m = \\text{pass@1}(L(N, D)).

The budget pays for training and for ``queries`` answers of ``k`` samples each:
``C = c_tr(N) D + 2 N * queries * k * tokens_per_sample`` (Roberts et al. 2026's
end-to-end budget; the exact cost term there is unverified). At fixed k, pass@k
falls with the loss, so the best (N, D) is the lifetime optimum with
``queries * k * tokens_per_sample`` inference tokens; k is then searched over.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import ScalinglabError
from .lifetime import Demand, LifetimeOptimum, lifetime_optimum, surface
from .testtime import beta_pass_at_k

_K_GRID = 60


@dataclass(frozen=True)
class TaskModel:
    """pass@1 as a sigmoid of the loss, per-problem success ~ Beta(m kappa, (1 - m) kappa).

    Attributes
    ----------
    L50 : loss at which pass@1 is halfway between ``floor`` and ``ceiling``.
    scale : loss change that moves pass@1 by a factor e in odds (> 0).
    concentration : kappa = alpha + beta of the per-problem Beta (``scalinglab testtime fit``
        reports alpha and beta).
    floor, ceiling : pass@1 limits (chance level and best reachable), 0 <= floor < ceiling <= 1.
    """

    L50: float
    scale: float
    concentration: float
    floor: float = 0.0
    ceiling: float = 1.0

    def __post_init__(self) -> None:
        for name in ("scale", "concentration"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ScalinglabError(f"task {name} must be > 0; got {float(value)!r}.")
        if not 0 <= self.floor < self.ceiling <= 1:
            raise ScalinglabError(
                f"task floor and ceiling need 0 <= floor < ceiling <= 1; got {self.floor}, {self.ceiling}."
            )

    def pass1(self, loss):
        """pass@1 at ``loss``."""
        return self.floor + (self.ceiling - self.floor) / (
            1 + np.exp((np.asarray(loss) - self.L50) / self.scale)
        )

    def pass_at_k(self, loss, k):
        """pass@k at ``loss`` with k samples (Beta forecast around pass@1)."""
        m = self.pass1(loss)
        return beta_pass_at_k(m * self.concentration, (1 - m) * self.concentration, k)


@dataclass(frozen=True)
class T2Optimum:
    """The joint optimum of N, D and k, and the training-only choice it departs from.

    Attributes
    ----------
    k : samples per query at the optimum.
    pass_at_k : the task's pass@k there.
    model : the lifetime optimum (N, D, FLOPs, intervals) at that k.
    one_sample : the lifetime optimum with k = 1, and its pass@1.
    chinchilla : the compute-optimal model spending the whole budget on training (no test time).
    overtraining : tokens per parameter at the optimum / the compute-optimal tokens per parameter.
    scanned : for every k searched: ``k``, ``pass_at_k``, and that k's best ``N``, ``D``,
        ``tokens_per_param``.
    """

    k: int
    pass_at_k: float
    model: LifetimeOptimum
    one_sample: dict
    chinchilla: dict
    overtraining: float
    scanned: list = field(repr=False)

    def to_dict(self) -> dict:
        """JSON-safe: k, pass@k, N, D, tokens per parameter, FLOPs, comparisons, the k scan."""
        model = self.model.to_dict()
        keep = (
            "N",
            "D",
            "tokens_per_param",
            "loss",
            "train_flops",
            "inference_flops",
            "total_flops",
            "ci95",
        )
        return {
            "k": self.k,
            "pass_at_k": self.pass_at_k,
            **{k: model[k] for k in keep},
            "one_sample": self.one_sample,
            "chinchilla": self.chinchilla,
            "overtraining": self.overtraining,
            "scanned": self.scanned,
            "notes": model["notes"],
        }


def t2_optimum(
    result,
    task: TaskModel,
    *,
    budget: float,
    queries: float,
    tokens_per_sample: float,
    k_max: int = 10_000,
    demand: Demand | None = None,
    level: float = 0.95,
) -> T2Optimum:
    """Best N, D and k for a total budget of training plus ``queries`` answers.

    Parameters
    ----------
    result : a fit or a preset of a law of N and D.
    task : how the loss maps to pass@k.
    budget : total FLOPs (training + all sampling).
    queries : answers served over the model's life.
    tokens_per_sample : tokens generated (and read) per sample.
    k_max : the largest k considered.
    demand : training cost per token, inference cost per token, data limits and caps
        (default: 6 N training, 2 N inference FLOPs per token, no limits).
    level : interval level of N, D (conditional on the chosen k).

    Returns
    -------
    T2Optimum

    References
    ----------
    Roberts et al. 2026, "Test-Time Scaling Makes Overtraining Compute-Optimal", arXiv 2604.01411.
    Schaeffer et al. 2025, arXiv 2502.17578 (Beta forecast of pass@k).
    """
    for name, value in (
        ("budget", budget),
        ("queries", queries),
        ("tokens_per_sample", tokens_per_sample),
    ):
        if not np.isfinite(value) or value <= 0:
            raise ScalinglabError(f"{name} must be > 0; got {float(value)!r}.")
    if k_max < 1:
        raise ScalinglabError(f"k_max must be >= 1; got {k_max!r}.")
    demand = demand or Demand()
    surface(
        result.law, demand.unique_tokens
    )  # fail on an unusable law before any k is tried
    point = _PointOnly(result)
    score = _scorer(point, task, budget, queries * tokens_per_sample, demand)
    k = _best_k(score, k_max)
    tokens = queries * k * tokens_per_sample
    model = lifetime_optimum(
        result,
        budget=budget,
        demand=replace(demand, inference_tokens=tokens),
        level=level,
    )
    return _assemble(
        point, task, budget, queries * tokens_per_sample, demand, k, model, score
    )


class _PointOnly:
    """A fit's point estimate without its draws: the k search needs no intervals."""

    def __init__(self, result) -> None:
        self.law, self.params, self.draws = result.law, result.params, None


def _scorer(point, task, budget, tokens_per_k, demand):
    """pass@k of the best (N, D) at each k, memoised; ``score.rows`` keeps N and D too."""
    rows: dict[int, dict] = {}

    def score(k: int) -> float:
        if k not in rows:
            try:
                best = lifetime_optimum(
                    point,
                    budget=budget,
                    demand=replace(demand, inference_tokens=k * tokens_per_k),
                )
            except ScalinglabError:  # this k's sampling alone exceeds the budget
                rows[k] = {"k": k, "pass_at_k": -np.inf}
            else:
                rows[k] = {
                    "k": k,
                    "pass_at_k": float(task.pass_at_k(best.loss, k)),
                    "N": best.N,
                    "D": best.D,
                    "tokens_per_param": best.tokens_per_param,
                }
        return rows[k]["pass_at_k"]

    score.rows = rows
    return score


def _best_k(score, k_max: int) -> int:
    """Best integer k: a log-spaced scan, then a ternary search between the best point's neighbours."""
    grid = np.unique(np.round(np.geomspace(1, k_max, _K_GRID)).astype(int))
    values = np.array([score(int(k)) for k in grid])
    if not np.isfinite(values).any():
        raise ScalinglabError(
            "the budget cannot pay for training plus one sample per query; raise it."
        )
    i = int(np.argmax(values))
    lo, hi = int(grid[max(i - 1, 0)]), int(grid[min(i + 1, grid.size - 1)])
    while hi - lo > 2:
        a, b = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        lo, hi = (lo, b) if score(a) >= score(b) else (a, hi)
    return max(range(lo, hi + 1), key=score)


def _assemble(point, task, budget, tokens_per_k, demand, k, model, score) -> T2Optimum:
    one = lifetime_optimum(
        point, budget=budget, demand=replace(demand, inference_tokens=tokens_per_k)
    )
    train_only = lifetime_optimum(
        point, budget=budget, demand=replace(demand, inference_tokens=0.0)
    )
    chinchilla = {
        "N": train_only.N,
        "D": train_only.D,
        "tokens_per_param": train_only.tokens_per_param,
        "loss": train_only.loss,
    }
    one_sample = {
        "N": one.N,
        "D": one.D,
        "tokens_per_param": one.tokens_per_param,
        "loss": one.loss,
        "pass_at_1": float(task.pass_at_k(one.loss, 1)),
    }
    scanned = [
        row for _, row in sorted(score.rows.items()) if np.isfinite(row["pass_at_k"])
    ]
    return T2Optimum(
        k=k,
        pass_at_k=score(k),
        model=model,
        one_sample=one_sample,
        chinchilla=chinchilla,
        overtraining=model.tokens_per_param / train_only.tokens_per_param,
        scanned=scanned,
    )
