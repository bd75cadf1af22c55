"""Learning-rate schedules as data: one LR value per optimizer step.

A :class:`Schedule` holds ``lr[i]``, the learning rate used at step ``i`` for
``i = 0 .. steps-1``. Builders cover the common families (constant, cosine,
linear, warmup-stable-decay with a decay fraction and shape, step decay) and
arbitrary arrays; :func:`parse_spec` reads a compact spec such as
``"wsd:steps=72000,peak=3e-4,decay=0.2,shape=sqrt"`` (keys in :data:`SPEC_KEYS`).
This module sits below both the readers (:mod:`scalinglab.io.logs`) and the
analyses, and imports neither.

Warmup is linear from 0 to the peak over ``warmup`` steps, as in the multi-power
law code (``lr[0] = 0``, ``lr[warmup-1] = peak``); the decay phase starts after it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import ScalinglabError
from .units import parse_quantity

__all__ = [
    "DECAY_SHAPES",
    "FAMILIES",
    "SPEC_KEYS",
    "Phases",
    "Schedule",
    "constant",
    "cosine",
    "detect_phases",
    "from_array",
    "from_points",
    "linear",
    "parse_spec",
    "spec_help",
    "spec_keys",
    "step_decay",
    "wsd",
]


@dataclass(frozen=True, eq=False)
class Phases:
    """Warmup, stable and decay phases found in an LR array (half-open step ranges)."""

    warmup: tuple[int, int]
    stable: tuple[int, int]
    decay: tuple[int, int]
    peak: float
    final: float

    def to_dict(self) -> dict:
        return {
            "warmup": list(self.warmup),
            "stable": list(self.stable),
            "decay": list(self.decay),
            "peak": self.peak,
            "final": self.final,
        }


@dataclass(frozen=True, eq=False)
class Schedule:
    """Learning rate at every step: ``lr[i]`` is used at step ``i`` (``i = 0 .. steps-1``).

    Attributes
    ----------
    lr : array of shape (steps,), non-negative and finite.
    name : short label (a spec string or a run name).
    spec : how it was built (family and arguments), for provenance.
    """

    lr: np.ndarray
    name: str = "schedule"
    spec: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        lr = np.asarray(self.lr, dtype=float)
        if lr.ndim != 1 or lr.size < 2:
            raise ScalinglabError(
                f"a schedule needs at least 2 steps of LR values; got shape {lr.shape}."
            )
        bad = np.flatnonzero(~np.isfinite(lr) | (lr < 0))
        if bad.size:
            raise ScalinglabError(
                f"learning rates must be finite and >= 0; steps {bad[:5].tolist()} are not "
                f"(values {lr[bad[:5]].tolist()})."
            )
        if not lr.max() > 0:
            raise ScalinglabError("the schedule's learning rate is 0 at every step.")
        lr.setflags(write=False)
        object.__setattr__(self, "lr", lr)

    @property
    def steps(self) -> int:
        """Number of steps (length of ``lr``)."""
        return int(self.lr.size)

    @property
    def peak(self) -> float:
        return float(self.lr.max())

    def area(self) -> np.ndarray:
        """Cumulative LR sum ``S1[t] = sum_{i<=t} lr[i]`` (shape (steps,))."""
        return np.cumsum(self.lr)

    def phases(self, tolerance: float = 1e-3) -> Phases:
        """Warmup, stable and decay phases (see :func:`detect_phases`)."""
        return detect_phases(self.lr, tolerance)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "steps": self.steps,
            "peak": self.peak,
            "final": float(self.lr[-1]),
            "spec": self.spec,
        }


# -- builders ----------------------------------------------------------------


def _warmup(peak: float, warmup: int) -> np.ndarray:
    return np.linspace(0.0, peak, warmup) if warmup > 0 else np.empty(0)


def _check(steps: int, peak: float, warmup: int) -> tuple[int, float, int]:
    steps, warmup = int(steps), int(warmup)
    if steps < 2 or not 0 <= warmup < steps:
        raise ScalinglabError(
            f"need steps >= 2 and 0 <= warmup < steps; got steps={steps}, warmup={warmup}."
        )
    if not peak > 0:
        raise ScalinglabError(f"peak learning rate must be > 0; got {peak}.")
    return steps, float(peak), warmup


def _progress(n: int) -> np.ndarray:
    return np.arange(n) / max(n, 1)


def constant(steps: int, peak: float, *, warmup: int = 0) -> Schedule:
    """Constant LR ``peak`` after an optional linear warmup."""
    steps, peak, warmup = _check(steps, peak, warmup)
    lr = np.concatenate([_warmup(peak, warmup), np.full(steps - warmup, peak)])
    return Schedule(
        lr,
        f"constant:steps={steps},peak={peak:g},warmup={warmup}",
        dict(family="constant", steps=steps, peak=peak, warmup=warmup),
    )


def cosine(steps: int, peak: float, *, final: float = 0.0, warmup: int = 0) -> Schedule:
    """Cosine decay from ``peak`` to ``final`` over the steps after warmup."""
    steps, peak, warmup = _check(steps, peak, warmup)
    p = _progress(steps - warmup)
    lr = np.concatenate(
        [_warmup(peak, warmup), final + 0.5 * (peak - final) * (1 + np.cos(np.pi * p))]
    )
    return Schedule(
        lr,
        f"cosine:steps={steps},peak={peak:g},final={final:g},warmup={warmup}",
        dict(family="cosine", steps=steps, peak=peak, final=final, warmup=warmup),
    )


def linear(steps: int, peak: float, *, final: float = 0.0, warmup: int = 0) -> Schedule:
    """Linear decay from ``peak`` to ``final`` over the steps after warmup."""
    steps, peak, warmup = _check(steps, peak, warmup)
    p = _progress(steps - warmup)
    lr = np.concatenate([_warmup(peak, warmup), peak + (final - peak) * p])
    return Schedule(
        lr,
        f"linear:steps={steps},peak={peak:g},final={final:g},warmup={warmup}",
        dict(family="linear", steps=steps, peak=peak, final=final, warmup=warmup),
    )


def _decay_linear(p, peak, final):
    return peak + (final - peak) * p


def _decay_cosine(p, peak, final):
    return final + 0.5 * (peak - final) * (1 + np.cos(np.pi * p))


def _decay_sqrt(p, peak, final):
    return peak - (peak - final) * np.sqrt(p)


def _decay_exp(p, peak, final):
    if not final > 0:
        raise ScalinglabError("the 'exp' (geometric) decay shape needs final > 0.")
    return peak ** (1 - p) * final**p


def _decay_square(p, peak, final):
    return final + (peak - final) * (1 - p) ** 2


DECAY_SHAPES: dict[str, Callable[[np.ndarray, float, float], np.ndarray]] = {
    "linear": _decay_linear,
    "cosine": _decay_cosine,
    "sqrt": _decay_sqrt,  # "1 - sqrt" cooldown (Hagele et al. 2024)
    "exp": _decay_exp,  # geometric, as the multi-power law paper's WSD runs
    "square": _decay_square,
}


def wsd(
    steps: int,
    peak: float,
    *,
    decay: float = 0.2,
    shape: str = "linear",
    final: float = 0.0,
    warmup: int = 0,
) -> Schedule:
    """Warmup-stable-decay: constant ``peak``, then the last ``decay`` fraction of steps decays.

    Parameters
    ----------
    steps : total steps.
    peak : LR of the stable phase.
    decay : fraction of *all* steps spent decaying (0 gives a constant schedule).
    shape : one of ``DECAY_SHAPES`` (linear, cosine, sqrt, exp, square).
    final : LR reached at the end of the decay.
    warmup : linear warmup steps at the start.
    """
    steps, peak, warmup = _check(steps, peak, warmup)
    if shape not in DECAY_SHAPES:
        raise ScalinglabError(
            f"unknown decay shape {shape!r}; choose one of {', '.join(DECAY_SHAPES)}."
        )
    if not 0 <= decay <= 1:
        raise ScalinglabError(f"decay fraction must be in [0, 1]; got {decay}.")
    n_decay = min(int(round(decay * steps)), steps - warmup)
    start = steps - n_decay
    lr = np.concatenate(
        [
            _warmup(peak, warmup),
            np.full(start - warmup, peak),
            DECAY_SHAPES[shape](_progress(n_decay), peak, final),
        ]
    )
    name = f"wsd:steps={steps},peak={peak:g},decay={decay:g},shape={shape},final={final:g},warmup={warmup}"
    return Schedule(
        lr,
        name,
        dict(
            family="wsd",
            steps=steps,
            peak=peak,
            decay=decay,
            shape=shape,
            final=final,
            warmup=warmup,
        ),
    )


def step_decay(
    steps: int,
    peak: float,
    *,
    milestones: Sequence[int] = (),
    factor: float = 0.1,
    warmup: int = 0,
) -> Schedule:
    """Piecewise-constant LR: multiplied by ``factor`` at each milestone step."""
    steps, peak, warmup = _check(steps, peak, warmup)
    marks = sorted(int(m) for m in milestones)
    if any(not warmup <= m < steps for m in marks):
        raise ScalinglabError(
            f"milestones must lie in [warmup, steps); got {marks} for steps={steps}."
        )
    after = np.arange(warmup, steps)
    drops = np.searchsorted(np.asarray(marks, dtype=float), after, side="right")
    lr = np.concatenate([_warmup(peak, warmup), peak * float(factor) ** drops])
    name = (
        f"step:steps={steps},peak={peak:g},milestones={'/'.join(map(str, marks))},"
        f"factor={factor:g},warmup={warmup}"
    )
    return Schedule(
        lr,
        name,
        dict(
            family="step",
            steps=steps,
            peak=peak,
            milestones=marks,
            factor=float(factor),
            warmup=warmup,
        ),
    )


def from_array(lr: Sequence[float] | np.ndarray, name: str = "array") -> Schedule:
    """A schedule from explicit per-step values."""
    return Schedule(np.asarray(lr, dtype=float), name, dict(family="array"))


def from_points(
    steps: Sequence[int] | np.ndarray,
    lr: Sequence[float] | np.ndarray,
    *,
    name: str = "points",
    before: str = "warmup",
    interpolation: str = "linear",
) -> Schedule:
    """A per-step schedule from LR values logged at some steps (e.g. every 100 steps).

    Between logged steps the LR is interpolated (``"linear"`` or ``"previous"``
    value held). Before the first logged step ``s0`` it is assumed to rise
    linearly from 0 at step 0 (``before="warmup"``; logs often start at the end of
    warmup) or to equal the first logged value (``before="constant"``).
    """
    s = np.asarray(steps, dtype=float)
    v = np.asarray(lr, dtype=float)
    if s.shape != v.shape or s.size < 1:
        raise ScalinglabError(
            f"steps and lr must be equal-length arrays; got {s.shape} and {v.shape}."
        )
    order = np.argsort(s, kind="stable")
    s, v = s[order], v[order]
    if np.any(np.diff(s) <= 0) or s[0] < 0 or np.any(s != np.round(s)):
        raise ScalinglabError("logged steps must be distinct non-negative integers.")
    grid = np.arange(int(s[-1]) + 1, dtype=float)
    if interpolation == "linear":
        values = np.interp(grid, s, v)
    elif interpolation == "previous":
        values = v[np.clip(np.searchsorted(s, grid, side="right") - 1, 0, None)]
    else:
        raise ScalinglabError(
            f"interpolation must be 'linear' or 'previous'; got {interpolation!r}."
        )
    head = int(s[0])
    if before == "warmup" and head > 0:
        values[: head + 1] = np.linspace(0.0, v[0], head + 1)
    elif before not in ("warmup", "constant"):
        raise ScalinglabError(f"before must be 'warmup' or 'constant'; got {before!r}.")
    return Schedule(
        values,
        name,
        dict(
            family="points",
            first_logged_step=head,
            before=before,
            interpolation=interpolation,
            logged=int(s.size),
        ),
    )


# -- phases ------------------------------------------------------------------


def detect_phases(lr: np.ndarray, tolerance: float = 1e-3) -> Phases:
    """Find warmup (rise to the peak), stable (within ``tolerance`` of the peak) and decay phases.

    The warmup ends at the first step whose LR is within ``tolerance`` (relative)
    of the peak; the decay starts after the last such step. A schedule that
    never rests at the peak (cosine) has an empty stable phase.
    """
    lr = np.asarray(lr, dtype=float)
    peak = float(lr.max())
    near = np.flatnonzero(lr >= peak * (1 - tolerance))
    first, last = int(near[0]), int(near[-1])
    rising = first > 0 and lr[0] < peak * (1 - tolerance)
    warmup_end = first if rising else 0
    return Phases(
        (0, warmup_end),
        (warmup_end, last + 1),
        (last + 1, lr.size),
        peak,
        float(lr[-1]),
    )


# -- specs -------------------------------------------------------------------

FAMILIES: dict[str, Callable[..., Schedule]] = {
    "constant": constant,
    "cosine": cosine,
    "linear": linear,
    "wsd": wsd,
    "step": step_decay,
}
_COMMON = {
    "steps": "total optimizer steps (required, e.g. 24000 or 24k)",
    "peak": "peak learning rate (required, e.g. 3e-4)",
    "warmup": "linear warmup steps from 0 to the peak (default 0)",
}
_FINAL = {"final": "learning rate at the last step (default 0)"}
SPEC_KEYS: dict[str, dict[str, str]] = {
    "constant": dict(_COMMON),
    "cosine": {**_COMMON, **_FINAL},
    "linear": {**_COMMON, **_FINAL},
    "wsd": {
        **_COMMON,
        **_FINAL,
        "decay": "fraction of all steps spent decaying (default 0.2)",
        "shape": f"decay shape: {', '.join(DECAY_SHAPES)} (default linear)",
    },
    "step": {
        **_COMMON,
        "milestones": "steps where the LR is multiplied by factor, e.g. 8000/12000",
        "factor": "multiplier at each milestone (default 0.1)",
    },
}
_INT_KEYS = {"steps", "warmup"}
_TEXT_KEYS = {"shape"}


def spec_help() -> str:
    """One line per family naming its spec keys (for ``--help`` texts)."""
    return "; ".join(
        f"{family}: {', '.join(keys)}" for family, keys in SPEC_KEYS.items()
    )


def spec_keys(spec: str) -> set[str]:
    """The keys a spec string sets (``"cosine:steps=10,peak=1"`` -> ``{"steps", "peak"}``)."""
    rest = spec.partition(":")[2]
    return {
        item.partition("=")[0].strip().lower()
        for item in rest.split(",")
        if item.strip()
    }


def parse_spec(spec: str, *, defaults: Mapping[str, object] | None = None) -> Schedule:
    """Build a schedule from ``"family:key=value,..."``.

    Families and keys (:data:`SPEC_KEYS`): ``constant`` (steps, peak, warmup),
    ``cosine`` and ``linear`` (steps, peak, final, warmup), ``wsd`` (steps, peak,
    decay, shape, final, warmup), ``step`` (steps, peak, milestones as
    ``8000/12000``, factor, warmup). Numbers accept human forms (``72k``, ``3e-4``).

    Parameters
    ----------
    spec : str
        The spec.
    defaults : mapping, optional
        Values for keys the spec does not set (e.g. a fitted curve's warmup);
        the schedule's name then lists them after the spec's own keys.

    Raises
    ------
    ScalinglabError
        Unknown family, unknown key (the message lists the family's keys),
        missing ``steps``/``peak``, or a value the builder rejects.

    Examples
    --------
    >>> s = parse_spec("wsd:steps=1000,peak=1e-3,decay=0.2")
    >>> s.steps, float(s.lr[799]), float(s.lr[900])
    (1000, 0.001, 0.0005)
    >>> parse_spec("constant:steps=100,peak=1e-3", defaults={"warmup": 10}).name
    'constant:steps=100,peak=1e-3,warmup=10'
    """
    family, _, rest = spec.strip().partition(":")
    family = family.strip().lower()
    if family not in FAMILIES:
        raise ScalinglabError(
            f"unknown schedule family {family!r} in {spec!r}; choose one of {', '.join(FAMILIES)} "
            "(e.g. 'wsd:steps=72000,peak=3e-4,decay=0.2') or give a CSV file with step and lr columns."
        )
    kwargs = _spec_arguments(spec, family, rest)
    added = {k: v for k, v in (defaults or {}).items() if k not in kwargs}
    kwargs.update(added)
    for required in ("steps", "peak"):
        if required not in kwargs:
            raise ScalinglabError(
                f"schedule spec {spec!r} needs {required}=...; e.g. '{family}:steps=24000,peak=3e-4'."
            )
    schedule = FAMILIES[family](kwargs.pop("steps"), kwargs.pop("peak"), **kwargs)
    name = ",".join([spec.strip(), *(f"{k}={v}" for k, v in added.items())])
    return Schedule(schedule.lr, name, schedule.spec)


def _spec_arguments(spec: str, family: str, rest: str) -> dict:
    kwargs: dict = {}
    valid = SPEC_KEYS[family]
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise ScalinglabError(
                f"schedule spec {spec!r}: expected key=value, got {item!r}."
            )
        key = key.strip().lower()
        if key not in valid:
            raise ScalinglabError(
                f"schedule spec {spec!r}: unknown key {key!r} for {family}; valid keys: "
                f"{', '.join(valid)}."
            )
        if key == "milestones":
            kwargs[key] = [
                int(parse_quantity(m, name="milestone")) for m in value.split("/") if m
            ]
        elif key in _TEXT_KEYS:
            kwargs[key] = value.strip()
        else:
            number = parse_quantity(value.strip(), name=f"{key} in schedule spec")
            kwargs[key] = int(round(number)) if key in _INT_KEYS else number
    return kwargs
