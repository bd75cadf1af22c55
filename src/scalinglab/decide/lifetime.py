"""Lifetime (training + inference) optimum of N and D, with data limits and caps.

Two forms (Sardana et al. 2024):

- ``budget``: the lowest-loss (N, D) whose training plus inference FLOPs equal a
  total budget;
- ``target``: the cheapest (N, D) whose predicted loss equals a target.

Both are 1-D searches in log N (a grid, then golden-section refinement), run for
the point estimate and every bootstrap draw at once. With zero inference tokens,
no caps and no repetition pricing, the budget form calls the compute-optimal
search of :mod:`scalinglab.analysis.optimal` itself, so the two answers agree
exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..analysis.optimal import _golden, _with_extrapolation_error, optimal_N, six_n
from ..errors import ScalinglabError
from ..fit.intervals import percentile_interval
from ..laws.data_constrained import data_constrained

FlopsPerToken = Callable[[np.ndarray], np.ndarray]

# Muennighoff et al. 2023, huggingface/datablations parametric fit (reference/formulas.md 8.2).
MUENNIGHOFF_R_D_STAR = 15.387756
MUENNIGHOFF_R_N_STAR = 5.309743
_GRID_POINTS = 512
_LOG_N_RANGE = (
    np.log(1e3),
    np.log(1e16),
)  # target form: models from 1e3 to 1e16 parameters
_LOG_D_MAX = np.log(1e30)
_BISECTIONS = 60  # log D in [0, 69]: 69 / 2**60 is below double precision


def two_n(N: np.ndarray) -> np.ndarray:
    """Inference FLOPs per token of a dense decoder's forward pass, 2 N (Sardana et al.)."""
    return 2.0 * N


