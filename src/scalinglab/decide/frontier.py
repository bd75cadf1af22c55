"""The lifetime frontier: optimal N, D and loss as inference demand or budget varies."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import ScalinglabError
from .lifetime import (
    Demand,
    LifetimeOptimum,
    lifetime_optimum,
    surface,
    tokens_for_loss,
)

_COLUMNS = (
    "inference_tokens",
    "budget",
    "target_loss",
    "N",
    "D",
    "tokens_per_param",
    "loss",
    "train_flops",
    "inference_flops",
    "total_flops",
    "saving_fraction",
)


@dataclass(frozen=True)
class Frontier:
    """Lifetime optima over a sweep.

    Attributes
    ----------
    axis : what varies: ``"inference_tokens"``, ``"budget"`` or ``"target_loss"``.
    rows : one :class:`~scalinglab.decide.lifetime.LifetimeOptimum` per sweep point.
    budgets, target_losses : the budget or target of each row (the other is None).
    """

    axis: str
    rows: tuple[LifetimeOptimum, ...]
    budgets: tuple[float | None, ...]
    target_losses: tuple[float | None, ...]

    def table(self) -> list[dict]:
        """One JSON-safe dict per row: the sweep value, the optimum and its intervals."""
        out = []
        for best, budget, target in zip(self.rows, self.budgets, self.target_losses):
            row = {
                "inference_tokens": best.demand.inference_tokens,
                "budget": budget,
                "target_loss": target,
            }
            row |= {k: getattr(best, k) for k in _COLUMNS[3:]}
            row["ci95"] = (
                None
                if best.ci95 is None
                else {k: list(v) for k, v in best.ci95.items()}
            )
            out.append(row)
        return out

    def to_dict(self) -> dict:
        notes = sorted({n for best in self.rows for n in best.notes})
        return {"axis": self.axis, "rows": self.table(), "notes": notes}


def lifetime_frontier(
    result,
    *,
    inference_tokens=(0.0,),
    budgets=None,
    target_losses=None,
    demand: Demand | None = None,
    level: float = 0.95,
) -> Frontier:
    """Lifetime optima for every inference demand and every budget (or target loss).

    Parameters
    ----------
    result : a fit or a preset.
    inference_tokens : lifetime inference tokens to sweep.
    budgets, target_losses : total FLOP budgets or target losses; give exactly one.
    demand : cost per token, unique tokens and caps shared by every row.
    level : interval level.

    Returns
    -------
    Frontier

    Examples
    --------
    >>> from scalinglab.laws.presets import get_preset
    >>> f = lifetime_frontier(get_preset("besiroglu2024"), inference_tokens=[0, 1e13],
    ...                       target_losses=[2.0])
    >>> f.rows[1].N < f.rows[0].N
    True
    """
    demand = demand or Demand()
    tokens = np.atleast_1d(np.asarray(inference_tokens, dtype=float))
    if (budgets is None) == (target_losses is None):
        raise ScalinglabError(
            "give exactly one of budgets (--compute) or target losses (--target-loss)."
        )
    goals = np.atleast_1d(
        np.asarray(budgets if budgets is not None else target_losses, dtype=float)
    )
    axis = (
        "inference_tokens"
        if tokens.size > 1 or goals.size == 1
        else ("budget" if budgets is not None else "target_loss")
    )
    rows, b, t = [], [], []
    for T in tokens:
        for goal in goals:
            kind = (
                {"budget": float(goal)}
                if budgets is not None
                else {"target_loss": float(goal)}
            )
            rows.append(
                lifetime_optimum(
                    result,
                    **kind,
                    demand=replace(demand, inference_tokens=float(T)),
                    level=level,
                )
            )
            b.append(kind.get("budget"))
            t.append(kind.get("target_loss"))
    return Frontier(axis, tuple(rows), tuple(b), tuple(t))


def iso_loss_tokens(
    result, loss: float, N: np.ndarray, demand: Demand | None = None
) -> np.ndarray:
    """D with L(N, D) = ``loss`` for each N (NaN where unreachable): the iso-loss curve."""
    demand = demand or Demand()
    surf = surface(result.law, demand.unique_tokens)
    point = {k: np.array([[float(v)]]) for k, v in result.params.items()}
    return tokens_for_loss(
        surf, point, np.asarray(N, dtype=float)[None, :], loss, demand.max_tokens
    )[0]
