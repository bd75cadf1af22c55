"""Ladder and IsoFLOP designs: which runs to train, each with its exact size and cost.

:func:`ladder` crosses log-spaced model sizes with tokens-per-parameter ratios;
:func:`isoflop_grid` places model sizes around the Chinchilla-optimal one at each
of several compute budgets. Every :class:`PlannedRun` records its model shape,
exact parameter counts (total and non-embedding), training tokens, training FLOPs
under every counting convention of :class:`~scalinglab.plan.counts.FlopCount`,
and the learning rate and batch size of a hyperparameter preset
(:func:`scalinglab.analysis.hparams_presets.suggest_hparams`).

Conventions: ``N`` counts every parameter (embeddings included, the tied output
head once); ``D = steps * batch_tokens`` exactly; ``C = 6 N D``; ``C_exact`` counts
every matrix product (attention scores and output head included), see
:mod:`scalinglab.plan.counts`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import ScalinglabError
from .cooldown import check_cooldowns, cooldown_costs, cooldown_runs
from .counts import count_params, train_flops
from .shapes import ModelShape, shape_for_params

__all__ = ["PlannedRun", "Plan", "ladder", "isoflop_grid", "CONVENTIONS"]

#: Tokens per parameter at the Chinchilla optimum (Hoffmann et al. 2022), used to
#: centre IsoFLOP grids.
CHINCHILLA_TOKENS_PER_PARAM = 20.0
#: Parameters of the Chinchilla law: a design with fewer runs cannot identify it.
CHINCHILLA_PARAMS = 5
#: Narrowest N span (high / low) that identifies the N exponent; warn below it.
MIN_N_SPAN = 10.0
#: Shapes whose exact count is further than this from the target are reported.
SHAPE_TOLERANCE = 0.05
#: Fewest optimizer steps that warmup, decay and evaluation can be fitted into.
MIN_STEPS = 20

CONVENTIONS = {
    "N": "total parameters: embeddings included, the tied output head counted once",
    "N_non_embedding": "N without the token and position tables (Kaplan et al. 2020)",
    "D": "training tokens, steps * batch_tokens",
    "C": "6 N D with N total",
    "C_non_embedding": "6 N D with N non-embedding",
    "C_exact": "every matrix product, forward and backward: dense, attention, head",
    "C_exact_no_attention": "C_exact without the QK^T and AV products",
    "C_exact_no_embedding": "C_exact without the output head (DeepSeek's M D)",
    "C_exact_no_attention_no_embedding": "dense layers only",
    "loss": "held-out loss in nats per token (bytes for the built-in corpus)",
}


#: PlannedRun fields a plan file may leave out; the later ones are omitted when None.
_OMIT_IF_NONE = (
    "weight_decay",
    "parametrization",
    "base_width",
    "decay_fraction",
    "trunk",
    "trunk_step",
    "snapshot_steps",
    "optimizer",
    "noise_microbatches",
)
_OPTIONAL = ("budget", *_OMIT_IF_NONE)


@dataclass(frozen=True)
class PlannedRun:
    """One training run of a plan, with exact counts (see :data:`CONVENTIONS`).

    ``N_target`` and ``D_target`` are what the design asked for; ``N`` and ``D``
    are what the shape and the step count achieve. ``budget`` is the IsoFLOP
    budget the run belongs to (None in a ladder).
    """

    run_id: str
    shape: ModelShape
    N: int
    N_non_embedding: int
    D: int
    C: float
    C_non_embedding: float
    C_exact: float
    C_exact_no_attention: float
    C_exact_no_embedding: float
    C_exact_no_attention_no_embedding: float
    tokens_per_param: float
    lr: float
    batch_tokens: int
    seq_len: int
    steps: int
    warmup_steps: int
    schedule: str
    seed: int
    eval_every: int
    eval_tokens: int
    log_every: int
    corpus: str
    hparams: str
    N_target: float
    D_target: float
    budget: float | None = None
    weight_decay: float | None = None  # AdamW; None: the trainer's default
    parametrization: str | None = None  # "mup"; None: standard
    base_width: int | None = None  # muP: the width whose lr transfers
    decay_fraction: float | None = None  # wsd: final fraction of steps spent decaying
    trunk: str | None = None  # cooldown branch: the constant-LR trunk it starts from
    trunk_step: int | None = None  # ... and the trunk step it starts from
    # trunk: the steps its branches start from
    snapshot_steps: tuple[int, ...] | None = None
    optimizer: str | None = None  # "schedulefree"; None: AdamW
    noise_microbatches: int | None = None  # log the gradient noise scale; None: off

    def to_dict(self) -> dict[str, Any]:
        """Plain dict; the shape is a nested dict. Optional fields left at None are
        omitted, so studies stored before they existed still match their plan."""
        out = asdict(self)
        out["shape"] = self.shape.to_dict()
        return {k: v for k, v in out.items() if k not in _OMIT_IF_NONE or v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlannedRun:
        """Inverse of :meth:`to_dict`; missing or unknown keys are named."""
        names = {f.name for f in fields(cls)}
        required = {f.name for f in fields(cls) if f.name not in _OPTIONAL}
        missing, unknown = required - set(data), set(data) - names
        if missing or unknown:
            raise ScalinglabError(
                f"planned run {data.get('run_id', '?')!r}: missing keys {sorted(missing)}, "
                f"unknown keys {sorted(unknown)}; write plans with `scalinglab plan`."
            )
        steps = data.get("snapshot_steps")
        return cls(
            **{
                **data,
                "shape": ModelShape.from_dict(data["shape"]),
                **({} if steps is None else {"snapshot_steps": tuple(steps)}),
            }
        )


@dataclass(frozen=True)
class Plan:
    """A design: its runs, the settings that made it and warnings about it."""

    kind: str
    runs: tuple[PlannedRun, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-ready dict (what :func:`~scalinglab.plan.save_plan` writes)."""
        return {
            "kind": self.kind,
            "version": self.version,
            "settings": dict(self.settings),
            "conventions": dict(CONVENTIONS),
            "warnings": list(self.warnings),
            "runs": [r.to_dict() for r in self.runs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
            raise ScalinglabError("a plan must be a mapping with a 'runs' list.")
        runs = tuple(PlannedRun.from_dict(r) for r in data["runs"])
        return cls(
            kind=str(data.get("kind", "custom")),
            runs=runs,
            settings=dict(data.get("settings") or {}),
            warnings=tuple(data.get("warnings") or ()),
            version=str(data.get("version", __version__)),
        )


@dataclass(frozen=True)
class _RunSettings:
    """Settings shared by every run of a design."""

    hparams: str = "steplaw"
    lr_scale: float = 1.0
    seed: int = 0
    seq_len: int = 128
    n_ctx: int = 128
    vocab_size: int = 256
    schedule: str = "cosine"
    warmup_fraction: float = 0.1
    evals_per_run: int = 10
    eval_tokens: int = 32_768
    rows_per_run: int = 200
    corpus: str = "shakespeare"
    parametrization: str = "standard"  # or "mup" (tune lr at base_width, transfer)
    base_width: int = 64
    optimizer: str = "adamw"  # or "schedulefree" (with schedule "constant")
    noise_microbatches: int = 0  # >= 2: every run logs the gradient noise scale


def ladder(
    N_range: tuple[float, float],
    sizes: int,
    tokens_per_param: Sequence[float],
    *,
    hparams: str = "steplaw",
    seed: int = 0,
    cooldowns: Sequence[float] = (),
    **options: Any,
) -> Plan:
    """Plan ``sizes`` log-spaced model sizes, each trained at every D/N ratio.

    Parameters
    ----------
    N_range : (float, float)
        Lowest and highest target total parameter counts.
    sizes : int
        Model sizes, log-spaced over ``N_range`` (both ends included).
    tokens_per_param : sequence of float
        Ratios D/N; each size is trained once at each.
    hparams : str
        Learning-rate and batch-size preset (``steplaw`` or ``deepseek``).
    seed : int
        Training seed of every run.
    cooldowns : sequence of float
        With ``schedule="wsd"``: cooldown fractions. Each size then gets one
        constant-LR trunk and a branch per ratio and fraction that starts from the
        trunk's snapshot (:mod:`scalinglab.plan.cooldown`); ``settings`` records
        ``C_exact_total``, ``C_exact_from_scratch`` and their ``compute_ratio``.
    **options
        ``lr_scale`` (multiplies the preset's learning rate; the presets were fitted
        on models of tens of millions of parameters and more), ``seq_len``,
        ``n_ctx``, ``vocab_size``, ``schedule`` (``cosine``, ``wsd``, or ``constant``
        with ``optimizer="schedulefree"``),
        ``warmup_fraction``, ``evals_per_run``, ``eval_tokens``, ``rows_per_run``,
        ``corpus`` (``shakespeare`` or a path to your text), ``parametrization``
        (``standard`` or ``mup``), ``base_width`` (muP: the d_model whose
        tuned learning rate transfers to every width), ``optimizer``
        (``adamw`` or ``schedulefree``) and ``noise_microbatches`` (k >= 2: every
        run logs the gradient noise scale from k microbatches per batch).

    Returns
    -------
    Plan
        Runs ordered by size, then ratio; ``warnings`` says when the design is
        collinear (one ratio) or too narrow to identify the Chinchilla law.

    Examples
    --------
    >>> plan = ladder((1e5, 1e6), 3, (10, 20))
    >>> len(plan.runs), plan.runs[0].N, plan.runs[0].D
    (6, 99120, 999936)
    """
    settings = _settings(hparams=hparams, seed=seed, **options)
    low, high = _check_range(N_range, "N_range")
    if sizes < 1:
        raise ScalinglabError(f"sizes must be >= 1; got {sizes}.")
    ratios = sorted({_positive(r, "tokens_per_param") for r in tokens_per_param})
    if not ratios:
        raise ScalinglabError("tokens_per_param needs at least one ratio such as 20.")
    targets = np.geomspace(low, high, sizes) if sizes > 1 else np.array([low])
    shapes, notes = _distinct_shapes(targets, settings)
    fractions = check_cooldowns(cooldowns, settings.schedule)
    if fractions:
        runs = [
            r
            for n, shape in shapes
            for r in cooldown_runs(shape, n, ratios, fractions, settings)
        ]
    else:
        runs = [
            _planned_run(shape, n, n * ratio, settings, f"N{_human(n)}-tpp{ratio:g}")
            for n, shape in shapes
            for ratio in ratios
        ]
    notes += _ladder_warnings([n for n, _ in shapes], ratios, len(runs))
    extra = {"cooldowns": list(fractions), **cooldown_costs(runs)} if fractions else {}
    return _plan(
        "ladder",
        runs,
        settings,
        notes,
        N_range=[low, high],
        sizes=sizes,
        tokens_per_param=ratios,
        **extra,
    )


def isoflop_grid(
    budgets: tuple[float, float],
    n_budgets: int = 3,
    points: int = 5,
    *,
    spread: float = 4.0,
    hparams: str = "steplaw",
    seed: int = 0,
    **options: Any,
) -> Plan:
    """Plan ``points`` model sizes at each of ``n_budgets`` compute budgets.

    At budget ``C`` the sizes are log-spaced from ``N_opt / spread`` to
    ``N_opt * spread`` around the Chinchilla-optimal ``N_opt = sqrt(C / 120)``
    (20 tokens per parameter), and each is trained on ``D = C / (6 N)`` tokens
    (rounded to whole steps), so that ``C = 6 N D`` stays on the budget.

    Parameters
    ----------
    budgets : (float, float)
        Lowest and highest budget in FLOPs (``C = 6 N D``).
    n_budgets, points : int
        Budgets (log-spaced, ends included) and model sizes per budget.
    spread : float
        Factor on each side of ``N_opt`` that the sizes span.
    hparams, seed, **options
        As in :func:`ladder`.

    Returns
    -------
    Plan
        Runs ordered by budget, then size; ``budget`` holds the target budget.
    """
    settings = _settings(hparams=hparams, seed=seed, **options)
    low, high = _check_range(budgets, "budgets")
    if n_budgets < 1 or points < 1:
        raise ScalinglabError(
            f"n_budgets and points must be >= 1; got {n_budgets}, {points}."
        )
    if not spread > 1:
        raise ScalinglabError(f"spread must be > 1; got {spread}.")
    runs, notes = [], []
    for C in np.geomspace(low, high, n_budgets) if n_budgets > 1 else [low]:
        n_opt = math.sqrt(C / (6.0 * CHINCHILLA_TOKENS_PER_PARAM))
        targets = (
            np.geomspace(n_opt / spread, n_opt * spread, points)
            if points > 1
            else [n_opt]
        )
        shapes, found = _distinct_shapes(targets, settings)
        notes += found
        for n, shape in shapes:
            N = count_params(shape).total
            run_id = f"C{_human(C)}-N{_human(n)}"
            runs.append(
                _planned_run(shape, n, C / (6.0 * N), settings, run_id, budget=float(C))
            )
    notes += _isoflop_warnings(n_budgets, points, runs)
    return _plan(
        "isoflop",
        runs,
        settings,
        notes,
        budgets=[low, high],
        n_budgets=n_budgets,
        points=points,
        spread=spread,
    )


# -- one run ----------------------------------------------------------------


def _planned_run(
    shape: ModelShape,
    N_target: float,
    D_target: float,
    s: _RunSettings,
    run_id: str,
    budget: float | None = None,
) -> PlannedRun:
    from ..analysis.hparams_presets import suggest_hparams

    params = count_params(shape)
    suggestion = suggest_hparams(params.non_embedding, D_target, preset=s.hparams)
    sequences = max(1, round(suggestion.batch_tokens / s.seq_len))
    source = suggestion.source + (f" x {s.lr_scale:g} (lr)" if s.lr_scale != 1 else "")
    steps = max(1, round(D_target / (sequences * s.seq_len)))
    return _make_run(
        shape,
        float(suggestion.lr) * s.lr_scale,
        sequences,
        steps,
        s,
        run_id,
        source,
        (N_target, D_target),
        budget=budget,
    )


def _make_run(
    shape: ModelShape,
    lr: float,
    sequences: int,
    steps: int,
    s: _RunSettings,
    run_id: str,
    source: str,
    targets: tuple[float, float],
    *,
    budget: float | None = None,
    weight_decay: float | None = None,
) -> PlannedRun:
    """A run with exact counts for a given shape, learning rate, batch and step count."""
    if s.noise_microbatches and sequences % s.noise_microbatches:
        raise ScalinglabError(
            f"run {run_id}: its batch of {sequences} sequences does not split into "
            f"{s.noise_microbatches} equal microbatches (--noise-microbatches); choose "
            "a divisor of every batch size."
        )
    params = count_params(shape)
    batch_tokens = sequences * s.seq_len
    D = steps * batch_tokens
    flops = train_flops(shape, D, seq_len=s.seq_len)
    return PlannedRun(
        run_id=run_id,
        shape=shape,
        N=params.total,
        N_non_embedding=params.non_embedding,
        D=D,
        C=flops.six_nd,
        C_non_embedding=flops.six_nd_non_embedding,
        C_exact=flops.exact,
        C_exact_no_attention=flops.exact_no_attention,
        C_exact_no_embedding=flops.exact_no_embedding,
        C_exact_no_attention_no_embedding=flops.exact_no_attention_no_embedding,
        tokens_per_param=D / params.total,
        lr=float(lr),
        batch_tokens=batch_tokens,
        seq_len=s.seq_len,
        steps=steps,
        warmup_steps=int(round(s.warmup_fraction * steps)),
        schedule=s.schedule,
        seed=s.seed,
        eval_every=max(1, steps // s.evals_per_run),
        eval_tokens=s.eval_tokens,
        log_every=max(1, steps // s.rows_per_run),
        corpus=s.corpus,
        hparams=source,
        N_target=float(targets[0]),
        D_target=float(targets[1]),
        budget=budget,
        weight_decay=weight_decay,
        parametrization="mup" if s.parametrization == "mup" else None,
        base_width=s.base_width if s.parametrization == "mup" else None,
        optimizer="schedulefree" if s.optimizer == "schedulefree" else None,
        noise_microbatches=s.noise_microbatches or None,
    )


def _distinct_shapes(
    targets: Sequence[float], s: _RunSettings
) -> tuple[list[tuple[float, ModelShape]], list[str]]:
    """Shapes for the targets; duplicates dropped and misses reported."""
    chosen: list[tuple[float, ModelShape]] = []
    notes = []
    for target in targets:
        shape = shape_for_params(float(target), vocab_size=s.vocab_size, n_ctx=s.n_ctx)
        N = count_params(shape).total
        if any(shape == other for _, other in chosen):
            notes.append(
                f"target N={target:.3g} gives the same shape as a smaller target (N={N}); "
                "it was dropped: use fewer sizes or a wider range."
            )
            continue
        if abs(N / target - 1) > SHAPE_TOLERANCE:
            notes.append(
                f"no shape has close to N={target:.3g} parameters; using N={N}."
            )
        chosen.append((float(target), shape))
    return chosen, notes


# -- warnings ----------------------------------------------------------------


def _ladder_warnings(sizes: list[float], ratios: list[float], n_runs: int) -> list[str]:
    notes = []
    if len(ratios) == 1:
        notes.append(
            f"collinear design: every run has D/N = {ratios[0]:g}, so log N and log D move "
            "together and the Chinchilla exponents alpha and beta cannot be separated; add "
            "ratios, e.g. --tokens-per-param 5,10,20,40."
        )
    span = max(sizes) / min(sizes)
    if len(sizes) < 3 or span < MIN_N_SPAN:
        notes.append(
            f"narrow design: {len(sizes)} model size(s) spanning {span:.3g}x in N; "
            f"identifying the N exponent needs at least 3 sizes spanning {MIN_N_SPAN:g}x."
        )
    if n_runs < CHINCHILLA_PARAMS:
        notes.append(
            f"{n_runs} run(s) cannot identify the {CHINCHILLA_PARAMS}-parameter Chinchilla "
            "law; plan at least 5, preferably 3 sizes x 3 ratios."
        )
    return notes


def _isoflop_warnings(n_budgets: int, points: int, runs: list[PlannedRun]) -> list[str]:
    notes = []
    if points < 3:
        notes.append(
            f"{points} size(s) per budget cannot bracket an IsoFLOP minimum; use --points 5 or more."
        )
    if n_budgets < 2:
        notes.append(
            "one budget gives one optimum: N*(C) and its exponent need at least 2 budgets "
            "(3 or more to check the power law)."
        )
    ratios = {round(r.tokens_per_param, 6) for r in runs}
    if len(runs) > 1 and len(ratios) == 1:
        notes.append(
            "collinear design: every run has the same D/N; alpha and beta are not separable."
        )
    return notes


def _short_runs(runs: list[PlannedRun]) -> list[str]:
    short = [r.run_id for r in runs if r.steps < MIN_STEPS]
    if not short:
        return []
    return [
        f"{len(short)} run(s) have fewer than {MIN_STEPS} optimizer steps ({', '.join(short[:3])}"
        f"{', ...' if len(short) > 3 else ''}): their loss says more about warmup than about "
        "scale; raise D or the size range."
    ]


# -- helpers -----------------------------------------------------------------


def _plan(
    kind: str, runs: list[PlannedRun], s: _RunSettings, notes: list[str], **design: Any
) -> Plan:
    notes = notes + _short_runs(runs)
    settings = {**design, **asdict(s)}
    return Plan(kind, tuple(runs), settings, tuple(dict.fromkeys(notes)))


def _settings(**values: Any) -> _RunSettings:
    known = {f.name for f in fields(_RunSettings)}
    unknown = set(values) - known
    if unknown:
        raise ScalinglabError(
            f"unknown plan option(s) {sorted(unknown)}; valid: {sorted(known)}."
        )
    s = replace(_RunSettings(), **values)
    if s.seq_len > s.n_ctx:
        raise ScalinglabError(f"seq_len ({s.seq_len}) must be <= n_ctx ({s.n_ctx}).")
    if s.schedule not in ("cosine", "wsd", "constant"):
        raise ScalinglabError(
            f"schedule must be 'cosine', 'wsd' or 'constant'; got {s.schedule!r}."
        )
    if s.optimizer not in ("adamw", "schedulefree"):
        raise ScalinglabError(
            f"optimizer must be 'adamw' or 'schedulefree'; got {s.optimizer!r}."
        )
    if (s.optimizer == "schedulefree") != (s.schedule == "constant"):
        raise ScalinglabError(
            "schedule-free AdamW goes with the constant schedule and the constant schedule "
            "with schedule-free AdamW: pass --optimizer schedulefree --schedule constant; got "
            f"optimizer={s.optimizer!r}, schedule={s.schedule!r}."
        )
    if s.noise_microbatches == 1 or s.noise_microbatches < 0:
        raise ScalinglabError(
            f"noise_microbatches must be 0 (off) or >= 2; got {s.noise_microbatches}."
        )
    if s.parametrization not in ("standard", "mup"):
        raise ScalinglabError(
            f"parametrization must be 'standard' or 'mup'; got {s.parametrization!r}."
        )
    if not (s.lr_scale > 0 and math.isfinite(s.lr_scale)):
        raise ScalinglabError(f"lr_scale must be a positive number; got {s.lr_scale}.")
    if not 0 <= s.warmup_fraction < 1:
        raise ScalinglabError(
            f"warmup_fraction must be in [0, 1); got {s.warmup_fraction}."
        )
    for name in (
        "seq_len",
        "n_ctx",
        "vocab_size",
        "evals_per_run",
        "eval_tokens",
        "rows_per_run",
        "base_width",
    ):
        if int(getattr(s, name)) < 1:
            raise ScalinglabError(f"{name} must be >= 1; got {getattr(s, name)}.")
    corpus = str(s.corpus)
    if corpus != "shakespeare":  # workers may run elsewhere: record an absolute path
        corpus = str(Path(corpus).expanduser().resolve())
    return replace(s, corpus=corpus)


def _check_range(pair: tuple[float, float], name: str) -> tuple[float, float]:
    low, high = (_positive(v, name) for v in pair)
    if low > high:
        raise ScalinglabError(f"{name}: low ({low:g}) must not exceed high ({high:g}).")
    return low, high


def _positive(value: Any, name: str) -> float:
    number = float(value)
    if not (number > 0 and math.isfinite(number)):
        raise ScalinglabError(
            f"{name} must hold positive finite numbers; got {value!r}."
        )
    return number


def _human(x: float) -> str:
    """``50300 -> '50.3k'``: short, file-name-safe labels for run ids."""
    for scale, suffix in ((1e15, "P"), (1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"
