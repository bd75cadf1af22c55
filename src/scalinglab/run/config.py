"""Configuration of one training run of the built-in trainer (no torch import here).

A :class:`TrainConfig` is plain values; :func:`scalinglab.run.trainer.train` takes one.
Build it by hand, or from a planned run with :meth:`TrainConfig.from_planned_run`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import ScalinglabError
from ..plan.shapes import ModelShape

SCHEDULES = ("cosine", "wsd", "constant")
OPTIMIZERS = ("adamw", "schedulefree")
PARAMETRIZATIONS = ("standard", "mup")
DEVICES = ("cpu", "cuda", "auto")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (and, with the seed, its metrics on the CPU)."""

    # --- model shape (see scalinglab.plan.ModelShape) ---
    n_layer: int
    d_model: int
    n_head: int
    d_ff: int
    vocab_size: int = 256  # byte tokenizer
    n_ctx: int = 128  # position-table size, tokens

    # --- optimisation ---
    steps: int = 100  # optimizer updates; tokens trained = steps * batch_size * seq_len
    batch_size: int = 16  # sequences per step
    seq_len: int = 128  # tokens per sequence (<= n_ctx)
    lr: float = 3e-3  # peak learning rate, reached at the end of warmup
    min_lr_ratio: float = 0.1  # final lr / peak lr at the end of the decay
    warmup_steps: int = 10  # linear warmup from 0 over this many steps
    schedule: str = (
        "cosine"  # "cosine": decay from the end of warmup; "wsd": hold, then decay
    )
    decay_fraction: float = (
        0.2  # wsd only: fraction of all steps spent in the final linear decay
    )
    weight_decay: float = 0.1  # AdamW, applied to matrices only (not LayerNorm)
    beta1: float = 0.9
    beta2: float = 0.95  # GPT-3 / nanoGPT value; steadier than 0.999 at high lr
    grad_clip: float = 1.0  # max global gradient norm; 0 disables clipping
    parametrization: str = (
        "standard"  # or "mup": lr tuned at base_width transfers across widths
    )
    base_width: int = 64  # muP only: the d_model at which muP equals the standard model
    # "schedulefree": schedule-free AdamW (Defazio et al. 2024; pip install schedulefree), with
    # schedule="constant"; evaluations and checkpoints' eval losses use the averaged weights.
    optimizer: str = "adamw"

    # --- evaluation and logging ---
    eval_every: int = 0  # steps between held-out evaluations; 0: only at the end
    eval_tokens: int = (
        32_768  # held-out tokens per evaluation (fixed windows, same each time)
    )
    log_every: int = (
        1  # steps between metric rows; train_loss is the mean since the last row
    )
    # 0: off. k >= 2: each batch runs as k equal microbatches (batch_size % k == 0) and
    # the rows gain the gradient noise scale (McCandlish et al. 2018): noise_scale (tokens),
    # grad_sq and grad_trace. Same update up to float summation order; costs k smaller passes.
    noise_microbatches: int = 0

    # --- data and reproducibility ---
    corpus: str = "shakespeare"  # or a path to a .txt file / folder (see run.corpus)
    seed: int = 0  # model init and batch sampling
    device: str = "cpu"  # "cpu", "cuda" or "auto" (cuda when available)
    num_threads: int | None = None  # torch.set_num_threads for this run; None leaves it
    deterministic: bool = (
        True  # torch.use_deterministic_algorithms (bit-identical on CPU)
    )
    run_id: str | None = (
        None  # carried into checkpoints and results, not used otherwise
    )

    def __post_init__(self) -> None:
        self.shape  # validates the shape fields  # noqa: B018
        _check_positive(
            self, ("steps", "batch_size", "seq_len", "eval_tokens", "log_every")
        )
        _check_range(self, "lr", 0.0, float("inf"), low_open=True)
        _check_range(self, "min_lr_ratio", 0.0, 1.0)
        _check_range(self, "decay_fraction", 0.0, 1.0, low_open=True)
        _check_range(self, "weight_decay", 0.0, float("inf"))
        _check_range(self, "grad_clip", 0.0, float("inf"))
        if self.seq_len > self.n_ctx:
            raise ScalinglabError(
                f"seq_len ({self.seq_len}) must be <= n_ctx ({self.n_ctx})."
            )
        if not 0 <= self.warmup_steps <= self.steps:
            raise ScalinglabError(
                f"warmup_steps must be in 0..steps={self.steps}; got {self.warmup_steps}."
            )
        if self.eval_every < 0:
            raise ScalinglabError(f"eval_every must be >= 0; got {self.eval_every}.")
        if self.schedule not in SCHEDULES:
            raise ScalinglabError(
                f"schedule must be one of {SCHEDULES}; got {self.schedule!r}."
            )
        if self.optimizer not in OPTIMIZERS:
            raise ScalinglabError(
                f"optimizer must be one of {OPTIMIZERS}; got {self.optimizer!r}."
            )
        if self.optimizer == "schedulefree" and self.schedule != "constant":
            raise ScalinglabError(
                "schedule-free AdamW replaces the learning-rate decay; use schedule='constant' "
                f"(warmup, then hold); got schedule={self.schedule!r}."
            )
        if self.parametrization not in PARAMETRIZATIONS:
            raise ScalinglabError(
                f"parametrization must be one of {PARAMETRIZATIONS}; got {self.parametrization!r}."
            )
        if not isinstance(self.base_width, int) or self.base_width < 1:
            raise ScalinglabError(
                f"base_width must be a positive integer; got {self.base_width!r}."
            )
        if self.device not in DEVICES:
            raise ScalinglabError(
                f"device must be one of {DEVICES}; got {self.device!r}."
            )
        self._check_noise_microbatches()
        if self.num_threads is not None and self.num_threads < 1:
            raise ScalinglabError(
                f"num_threads must be >= 1 or None; got {self.num_threads}."
            )

    def _check_noise_microbatches(self) -> None:
        k = self.noise_microbatches
        if not isinstance(k, int) or k == 1 or k < 0 or (k and self.batch_size % k):
            raise ScalinglabError(
                "noise_microbatches must be 0 (off) or an integer >= 2 that divides "
                f"batch_size={self.batch_size}; got {k!r}."
            )

    @property
    def shape(self) -> ModelShape:
        """The model's :class:`~scalinglab.plan.ModelShape`."""
        return ModelShape(
            self.n_layer,
            self.d_model,
            self.n_head,
            self.d_ff,
            self.vocab_size,
            self.n_ctx,
        )

    @property
    def tokens_per_step(self) -> int:
        """Tokens per optimizer update, ``batch_size * seq_len``."""
        return self.batch_size * self.seq_len

    @property
    def total_tokens(self) -> int:
        """Training tokens D of the whole run, ``steps * tokens_per_step``."""
        return self.steps * self.tokens_per_step

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (JSON-safe)."""
        return asdict(self)

    def to_record(self) -> dict[str, Any]:
        """:meth:`to_dict` without the muP fields when the parametrization is standard,
        without ``optimizer`` when it is AdamW and without ``noise_microbatches`` when
        0, so studies and checkpoints written before these options existed still match
        their runs."""
        out = self.to_dict()
        if not self.noise_microbatches:
            del out["noise_microbatches"]
        if self.parametrization == "standard":
            del out["parametrization"], out["base_width"]
        if self.optimizer == "adamw":
            del out["optimizer"]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are rejected by name."""
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ScalinglabError(
                f"unknown TrainConfig keys {sorted(unknown)}; valid keys are "
                f"{[f.name for f in dataclasses.fields(cls)]}."
            )
        return cls(**data)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return self.from_dict({**self.to_dict(), **changes})

    @classmethod
    def from_planned_run(cls, run: Any, **overrides: Any) -> TrainConfig:
        """Config for a :class:`scalinglab.plan.PlannedRun`; ``overrides`` win (e.g. ``device``)."""
        if run.batch_tokens % run.seq_len:
            raise ScalinglabError(
                f"run {run.run_id}: batch_tokens ({run.batch_tokens}) is not a whole number "
                f"of sequences of {run.seq_len} tokens."
            )
        values = dict(
            **run.shape.to_dict(),
            steps=run.steps,
            batch_size=run.batch_tokens // run.seq_len,
            seq_len=run.seq_len,
            lr=run.lr,
            warmup_steps=run.warmup_steps,
            schedule=run.schedule,
            seed=run.seed,
            run_id=run.run_id,
        )
        for name in (
            "min_lr_ratio",
            "decay_fraction",
            "weight_decay",
            "eval_every",
            "eval_tokens",
            "log_every",
            "corpus",
            "parametrization",
            "base_width",
            "optimizer",
            "noise_microbatches",
        ):
            if getattr(run, name, None) is not None:
                values[name] = getattr(run, name)
        return cls.from_dict({**values, **overrides})


def _check_positive(cfg: TrainConfig, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(cfg, name)
        if not isinstance(value, int) or value < 1:
            raise ScalinglabError(
                f"TrainConfig.{name} must be a positive integer; got {value!r}."
            )


def _check_range(
    cfg: TrainConfig, name: str, low: float, high: float, *, low_open: bool = False
) -> None:
    value = getattr(cfg, name)
    ok = (value > low if low_open else value >= low) and value <= high
    if not ok:
        bracket = "(" if low_open else "["
        raise ScalinglabError(
            f"TrainConfig.{name} must be in {bracket}{low}, {high}]; got {value!r}."
        )