@dataclass(frozen=True)
class Demand:
    """What the model will serve and what limits its training.

    Attributes
    ----------
    inference_tokens : lifetime tokens served (prompt plus generation).
    train_flops_per_token : training FLOPs per token as a function of N (default 6 N),
        or None for the fit's own convention (6 N).
    inference_flops_per_token : inference FLOPs per token as a function of N (default 2 N).
    unique_tokens : unique training tokens available (None: unlimited).
    max_params, max_tokens : caps on N and D (None: none).
    """

    inference_tokens: float = 0.0
    train_flops_per_token: FlopsPerToken | None = None
    inference_flops_per_token: FlopsPerToken = two_n
    unique_tokens: float | None = None
    max_params: float | None = None
    max_tokens: float | None = None

    def __post_init__(self) -> None:
        _check_nonnegative(self.inference_tokens, "inference_tokens")
        for name in ("unique_tokens", "max_params", "max_tokens"):
            value = getattr(self, name)
            if value is not None:
                _check_positive(value, name)

    @property
    def train_fpt(self) -> FlopsPerToken:
        return self.train_flops_per_token or six_n

    def flops(self, N: np.ndarray, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training and inference FLOPs of a model of N parameters trained on D tokens."""
        return self.train_fpt(N) * D, self.inference_flops_per_token(
            N
        ) * self.inference_tokens

    @property
    def is_plain(self) -> bool:
        """No inference, no caps, no data limit: today's compute-optimal problem."""
        limits = (self.unique_tokens, self.max_params, self.max_tokens)
        return self.inference_tokens == 0 and all(v is None for v in limits)


@dataclass(frozen=True)
class Surface:
    """The loss as a function of (N, D) for parameter arrays of shape (S, 1).

    Built by :func:`surface`; ``note`` says how repetition is priced, if at all.
    """

    law: object
    fixed: Mapping[str, float]
    repetition: tuple[float, float] | None
    note: str

    def loss(
        self, N: np.ndarray, D: np.ndarray, values: Mapping[str, np.ndarray]
    ) -> np.ndarray:
        with np.errstate(all="ignore"):
            if self.repetition is not None:
                R_D, R_N = self.repetition
                out = data_constrained(
                    N, D, self.fixed["U"], R_D_star=R_D, R_N_star=R_N, **values
                )
            else:
                inputs = {
                    "N": N,
                    "D": D,
                    **{k: np.full_like(N, v) for k, v in self.fixed.items()},
                }
                out = self.law.function(*(inputs[n] for n in self.law.inputs), **values)
        out = np.asarray(out, dtype=float)
        return np.where(np.isfinite(out), out, np.inf)


def surface(law, unique_tokens: float | None = None) -> Surface:
    """The loss surface of ``law``, pricing repetition when ``unique_tokens`` is given.

    A law with a ``U`` input (``data_constrained``) gets ``U`` directly. The
    ``chinchilla`` law gets Muennighoff et al.'s effective data and parameters with
    their published half-lives R_D* = 15.39 and R_N* = 5.31 (C4 fit).
    """
    extra = set(law.inputs) - {"N", "D"}
    if "N" not in law.inputs or "D" not in law.inputs or extra - {"U"}:
        raise ScalinglabError(
            f"lifetime optima need a law of N and D; {law.name!r} takes {', '.join(law.inputs)}."
        )
    if "U" in extra:
        if unique_tokens is None:
            raise ScalinglabError(
                f"law {law.name!r} needs the unique tokens available; give --unique-tokens U."
            )
        return Surface(
            law,
            {"U": float(unique_tokens)},
            None,
            "repetition priced by the fit's own law",
        )
    if unique_tokens is None:
        return Surface(law, {}, None, "")
    if law.name != "chinchilla":
        raise ScalinglabError(
            f"--unique-tokens needs the data_constrained law or a chinchilla law; {law.name!r} has "
            "no way to price repeated tokens."
        )
    note = (
        "repetition priced with Muennighoff et al. 2023's effective data and parameters on this "
        f"law (published half-lives R_D*={MUENNIGHOFF_R_D_STAR}, R_N*={MUENNIGHOFF_R_N_STAR}, "
        "fitted on C4)"
    )
    return Surface(
        law,
        {"U": float(unique_tokens)},
        (MUENNIGHOFF_R_D_STAR, MUENNIGHOFF_R_N_STAR),
        note,
    )


# -- the two searches ---------------------------------------------------------


def budget_optimum(surf: Surface, values, budget: float, demand: Demand) -> np.ndarray:
    """Loss-minimising N (shape (S,)) with training + inference FLOPs = ``budget``."""
    if demand.is_plain and surf.repetition is None:
        fixed = dict(surf.fixed)
        how = demand.train_flops_per_token
        N, _ = optimal_N(
            surf.law,
            values,
            np.array([budget]),
            flops_per_token=how,
            fixed_inputs=fixed,
        )
        return N[:, 0]
    top = _largest_affordable(budget, demand)
    if demand.max_params is not None:
        top = min(top, np.log(demand.max_params))

    def objective(x):
        N = np.exp(x)
        return surf.loss(N, _budget_tokens(N, budget, demand), values)

    return _minimise(objective, np.log(10.0), top, values)


def _budget_tokens(N: np.ndarray, budget: float, demand: Demand) -> np.ndarray:
    D = (
        budget - demand.inference_flops_per_token(N) * demand.inference_tokens
    ) / demand.train_fpt(N)
    if demand.max_tokens is not None:
        D = np.minimum(D, demand.max_tokens)
    return np.where(D > 0, D, np.nan)


def _largest_affordable(budget: float, demand: Demand) -> float:
    """log N at which one training token plus the inference demand spend the whole budget."""
    lo, hi = np.log(1.0), np.log(budget)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        spent = (
            demand.train_fpt(np.exp(mid))
            + demand.inference_flops_per_token(np.exp(mid)) * demand.inference_tokens
        )
        lo, hi = (mid, hi) if spent < budget else (lo, mid)
    if lo <= np.log(10.0):
        raise ScalinglabError(
            f"a budget of {budget:.4g} FLOPs cannot serve {demand.inference_tokens:.4g} inference tokens "
            "even with a 10-parameter model; raise the budget or lower --inference-tokens."
        )
    return lo


def target_optimum(surf: Surface, values, target, demand: Demand) -> np.ndarray:
    """Cheapest N (shape (S,)) whose loss reaches ``target`` (a float or (S, 1) array)."""
    low, top = _LOG_N_RANGE
    if demand.max_params is not None:
        top = min(top, np.log(demand.max_params))

    def cost(x):
        N = np.exp(x)
        train, serve = demand.flops(
            N, tokens_for_loss(surf, values, N, target, demand.max_tokens)
        )
        return train + serve

    return _minimise(cost, low, top, values)


def tokens_for_loss(
    surf: Surface, values, N, target, max_tokens: float | None
) -> np.ndarray:
    """D with L(N, D) = target; NaN where unreachable (``target`` a float or (S, 1) array).

    Closed form for the plain Chinchilla law, else bisection in log D (the loss falls with D).
    """
    shape = np.broadcast_shapes(np.shape(N), next(iter(values.values())).shape)
    N = np.broadcast_to(N, shape)
    top = np.log(max_tokens) if max_tokens is not None else _LOG_D_MAX
    if surf.law.name == "chinchilla" and surf.repetition is None:
        with np.errstate(all="ignore"):
            gap = target - values["E"] - values["A"] * N ** -values["alpha"]
            D = (values["B"] / gap) ** (1.0 / values["beta"])
        return np.where((gap > 0) & (np.log(D) <= top), D, np.nan)
    lo, hi = np.zeros(shape), np.full(shape, top)
    reachable = surf.loss(N, np.exp(hi), values) <= target
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        above = surf.loss(N, np.exp(mid), values) > target
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return np.where(reachable, np.exp(hi), np.nan)


def _minimise(objective, low: float, top: float, values) -> np.ndarray:
    """argmin over log N in [low, top] of ``objective(log N)`` per draw; NaN where nothing is finite."""
    S = next(iter(values.values())).shape[0]
    xs = np.broadcast_to(
        np.linspace(low, top, _GRID_POINTS)[None, :], (S, _GRID_POINTS)
    )
    f = np.nan_to_num(objective(xs), nan=np.inf)
    best = np.argmin(f, axis=1)
    rows = np.arange(S)
    lo = xs[rows, np.maximum(best - 1, 0)][:, None]
    hi = xs[rows, np.minimum(best + 1, _GRID_POINTS - 1)][:, None]
    finite = lambda x: np.nan_to_num(objective(x), nan=np.inf)
    x = _feasible_side(
        finite, _golden(finite, lo, hi, tol=1e-10), xs[rows, best][:, None]
    )
    return np.where(np.isfinite(f[rows, best]), np.exp(x[:, 0]), np.nan)


def _feasible_side(objective, x: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """``x``, or where it is infeasible (a binding cap puts the optimum on the edge of the
    feasible set), the feasible point nearest to it on the segment towards ``fallback``."""
    bad = ~np.isfinite(objective(x))
    if not bad.any():
        return x
    inside, outside = fallback.copy(), x.copy()
    for _ in range(_BISECTIONS):
        mid = 0.5 * (inside + outside)
        ok = np.isfinite(objective(mid))
        inside, outside = np.where(ok, mid, inside), np.where(ok, outside, mid)
    return np.where(bad, inside, x)


def _check_positive(value: float, name: str) -> None:
    if not np.isfinite(value) or value <= 0:
        raise ScalinglabError(
            f"{name} must be a finite number > 0; got {float(value)!r}."
        )


def _check_nonnegative(value: float, name: str) -> None:
    if not np.isfinite(value) or value < 0:
        raise ScalinglabError(
            f"{name} must be a finite number >= 0; got {float(value)!r}."
        )


# -- the public answer --------------------------------------------------------

# The answer's quantities, in the order the JSON payload and the CLI table show them.
QUANTITIES = (
    "N",
    "D",
    "tokens_per_param",
    "train_flops",
    "inference_flops",
    "total_flops",
    "loss",
)


@dataclass(frozen=True)
class LifetimeOptimum:
    """The lifetime-optimal model and its Chinchilla-optimal comparison at equal loss.

    Attributes
    ----------
    form : ``"budget"`` (lowest loss for ``total_flops``) or ``"target"`` (cheapest to ``loss``).
    N, D, tokens_per_param, train_flops, inference_flops, total_flops, loss : the optimum.
    epochs : D / U when unique tokens are limited, else None.
    chinchilla : the model a training-only (compute-optimal) choice makes at the same loss:
        its N, D, tokens_per_param, train_flops, inference_flops, total_flops.
    saving_flops, saving_fraction : lifetime FLOPs saved against ``chinchilla``.
    ci95 : ``(low, high)`` per quantity from the fit's bootstrap draws, or None (a preset).
        In the target form ``loss``'s interval is what the draws predict at the chosen (N, D).
    demand : the inference demand and limits the answer was computed for.
    notes : how repetition was priced, missing intervals, draws without a solution.
    """

    form: str
    N: float
    D: float
    tokens_per_param: float
    train_flops: float
    inference_flops: float
    total_flops: float
    loss: float
    epochs: float | None
    chinchilla: dict
    saving_flops: float
    saving_fraction: float
    ci95: dict[str, tuple[float, float]] | None
    demand: Demand = field(repr=False)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-safe: every quantity, the comparison, ``ci95`` (or None) and notes."""
        payload = {k: getattr(self, k) for k in ("form", *QUANTITIES, "epochs")}
        payload |= {
            "inference_tokens": self.demand.inference_tokens,
            "unique_tokens": self.demand.unique_tokens,
            "chinchilla": self.chinchilla,
            "saving_flops": self.saving_flops,
            "saving_fraction": self.saving_fraction,
            "ci95": None
            if self.ci95 is None
            else {k: list(v) for k, v in self.ci95.items()},
            "notes": list(self.notes),
        }
        return payload


def lifetime_optimum(
    result,
    *,
    budget: float | None = None,
    target_loss: float | None = None,
    demand: Demand | None = None,
    level: float = 0.95,
) -> LifetimeOptimum:
    """Lifetime-optimal N, D for a total FLOP budget or a target loss, with intervals.

    Parameters
    ----------
    result : a fit (:class:`~scalinglab.fit.FitResult`) or a preset: anything with
        ``law``, ``params`` and ``draws`` (None for no intervals).
    budget : total training + inference FLOPs (the lowest-loss form).
    target_loss : loss to reach (the cheapest form). Give exactly one of the two.
    demand : inference tokens, cost per token, unique tokens and caps (default: no
        inference, 6 N training FLOPs per token, no limits).
    level : interval level for ``ci95``.

    Returns
    -------
    LifetimeOptimum

    Notes
    -----
    .. math::

        \\min_{N, D}\\; c_{tr}(N) D + c_{inf}(N) T \\quad \\text{s.t.}\\quad L(N, D) = \\ell

    and its dual (min L at fixed total cost). With T = 0 this is the compute-optimal
    allocation. The saving compares against the training-only optimum of equal loss,
    charged for the same T inference tokens.

    References
    ----------
    Sardana et al. 2024, "Beyond Chinchilla-Optimal", arXiv 2401.00448.
    Muennighoff et al. 2023, "Scaling Data-Constrained Language Models", arXiv 2305.16264.

    Examples
    --------
    >>> from scalinglab.laws.presets import get_preset
    >>> best = lifetime_optimum(get_preset("hoffmann2022"), target_loss=2.0,
    ...                         demand=Demand(inference_tokens=2e12))
    >>> best.N < best.chinchilla["N"]
    True
    """
    form = _form(budget, target_loss)
    demand = demand or Demand()
    surf = surface(result.law, demand.unique_tokens)
    notes = [surf.note] if surf.note else []
    point = {k: np.array([[float(v)]]) for k, v in result.params.items()}
    if form == "target":
        _check_reachable(point, target_loss)
    answer = _solve(surf, point, form, budget, target_loss, demand)
    if not np.isfinite(answer["N"][0]):
        raise ScalinglabError(_infeasible(form, budget, target_loss, demand))
    one = {k: float(v[0]) for k, v in answer.items()}
    ci = None
    if getattr(result, "draws", None) is None:
        notes.append(
            "no bootstrap draws (a preset or a fit with --bootstrap 0): no intervals"
        )
    else:
        ci, missing = _intervals(
            result, surf, form, budget, target_loss, demand, one, level
        )
        if missing:
            notes.append(
                f"{missing} of {len(result.draws)} bootstrap draws have no solution; intervals use the rest"
            )
    return _assemble(form, one, ci, demand, notes)


def _form(budget, target_loss) -> str:
    if (budget is None) == (target_loss is None):
        raise ScalinglabError(
            "give exactly one of a total budget (--compute) or --target-loss."
        )
    if budget is not None:
        _check_positive(budget, "the budget (FLOPs)")
        return "budget"
    _check_positive(target_loss, "--target-loss")
    return "target"


def _check_reachable(point, target: float) -> None:
    E = point.get("E")
    if E is not None and target <= float(E[0, 0]):
        raise ScalinglabError(
            f"--target-loss {target:g} is at or below the law's irreducible loss E = {float(E[0, 0]):.4g}; "
            "no model reaches it. Choose a target above E."
        )


def _infeasible(form, budget, target, demand: Demand) -> str:
    if form == "budget":
        return f"no (N, D) fits a budget of {budget:.4g} FLOPs with these limits; raise the budget."
    caps = ", ".join(
        f"{k}={getattr(demand, k):.4g}"
        for k in ("unique_tokens", "max_params", "max_tokens")
        if getattr(demand, k) is not None
    )
    return f"no model reaches --target-loss {target:g}{' with ' + caps if caps else ''}; raise the target or relax the limits."


def _solve(
    surf: Surface, values, form, budget, target, demand: Demand
) -> dict[str, np.ndarray]:
    """The optimum and its training-only twin of equal loss for parameter arrays (S, 1)."""
    if form == "budget":
        N = budget_optimum(surf, values, budget, demand)
        D = _budget_tokens(N, budget, demand)
        loss = surf.loss(N[:, None], D[:, None], values)[:, 0]
    else:
        N = target_optimum(surf, values, target, demand)
        D = tokens_for_loss(surf, values, N[:, None], target, demand.max_tokens)[:, 0]
        loss = np.full_like(N, target)
    train, serve = demand.flops(N, D)
    twin = _training_only_twin(surf, values, loss, demand)
    return {
        "N": N,
        "D": D,
        "loss": loss,
        "train_flops": train,
        "inference_flops": serve,
        **twin,
    }


def _training_only_twin(
    surf: Surface, values, loss: np.ndarray, demand: Demand
) -> dict[str, np.ndarray]:
    """The compute-optimal (no inference) model of the same loss, charged for the same inference."""
    train_only = Demand(
        train_flops_per_token=demand.train_flops_per_token,
        unique_tokens=demand.unique_tokens,
        max_params=demand.max_params,
        max_tokens=demand.max_tokens,
    )
    target = loss[:, None]  # one target per draw
    N = target_optimum(surf, values, target, train_only)
    D = tokens_for_loss(surf, values, N[:, None], target, demand.max_tokens)[:, 0]
    train, serve = demand.flops(N, D)
    return {
        "chinchilla_N": N,
        "chinchilla_D": D,
        "chinchilla_train_flops": train,
        "chinchilla_inference_flops": serve,
    }


def _intervals(result, surf, form, budget, target, demand, one, level):
    law = result.law
    values = {
        name: result.draws[:, i : i + 1] for i, name in enumerate(law.param_names)
    }
    draws = _derived(_solve(surf, values, form, budget, target, demand))
    N, D = np.array([one["N"]]), np.array([one["D"]])
    if form == "target":
        # The target is met under the point fit; the draws say what the chosen model would reach.
        draws["loss"] = surf.loss(N[None, :], D[None, :], values)[:, 0]
    if hasattr(result, "noise"):
        draws["loss"] = _with_extrapolation_error(result, draws["loss"][:, None], N, D)[
            :, 0
        ]
    finite = {name: samples[np.isfinite(samples)] for name, samples in draws.items()}
    ci = {
        name: percentile_interval(kept, level)
        for name, kept in finite.items()
        if kept.size
    }
    missing = len(result.draws) - min(kept.size for kept in finite.values())
    return (ci or None), missing


def _derived(raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {k: raw[k] for k in ("N", "D", "train_flops", "inference_flops", "loss")}
    out["tokens_per_param"] = raw["D"] / raw["N"]
    out["total_flops"] = raw["train_flops"] + raw["inference_flops"]
    twin_total = raw["chinchilla_train_flops"] + raw["chinchilla_inference_flops"]
    out["saving_flops"] = twin_total - out["total_flops"]
    out["saving_fraction"] = out["saving_flops"] / twin_total
    return out


def _assemble(form, one: dict, ci, demand: Demand, notes) -> LifetimeOptimum:
    arrays = {k: np.array([v]) for k, v in one.items()}
    d = {k: float(v[0]) for k, v in _derived(arrays).items()}
    twin = {
        "N": one["chinchilla_N"],
        "D": one["chinchilla_D"],
        "tokens_per_param": one["chinchilla_D"] / one["chinchilla_N"],
        "train_flops": one["chinchilla_train_flops"],
        "inference_flops": one["chinchilla_inference_flops"],
        "total_flops": one["chinchilla_train_flops"]
        + one["chinchilla_inference_flops"],
    }
    epochs = d["D"] / demand.unique_tokens if demand.unique_tokens is not None else None
    return LifetimeOptimum(
        form=form,
        **{k: d[k] for k in QUANTITIES},
        epochs=epochs,
        chinchilla=twin,
        saving_flops=d["saving_flops"],
        saving_fraction=d["saving_fraction"],
        ci95=ci,
        demand=demand,
        notes=tuple(notes),
    )
