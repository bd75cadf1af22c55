"""Compute-optimal allocation: N*(C), D*(C), L*(C) and tokens per parameter, with intervals.

Closed form where the law provides one (Chinchilla under C = 6ND); otherwise a
vectorised 1-D search along the IsoFLOP line in log N, run for every bootstrap
draw at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import ScalinglabError
from ..fit.intervals import percentile_interval
from ..laws.base import Law
from ..units import plain

FlopsPerToken = Callable[[np.ndarray], np.ndarray]
_GRID_POINTS = 512
_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True)
class Allocation:
    """Compute-optimal allocation at one or more compute budgets.

    ``N``, ``D``, ``loss``, ``tokens_per_param`` have the shape of ``compute``
    (plain floats for one budget); ``ci95`` maps each of them to ``(low, high)``
    at the requested level when the fit has bootstrap draws. ``diagnostics``
    warn when N* or D* lie beyond the fitted data, as predictions do.
    """

    compute: np.ndarray | float
    N: np.ndarray | float
    D: np.ndarray | float
    loss: np.ndarray | float
    tokens_per_param: np.ndarray | float
    ci95: dict[str, tuple[np.ndarray, np.ndarray]] | None
    method: str
    cost_model: str
    diagnostics: tuple = field(default=())

    def to_dict(self) -> dict:
        scalar = np.ndim(self.compute) == 0

        def out(x):
            return float(x) if scalar else np.asarray(x).tolist()

        payload = {
            "compute": out(self.compute),
            "N": out(self.N),
            "D": out(self.D),
            "loss": out(self.loss),
            "tokens_per_param": out(self.tokens_per_param),
            "method": self.method,
            "cost_model": self.cost_model,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }
        if self.ci95 is not None:
            payload["ci95"] = {
                k: [out(lo), out(hi)] for k, (lo, hi) in self.ci95.items()
            }
        return payload


def six_n(N: np.ndarray) -> np.ndarray:
    """Training FLOPs per token under the C = 6 N D convention."""
    return 6.0 * N


def optimal_N(
    law: Law,
    values: Mapping[str, np.ndarray],
    compute: np.ndarray,
    *,
    flops_per_token: FlopsPerToken | None = None,
    fixed_inputs: Mapping[str, float] | None = None,
    method: str = "auto",
) -> tuple[np.ndarray, str]:
    """Optimal N for parameter arrays ``values`` (each (S, 1)) at budgets ``compute`` (k,): shape (S, k)."""
    _check_law(law, fixed_inputs)
    use_closed = (
        law.optimum is not None and flops_per_token is None and not fixed_inputs
    )
    if method == "closed" and not use_closed:
        raise ScalinglabError(
            f"law {law.name!r} has no closed-form optimum for this cost model."
        )
    if use_closed and method != "numeric":
        with np.errstate(all="ignore"):
            return np.asarray(
                law.optimum(compute[None, :], **values), dtype=float
            ), "closed form"
    return _numeric_optimum(
        law, values, compute, flops_per_token or six_n, fixed_inputs or {}
    ), "numeric"


def _check_law(law: Law, fixed_inputs) -> None:
    needed = set(law.inputs) - {"N", "D"} - set(fixed_inputs or {})
    of_N_and_D = "N" in law.inputs and "D" in law.inputs
    if not of_N_and_D or needed:
        # Holding other inputs fixed helps only a law of N and D (not e.g. N_bar, D).
        extra = f"; give values for {', '.join(sorted(needed))}" if of_N_and_D else ""
        raise ScalinglabError(
            f"compute-optimal allocation needs a law of N and D; {law.name!r} takes "
            f"{', '.join(law.inputs)}{extra}."
        )


def _loss_on_isoflop(law, values, x, compute, fpt, fixed):
    N = np.exp(x)
    inputs = {
        "N": N,
        "D": compute / fpt(N),
        **{k: np.full_like(N, v) for k, v in fixed.items()},
    }
    with np.errstate(all="ignore"):
        loss = np.asarray(
            law.function(*(inputs[n] for n in law.inputs), **values), dtype=float
        )
    return np.where(np.isfinite(loss), loss, np.inf)


def _numeric_optimum(law, values, compute, fpt, fixed) -> np.ndarray:
    S = next(iter(values.values())).shape[0]
    k = compute.size
    # Scan log N on a grid up to N = C/6 (at least one token), then golden-section refine.
    top = np.log(compute / 6.0)
    fraction = np.linspace(0.0, 1.0, _GRID_POINTS)[None, :, None]
    xs = np.log(10.0) + fraction * (top[None, None, :] - np.log(10.0))  # (1, G, k)
    xs = np.broadcast_to(xs, (S, _GRID_POINTS, k))
    vals = {n: v[:, :, None] for n, v in values.items()}
    loss = _loss_on_isoflop(law, vals, xs, compute[None, None, :], fpt, fixed)
    best = np.argmin(loss, axis=1)  # (S, k)
    rows = np.arange(S)[:, None]
    cols = np.arange(k)[None, :]
    lo = xs[rows, np.maximum(best - 1, 0), cols]
    hi = xs[rows, np.minimum(best + 1, _GRID_POINTS - 1), cols]
    return np.exp(
        _golden(
            lambda x: _loss_on_isoflop(law, values, x, compute[None, :], fpt, fixed),
            lo,
            hi,
        )
    )


def _golden(f, lo: np.ndarray, hi: np.ndarray, tol: float = 1e-13) -> np.ndarray:
    a, b = lo.copy(), hi.copy()
    c = b - _GOLDEN * (b - a)
    d = a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(200):
        if np.all(np.abs(b - a) <= tol * (1 + np.abs(a))):
            break
        left = fc < fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        d_new = np.where(left, c, a + _GOLDEN * (b - a))
        c_new = np.where(left, b - _GOLDEN * (b - a), d)
        fd_new = np.where(left, fc, np.nan)
        fc_new = np.where(left, np.nan, fd)
        c, d = c_new, d_new
        need_c, need_d = np.isnan(fc_new), np.isnan(fd_new)
        fc = np.where(need_c, f(c), fc_new)
        fd = np.where(need_d, f(d), fd_new)
    return (a + b) / 2.0


def optimal_allocation(
    result,
    compute,
    *,
    flops_per_token: FlopsPerToken | None = None,
    level: float = 0.95,
    method: str = "auto",
    **fixed_inputs: float,
) -> Allocation:
    """N*, D*, L*, D*/N* at ``compute`` for a fit or preset (anything with ``law``, ``params``, ``draws``)."""
    law = result.law
    C = np.asarray(compute, dtype=float)
    flat = np.atleast_1d(C).ravel()
    bad = flat[~(np.isfinite(flat) & (flat > 0))]
    if bad.size:
        raise ScalinglabError(
            f"compute must be finite and > 0 FLOPs; got {plain(bad)}."
        )
    _check_fixed(law, fixed_inputs)
    fpt = flops_per_token or six_n
    _check_cost_model(fpt, flat)
    point = {k: np.array([[v]]) for k, v in result.params.items()}
    N, how = optimal_N(
        law,
        point,
        flat,
        flops_per_token=flops_per_token,
        fixed_inputs=fixed_inputs,
        method=method,
    )
    N = _finite_optimum(N[0])
    D = flat / fpt(N)
    loss = law.predict(result.params, **_inputs(N, D, fixed_inputs))
    found = _degenerate_optima(N, None, flat)
    ci = None
    if getattr(result, "draws", None) is not None:
        values = {
            name: result.draws[:, i : i + 1] for i, name in enumerate(law.param_names)
        }
        Ns, _ = optimal_N(
            law,
            values,
            flat,
            flops_per_token=flops_per_token,
            fixed_inputs=fixed_inputs,
            method=method,
        )
        Ns = _finite_optimum(Ns)
        found += _degenerate_optima(None, Ns, flat)
        Ds = flat[None, :] / fpt(Ns)
        with np.errstate(all="ignore"):
            Ls = np.asarray(
                law.function(
                    *(_inputs(Ns, Ds, fixed_inputs)[n] for n in law.inputs), **values
                )
            )
        Ls = _with_extrapolation_error(result, Ls, N, D)
        ci = {}
        for name, samples in (
            ("N", Ns),
            ("D", Ds),
            ("loss", Ls),
            ("tokens_per_param", Ds / Ns),
        ):
            low, high = percentile_interval(samples, level, axis=0)
            ci[name] = (_shaped(low, C.shape), _shaped(high, C.shape))
    if hasattr(result, "extrapolation"):
        found += result.extrapolation(N=N, D=D)
    if ci is not None:
        estimates = {"N": N, "D": D, "loss": loss, "tokens_per_param": D / N}
        found += _interval_misses(estimates, ci, flat)
    return Allocation(
        compute=_shaped(C, C.shape),
        N=_shaped(N, C.shape),
        D=_shaped(D, C.shape),
        loss=_shaped(loss, C.shape),
        tokens_per_param=_shaped(D / N, C.shape),
        ci95=ci,
        method=how,
        cost_model="C = 6 N D"
        if flops_per_token is None
        else "C = flops_per_token(N) * D",
        diagnostics=tuple(found),
    )


def _finite_optimum(N: np.ndarray) -> np.ndarray:
    """N* with NaN where the law has no finite optimum (N* = 0 or infinite: its N or D
    term vanishes, e.g. A = 0, so one input should take the whole budget)."""
    N = np.asarray(N, dtype=float)
    return np.where(np.isfinite(N) & (N > 0), N, np.nan)


def _degenerate_optima(N, Ns, compute: np.ndarray) -> list:
    """A diagnostic when the fit (``N``) or some bootstrap draws (``Ns``, one row per
    draw) have no finite optimum; those draws are left out of the intervals."""
    from ..fit.diagnostics import Diagnostic

    why = (
        "its N or D term vanishes (A or B = 0, or an exponent at its bound) and the "
        "law puts the whole budget into one input"
    )
    if N is not None and np.isnan(N).any():
        at = ", ".join(f"{c:.3g}" for c in compute[np.isnan(N)])
        message = f"the fit has no finite compute-optimal N at C = {at}: {why}."
        details = {"budgets": compute[np.isnan(N)].tolist()}
    elif Ns is not None and np.isnan(Ns).any():
        count = int(np.isnan(Ns).any(axis=1).sum())
        message = (
            f"{count}/{len(Ns)} bootstrap draws have no finite compute-optimal N: {why}. "
            "They are left out of the intervals of N*, D* and L*, which are then too "
            "narrow; the N or D term is weakly identified."
        )
        details = {"draws": count, "of": len(Ns)}
    else:
        return []
    return [Diagnostic("degenerate_optimum", message, details=details)]


def _interval_misses(estimates: dict, ci: dict, compute: np.ndarray) -> list:
    """A diagnostic for budgets whose interval does not contain its own estimate."""
    from ..fit.diagnostics import interval_excludes_estimate

    values, bounds = {}, {}
    for name, estimate in estimates.items():
        low, high = (np.ravel(b) for b in ci[name])
        for i, c in enumerate(compute):
            if not np.isfinite(estimate[i]):  # no optimum: said by _degenerate_optima
                continue
            key = name if compute.size == 1 else f"{name} at C={c:.3g}"
            values[key], bounds[key] = float(estimate[i]), (low[i], high[i])
    return interval_excludes_estimate(values, bounds, "compute-optimal")


def _shaped(values, shape: tuple) -> np.ndarray | float:
    """``values`` in the shape of the budgets: a plain float for one scalar budget."""
    values = np.asarray(values, dtype=float).reshape(shape)
    return float(values) if values.ndim == 0 else values


def _check_cost_model(fpt: FlopsPerToken, compute: np.ndarray) -> None:
    """FLOPs per token must be finite and > 0 for every model size the search may try."""
    N = np.geomspace(10.0, float(compute.max()) / 6.0, 64)
    with np.errstate(all="ignore"):
        cost = np.broadcast_to(np.asarray(fpt(N), dtype=float), N.shape)
    bad = ~(np.isfinite(cost) & (cost > 0))
    if bad.any():
        raise ScalinglabError(
            f"the cost model gives {plain(cost[bad][0])} FLOPs per token at N = "
            f"{plain(N[bad][0])}; it must be finite and > 0 for every N (e.g. '6*N + 2e9')."
        )


def _check_fixed(law: Law, fixed_inputs: Mapping[str, float]) -> None:
    """Held inputs (e.g. U) must be inputs of the law and finite positive numbers."""
    for name, value in fixed_inputs.items():
        if name not in law.inputs:
            raise ScalinglabError(
                f"{name} is not an input of {law.name!r} (its inputs: {', '.join(law.inputs)}); drop it."
            )
        if not (np.isfinite(value) and value > 0):
            raise ScalinglabError(
                f"{name} must be a finite number > 0; got {plain(value)}."
            )


def _inputs(N, D, fixed):
    return {
        "N": N,
        "D": D,
        **{k: np.full_like(N, v, dtype=float) for k, v in fixed.items()},
    }


def _with_extrapolation_error(
    result, loss_draws: np.ndarray, N: np.ndarray, D: np.ndarray
) -> np.ndarray:
    """Loss draws times the fit's measured extrapolation error at (N*, D*), when it has one, so
    L*'s interval is as honest as a prediction's; N* and D* keep the bootstrap's spread."""
    spread = getattr(result, "extrapolation_error", None)
    if spread is None:
        return loss_draws
    z = result.noise(len(loss_draws))
    z = z[:, None]
    return loss_draws * np.exp(spread.extra_sd(z, N=N, D=D) * z)
