"""Loss-curve laws: the loss at step t as a function of the whole LR schedule up to t.

Two laws, both evaluated only at the observed (possibly downsampled) steps:

* multi-power law (Luo et al. 2025, arXiv 2503.12811)::

      L(t)   = L0 + A * S1(t)^-alpha - LD(t)
      S1(t)  = sum_{i<=t} eta_i                  (warmup area included, so S_W is implicit)
      LD(t)  = -B * sum_{k=1..t} (eta_k - eta_{k-1}) * G(eta_k^-gamma * S_k(t)),
      S_k(t) = sum_{i=k..t} eta_i,   G(x) = 1 - (C x + 1)^-beta

* LR-annealing law (Tissue et al. 2024, arXiv 2408.11029)::

      L(t) = L0 + A * S1(t)^-alpha - C * S2(t),  S2(t) = sum_{i<=t} m_i,
      m_i  = lam * m_{i-1} + (eta_{i-1} - eta_i)   (lam = 0.999, not fitted)

The loss-drop sum of the multi-power law is a double sum over steps k <= t with a
parameter-dependent power inside, so it cannot be written as a recursion. We
evaluate it on *geometric bins*: for every observed step t the steps k <= t are
grouped into bins whose widths grow geometrically (``bins_per_octave`` per doubling)
both in the distance t - k and in k itself (so a linear warmup, where eta_k spans
orders of magnitude, is resolved too), separately for LR increases and decreases.
Each bin keeps its summed LR change and the change-weighted means of
``log eta_k`` and of ``S1(k-1)``, all read from prefix sums in O(1). The cost per
evaluation is O(n * bins_per_octave * log2 T) instead of O(n * T), and bins of
steps where the LR does not change are dropped (a constant schedule costs almost
nothing). With 8 bins per octave the loss-drop term is within 2e-5 (absolute, in
nats) of the exact double sum on WSD, cosine-to-0 and step schedules with warmup (see ``tests/curves/test_curve_laws.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ScalinglabError
from .base import Law, make_law

__all__ = [
    "CURVE_LAWS",
    "MULTIPOWER_PUBLISHED",
    "CurveDesign",
    "build_design",
    "curve_law",
    "loss_drop_exact",
    "multipower_law",
    "tissue_law",
]

TISSUE_DECAY = 0.999
C_MAX = 1e6  # upper bound of the multi-power C (published values are about 2)
DEFAULT_BINS_PER_OCTAVE = 8
_CHUNK_ELEMENTS = 4_000_000  # bound on (parameter sets x bin pairs) held at once
_ETA_FLOOR = (
    1e-12  # relative to the peak: an LR of exactly 0 gives G = 1 instead of 0**-gamma
)

# Published best parameters, thu-yao-01-luo/MultiPowerLaw README / src/config.py (formulas.md 7.2).
MULTIPOWER_PUBLISHED = {
    "25M": dict(
        L0=3.0405, A=0.5247, alpha=0.5079, B=363.79, C=2.0656, beta=0.5828, gamma=0.6414
    ),
    "100M": dict(
        L0=2.6514, A=0.6012, alpha=0.4530, B=437.95, C=2.1325, beta=0.5979, gamma=0.6552
    ),
    "400M": dict(
        L0=2.3747, A=0.6542, alpha=0.4288, B=523.42, C=2.0246, beta=0.5935, gamma=0.6347
    ),
}


@dataclass(frozen=True, eq=False)
class CurveDesign:
    """Schedule-derived arrays for n observed points of one or several curves.

    Attributes
    ----------
    S1 : (n,) cumulative LR at each point.
    S2 : (n,) Tissue annealing area at each point.
    eta : (n,) LR at each point.
    pair_point : (m,) point index of each (point, bin) pair, sorted.
    pair_gap : (m,) summed LR change ``eta_k - eta_{k-1}`` over the bin.
    pair_log_eta : (m,) change-weighted mean of ``log eta_k`` over the bin.
    pair_area : (m,) ``S1(t) - S1(k-1)`` at the change-weighted mean of ``S1(k-1)``.
    starts : (n,) first pair of each point (``reduceat`` offsets).
    has_pairs : (n,) whether a point has any pair (an empty group must read 0).
    bins_per_octave : resolution used (None: exact, one pair per step with a change).
    """

    S1: np.ndarray
    S2: np.ndarray
    eta: np.ndarray
    pair_point: np.ndarray
    pair_gap: np.ndarray
    pair_log_eta: np.ndarray
    pair_area: np.ndarray
    starts: np.ndarray
    has_pairs: np.ndarray
    bins_per_octave: int | None

    @property
    def n_points(self) -> int:
        return int(self.S1.size)

    @property
    def n_pairs(self) -> int:
        return int(self.pair_point.size)


def _distance_edges(max_distance: int, bins_per_octave: int | None) -> np.ndarray:
    """Bin edges in distance t - k: 0, 1, then geometric (unique integers), up to max_distance + 1."""
    if bins_per_octave is None:
        return np.arange(max_distance + 2)
    octaves = np.log2(max(max_distance, 1) + 1)
    geometric = np.round(
        2.0 ** np.arange(0.0, octaves + 1.0 / bins_per_octave, 1.0 / bins_per_octave)
    )
    return np.unique(
        np.concatenate([[0, 1], geometric, [max_distance + 1]]).astype(np.int64)
    )


def _tissue_area(lr: np.ndarray, decay: float = TISSUE_DECAY) -> np.ndarray:
    """S2[t] = sum_{i<=t} m_i with m_i = decay m_{i-1} + (eta_{i-1} - eta_i), warmup excluded."""
    from scipy.signal import lfilter

    drop = np.zeros_like(lr)
    drop[1:] = lr[:-1] - lr[1:]
    peak_at = int(np.argmax(lr >= lr.max() * (1 - 1e-9)))
    drop[: peak_at + 1] = 0.0  # the rise of warmup is not annealing
    momentum = lfilter([1.0], [1.0, -decay], drop)
    return np.cumsum(momentum)


def _curve_pairs(lr: np.ndarray, steps: np.ndarray, bins_per_octave: int | None):
    """(point, bin) pairs of one curve: per point, per distance bin, per sign of the LR change."""
    area = np.cumsum(lr)
    gap = np.zeros_like(lr)
    gap[1:] = np.diff(lr)
    log_eta = np.log(np.maximum(lr, lr.max() * _ETA_FLOOR))
    prev_area = np.concatenate([[0.0], area[:-1]])  # S1(k-1)
    edges = _distance_edges(int(steps.max()), bins_per_octave)
    # Bin boundaries in k for each point: geometric in the distance t - k (fine near t) and,
    # merged in, geometric in k itself (fine near the start, where a linear warmup makes
    # eta_k vary by orders of magnitude within one distance bin). Bin j covers [b_j, b_j+1).
    bounds = steps[:, None] - edges[None, ::-1] + 1
    if bins_per_octave is not None:
        k_edges = _distance_edges(int(steps.max()), bins_per_octave)[1:]
        bounds = np.sort(
            np.concatenate(
                [bounds, np.broadcast_to(k_edges, (steps.size, k_edges.size))], axis=1
            ),
            axis=1,
        )
    bounds = np.clip(bounds, 1, (steps + 1)[:, None])
    lo_k, hi_k = bounds[:, :-1], bounds[:, 1:]
    out = []
    for sign in (1.0, -1.0):
        weight = np.where(gap * sign > 0, np.abs(gap), 0.0)
        prefix = [
            np.concatenate([[0.0], np.cumsum(q)])
            for q in (weight, weight * log_eta, weight * prev_area)
        ]
        w, wl, wa = (p[hi_k] - p[lo_k] for p in prefix)
        keep = w > 0
        point = np.broadcast_to(np.arange(steps.size)[:, None], keep.shape)[keep]
        mean_log_eta = wl[keep] / w[keep]
        mean_prev = wa[keep] / w[keep]
        # S1(t) - S1(k-1) >= 0; a difference of two large cumulative sums can round below 0
        # when the LR near t is tiny (a decay to 0), which would make (1 + C x) negative.
        span = np.maximum(area[steps][point] - mean_prev, 0.0)
        out.append((point, sign * w[keep], mean_log_eta, span))
    return [np.concatenate(parts) for parts in zip(*out)]


def build_design(
    schedules: Sequence[np.ndarray],
    steps: Sequence[np.ndarray],
    *,
    bins_per_octave: int | None = DEFAULT_BINS_PER_OCTAVE,
    tissue_decay: float = TISSUE_DECAY,
) -> CurveDesign:
    """Design arrays for observed ``steps[c]`` of curves whose LR arrays are ``schedules[c]``.

    ``bins_per_octave=None`` gives the exact double sum (one pair per step with an
    LR change): O(n T) memory, for tests and short schedules only.
    """
    parts, offset = [], 0
    for lr, at in zip(schedules, steps):
        lr = np.asarray(lr, dtype=float)
        at = np.asarray(at, dtype=np.int64)
        if at.size and (at.min() < 0 or at.max() >= lr.size):
            raise ScalinglabError(
                f"observed steps must lie within the schedule (0..{lr.size - 1}); got {at.min()}..{at.max()}."
            )
        point, gap, log_eta, pair_area = _curve_pairs(lr, at, bins_per_octave)
        parts.append(
            (
                np.cumsum(lr)[at],
                _tissue_area(lr, tissue_decay)[at],
                lr[at],
                point + offset,
                gap,
                log_eta,
                pair_area,
            )
        )
        offset += at.size
    S1, S2, eta, point, gap, log_eta, pair_area = (
        np.concatenate(p) for p in zip(*parts)
    )
    order = np.argsort(point, kind="stable")
    point = point[order]
    counts = np.bincount(point, minlength=S1.size)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return CurveDesign(
        S1,
        S2,
        eta,
        point,
        gap[order],
        log_eta[order],
        pair_area[order],
        np.minimum(starts, max(point.size - 1, 0)),
        counts > 0,
        bins_per_octave,
    )


# -- multi-power law -----------------------------------------------------------


def _group_sum(values: np.ndarray, design: CurveDesign) -> np.ndarray:
    """Sum (S, m) pair values into (S, n) point totals."""
    if design.n_pairs == 0:
        return np.zeros((values.shape[0], design.n_points))
    total = np.add.reduceat(values, design.starts, axis=1)
    return np.where(design.has_pairs, total, 0.0)


def _loss_drop_terms(design: CurveDesign, B, C, beta, gamma, derivatives: bool):
    """LD (S, n) and, if asked, its derivatives by B, C, beta, gamma; chunked over S."""
    S = np.broadcast_shapes(
        np.shape(B), np.shape(C), np.shape(beta), np.shape(gamma), (1, 1)
    )[0]
    B, C, beta, gamma = (
        np.broadcast_to(np.asarray(v, dtype=float).reshape(-1, 1), (S, 1))
        for v in (B, C, beta, gamma)
    )
    chunk = max(1, _CHUNK_ELEMENTS // max(design.n_pairs, 1))
    outputs = []
    for lo in range(0, S, chunk):
        sl = slice(lo, lo + chunk)
        outputs.append(
            _loss_drop_chunk(design, B[sl], C[sl], beta[sl], gamma[sl], derivatives)
        )
    return [np.concatenate(parts) for parts in zip(*outputs)]


def _loss_drop_chunk(design, B, C, beta, gamma, derivatives):
    gap, log_eta = design.pair_gap, design.pair_log_eta
    x = C * np.exp(-gamma * log_eta) * design.pair_area
    log_u = np.log1p(x)
    u_beta = np.exp(-beta * log_u)  # (1 + x)^-beta
    drop = B * _group_sum(
        gap * (1.0 - u_beta), design
    )  # B * sum gap * G  (negative when LR falls)
    if not derivatives:
        return (drop,)
    slope = gap * beta * u_beta / (1.0 + x) * x  # gap * dG/dx * x
    d_B = drop / B
    d_C = B * _group_sum(slope, design) / C
    d_gamma = -B * _group_sum(slope * log_eta, design)
    d_beta = B * _group_sum(gap * u_beta * log_u, design)
    return drop, d_B, d_C, d_beta, d_gamma


def _points(point, design: CurveDesign) -> np.ndarray:
    index = np.asarray(point).astype(np.int64)
    if index.size and (index.min() < 0 or index.max() >= design.n_points):
        raise ScalinglabError(
            f"curve law: point index out of range 0..{design.n_points - 1}."
        )
    return index


def multipower_law(
    design: CurveDesign, *, loss_min: float = 2.0, loss_span: float = 1.0
) -> Law:
    """The multi-power law bound to ``design`` (input ``point`` indexes the design's points).

    ``loss_min`` and ``loss_span`` (lowest observed loss and its range) set the
    starting grid; the LR scale enters through the design's median LR.
    """

    def multipower(point, *, L0, A, alpha, B, C, beta, gamma):
        """L = L0 + A*S1^-alpha + B*sum_k (eta_k - eta_{k-1}) G(eta_k^-gamma S_k(t)), G = 1-(C x+1)^-beta."""
        idx = _points(point, design)
        (drop,) = _loss_drop_terms(design, B, C, beta, gamma, derivatives=False)
        return L0 + A * design.S1[idx] ** -alpha + drop[:, idx]

    def log_jacobian(point, *, L0, A, alpha, B, C, beta, gamma):
        idx = _points(point, design)
        drop, d_B, d_C, d_beta, d_gamma = (
            t[:, idx] for t in _loss_drop_terms(design, B, C, beta, gamma, True)
        )
        power = design.S1[idx] ** -alpha
        loss = L0 + A * power + drop
        return {
            "L0": 1.0 / loss,
            "A": power / loss,
            "alpha": -A * power * np.log(design.S1[idx]) / loss,
            "B": d_B / loss,
            "C": d_C / loss,
            "beta": d_beta / loss,
            "gamma": d_gamma / loss,
        }

    peak = (
        float(np.median(design.eta[design.eta > 0])) if np.any(design.eta > 0) else 1e-3
    )
    s1_ref = float(np.median(design.S1))
    a_ref = loss_span * s1_ref**0.5
    return make_law(
        multipower,
        {
            **_power_params(loss_min, a_ref),
            "B": dict(
                init=0.1 / peak,
                lower=0.0,
                log=True,
                grid=(0.03 / peak, 0.1 / peak, 0.3 / peak),
            ),
            # Bounded above: with beta -> 0 the loss drop saturates as C -> inf (seen on a single
            # cosine curve), and the fit would report C = inf instead of a parameter at a bound.
            "C": dict(init=2.0, lower=0.0, upper=C_MAX, log=True, grid=(0.5, 2.0, 8.0)),
            "beta": dict(init=0.5, lower=1e-3, upper=5.0, grid=(0.3, 0.6)),
            "gamma": dict(init=0.5, lower=0.0, upper=3.0, grid=(0.3, 0.6)),
        },
        name="multipower",
        formula="L = L0 + A*(S1+S_W)^-alpha - LD(t), LD = B*sum_k (eta_{k-1}-eta_k) G(eta_k^-gamma S_k(t))",
        reference="Luo et al. 2025, A Multi-Power Law for Loss Curve Prediction Across LR Schedules, arXiv 2503.12811",
        log_jacobian=log_jacobian,
    )


def tissue_law(
    design: CurveDesign, *, loss_min: float = 2.0, loss_span: float = 1.0
) -> Law:
    """The LR-annealing law of Tissue et al. bound to ``design`` (momentum decay fixed at build time)."""

    def tissue(point, *, L0, A, alpha, C):
        """L = L0 + A*S1^-alpha - C*S2 (S2: momentum-smoothed annealing area)."""
        idx = _points(point, design)
        return L0 + A * design.S1[idx] ** -alpha - C * design.S2[idx]

    def log_jacobian(point, *, L0, A, alpha, C):
        idx = _points(point, design)
        power = design.S1[idx] ** -alpha
        loss = L0 + A * power - C * design.S2[idx]
        return {
            "L0": 1.0 / loss,
            "A": power / loss,
            "alpha": -A * power * np.log(design.S1[idx]) / loss,
            "C": -design.S2[idx] / loss,
        }

    s1_ref = float(np.median(design.S1))
    s2_ref = float(np.max(np.abs(design.S2))) or 1.0
    a_ref = loss_span * s1_ref**0.5
    return make_law(
        tissue,
        {
            **_power_params(loss_min, a_ref),
            "C": dict(
                init=0.1 * loss_span / s2_ref,
                lower=0.0,
                log=True,
                grid=tuple(f * loss_span / s2_ref for f in (0.01, 0.1, 1.0)),
            ),
        },
        name="tissue",
        formula="L = L0 + A*S1^-alpha - C*S2, S2 = sum m_i, m_i = 0.999 m_{i-1} + (eta_{i-1} - eta_i)",
        reference="Tissue et al. 2024, Scaling Law with Learning Rate Annealing, arXiv 2408.11029",
        log_jacobian=log_jacobian,
    )


def _power_params(loss_min: float, a_ref: float) -> dict:
    """The specs both curve laws share: the floor ``L0`` below the lowest loss
    ``loss_min`` and the power term ``A S1^-alpha`` with ``A`` near ``a_ref``."""
    return {
        "L0": dict(
            init=max(loss_min - 0.3, 1e-3),
            lower=0.0,
            upper=loss_min * 1.5,
            grid=tuple(max(loss_min - d, 1e-3) for d in (0.05, 0.3, 0.8)),
        ),
        "A": dict(
            init=a_ref, lower=0.0, log=True, grid=(a_ref * 0.2, a_ref, a_ref * 5)
        ),
        "alpha": dict(init=0.5, lower=1e-3, upper=3.0, grid=(0.25, 0.5, 1.0)),
    }


CURVE_LAWS = {"multipower": multipower_law, "tissue": tissue_law}


def curve_law(name: str, design: CurveDesign, **grid_hints: float) -> Law:
    """Build the curve law ``name`` (multipower or tissue) on ``design``."""
    if name not in CURVE_LAWS:
        raise ScalinglabError(
            f"unknown curve law {name!r}; choose one of {', '.join(CURVE_LAWS)}."
        )
    return CURVE_LAWS[name](design, **grid_hints)


def loss_drop_exact(
    lr: np.ndarray, steps: np.ndarray, *, B, C, beta, gamma
) -> np.ndarray:
    """The multi-power loss-drop term by the literal double sum (reference for tests; O(n T))."""
    lr = np.asarray(lr, dtype=float)
    area = np.cumsum(lr)
    out = np.empty(len(steps))
    for i, t in enumerate(np.asarray(steps, dtype=np.int64)):
        k = np.arange(1, t + 1)
        span = area[t] - area[k - 1]
        eta = np.maximum(lr[k], lr.max() * _ETA_FLOOR)
        out[i] = B * np.sum(
            (lr[k] - lr[k - 1]) * (1 - (1 + C * eta**-gamma * span) ** -beta)
        )
    return out
