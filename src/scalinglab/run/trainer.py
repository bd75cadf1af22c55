"""The built-in training loop: one function, :func:`train`, nanoGPT-style.

AdamW (standard parametrization or muP, see :mod:`scalinglab.run.model`) with
linear warmup then cosine, warmup-stable-decay (WSD) or constant, or schedule-free
AdamW (``optimizer="schedulefree"``, evaluated at its averaged weights), global
gradient-norm clipping, held-out evaluation every ``eval_every`` steps and at the
end, checkpoints that resume bit-identically on the CPU.

Metric rows (``emit(row)``), one per ``log_every`` steps, every evaluation step and
the last step:

=============  ==============================================================
``step``       optimizer updates done (1-based)
``tokens``     training tokens seen, ``step * batch_size * seq_len``
``flops``      training FLOPs so far, exact count with attention and head
               (:attr:`scalinglab.plan.FlopCount.exact`)
``lr``         learning rate used for this step's update
``train_loss`` mean training loss (nats/token) over the steps since the last row
``eval_loss``  held-out loss (nats/token) at this step, ``None`` when not evaluated
``wall_time``  seconds since the run started (resumed runs continue the clock)
=============  ==============================================================

With ``noise_microbatches = k >= 2`` each batch is split into k microbatches and
the rows also carry the gradient noise (McCandlish et al. 2018), measured on the
raw gradients before clipping, from the microbatch and full-batch gradient norms
(:func:`scalinglab.analysis.critical_batch.gradient_noise`; a sequence is one example):

===============  ============================================================
``grad_sq``      estimate of the true gradient's squared norm |G|^2, mean over
                 the steps since the last row
``grad_trace``   estimate of tr(Sigma), the per-sequence gradient covariance's
                 trace, mean over the same steps
``noise_scale``  simple noise scale B_simple = tr(Sigma) / |G|^2 in **tokens**
                 (sequences times ``seq_len``), the ratio of the two estimates'
                 EMAs (decay 0.95); ``None`` while the |G|^2 EMA is not positive
===============  ============================================================

Determinism: batches are drawn from ``numpy.random.default_rng([seed, step])``,
so the data position is a function of the step alone, and the model has no
dropout. On the CPU, with a fixed thread count, the same config gives the same
metrics bit for bit, also across a checkpoint/resume.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ScalinglabError
from ..plan.counts import count_params, train_flops
from .config import TrainConfig
from .corpus import load_corpus
from .model import GPT

CHECKPOINT_FORMAT = "scalinglab-checkpoint-v1"
# Fields that may differ between a checkpoint and the config resuming from it.
_RUNTIME_FIELDS = {"device", "num_threads", "run_id", "deterministic"}
# ... and that a cooldown branch may change from its trunk (see ``branch_from``).
_BRANCH_FIELDS = {"steps", "schedule", "decay_fraction", "eval_every", "log_every"}
_EVAL_CHUNK = 64  # held-out windows per forward pass
# EMA decay of the gradient-noise estimates (~20 steps): each step's estimates are
# unbiased but noisy, and McCandlish et al. take the ratio of smoothed sums.
_NOISE_EMA = 0.95


@dataclass(frozen=True)
class TrainResult:
    """Summary of a finished run.

    ``flops`` is the exact count (attention and head included), ``flops_6nd`` is
    ``6 N D`` with N total. ``rows`` and ``tokens_per_second`` refer to this call
    (a resumed run counts only the steps it ran; throughput excludes evaluation
    and is NaN when no step ran).
    """

    run_id: str | None
    final_eval_loss: float
    final_train_loss: float
    N: int
    N_non_embedding: int
    D: int
    flops: float
    flops_6nd: float
    steps: int
    rows: int
    tokens_per_second: float
    flops_per_second: float
    wall_time: float
    device: str
    resumed_from_step: int | None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field."""
        return asdict(self)


def lr_at(cfg: TrainConfig, step: int) -> float:
    """Learning rate for update ``step`` (1-based).

    Linear warmup to ``lr`` over ``warmup_steps``; then ``cosine`` decays to
    ``min_lr_ratio * lr`` at the last step, while ``wsd`` holds ``lr`` and decays
    linearly to the same floor over the last ``decay_fraction`` of the steps.
    """
    peak, floor = cfg.lr, cfg.lr * cfg.min_lr_ratio
    if step <= cfg.warmup_steps:
        return peak * step / cfg.warmup_steps
    if cfg.schedule == "constant":
        return peak
    if cfg.schedule == "cosine":
        progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
        return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
    decay_steps = max(1, round(cfg.decay_fraction * cfg.steps))
    decay_start = cfg.steps - decay_steps
    if step <= decay_start:
        return peak
    return peak + (floor - peak) * (step - decay_start) / decay_steps


def train(
    cfg: TrainConfig,
    *,
    emit: Callable[[dict], None] | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    device: str | None = None,
    snapshots: dict[int, str | os.PathLike] | None = None,
    branch_from: str | os.PathLike | None = None,
) -> TrainResult:
    """Train the built-in model; stream metric rows to ``emit``; return a summary.

    Parameters
    ----------
    cfg : TrainConfig
        The run.
    emit : callable, optional
        Called with each metric row (see the module docstring). The last row
        always carries ``eval_loss``.
    checkpoint_path : path, optional
        If the file exists, training resumes from it (model, optimizer, RNG and
        data position) and rows for steps up to the checkpoint are not emitted
        again. It is (re)written atomically every ``checkpoint_every`` steps and
        at the end.
    checkpoint_every : int, optional
        Steps between checkpoints; ``None`` writes only the final one.
    device : str, optional
        Overrides ``cfg.device`` ("cpu", "cuda" or "auto").
    snapshots : dict, optional
        ``{step: path}``: also write a checkpoint to ``path`` after ``step`` (a
        constant-LR trunk keeps one per cooldown branch point).
    branch_from : path, optional
        A trunk's snapshot to start from when ``checkpoint_path`` does not exist
        yet (a cooldown branch, Hagele et al. 2024): model, optimizer, RNG and step
        come from the trunk, whose config may differ only in steps, schedule,
        decay fraction, evaluation and logging. With the same warmup and seed the
        branch then equals a from-scratch WSD run, bit for bit on the CPU.
    """
    dev = _resolve_device(device or cfg.device)
    ckpt = Path(checkpoint_path) if checkpoint_path is not None else None
    with _torch_settings(cfg, dev):
        corpus = load_corpus(cfg.corpus)
        if corpus.vocab_size != cfg.vocab_size:
            raise ScalinglabError(
                f"vocab_size is {cfg.vocab_size} but the corpus tokenizer has "
                f"{corpus.vocab_size} tokens; set vocab_size={corpus.vocab_size}."
            )
        torch.manual_seed(cfg.seed)
        model = GPT(
            cfg.shape, cfg.base_width if cfg.parametrization == "mup" else None
        ).to(dev)
        optimizer = _make_optimizer(model, cfg, dev)
        state = {
            "step": 0,
            "loss_sum": 0.0,
            "loss_count": 0,
            "wall_time": 0.0,
            "last_row": None,
            "noise": [0.0] * 4,  # grad_sq, trace: sums since last row; their EMAs
        }
        resumed_from = None
        if ckpt is not None and ckpt.exists():
            state = _load_checkpoint(ckpt, cfg, model, optimizer, dev)
            resumed_from = state["step"]
        elif branch_from is not None:
            state = _load_checkpoint(
                Path(branch_from), cfg, model, optimizer, dev, branch=True
            )
            resumed_from = state["step"]
        eval_windows = _eval_windows(corpus.heldout, cfg)
        flops_per_token = model.flops_per_token(seq_len=cfg.seq_len)

        rows, train_seconds, start = 0, 0.0, time.perf_counter() - state["wall_time"]
        model.train()
        for step in range(state["step"] + 1, cfg.steps + 1):
            tick = time.perf_counter()
            lr = lr_at(cfg, step)
            for group in optimizer.param_groups:
                group["lr"] = lr * group.get("lr_scale", 1.0)
            x, y = _train_batch(corpus.train, cfg, step, dev)
            if cfg.noise_microbatches:
                loss = _noise_step(model, x, y, cfg.noise_microbatches, state, dev)
            else:
                with _autocast(dev):
                    _, loss = model(x, y)
                loss.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            state["loss_sum"] += loss.item()
            state["loss_count"] += 1
            train_seconds += time.perf_counter() - tick

            evaluate = step == cfg.steps or (
                cfg.eval_every > 0 and step % cfg.eval_every == 0
            )
            if evaluate or step % cfg.log_every == 0:
                eval_loss = None
                if evaluate:
                    with _averaged_weights(optimizer, cfg):
                        eval_loss = _evaluate(
                            model, corpus.heldout, eval_windows, cfg, dev
                        )
                row = {
                    "step": step,
                    "tokens": step * cfg.tokens_per_step,
                    "flops": step * cfg.tokens_per_step * flops_per_token,
                    "lr": lr,
                    "train_loss": state["loss_sum"] / state["loss_count"],
                    "eval_loss": eval_loss,
                    "wall_time": time.perf_counter() - start,
                }
                if cfg.noise_microbatches:
                    row |= _noise_row(state, cfg.seq_len)
                state.update(loss_sum=0.0, loss_count=0, last_row=row)
                rows += 1
                if emit is not None:
                    emit(dict(row))
            if ckpt is not None and (
                step == cfg.steps or (checkpoint_every and step % checkpoint_every == 0)
            ):
                state.update(step=step, wall_time=time.perf_counter() - start)
                _save_checkpoint(ckpt, cfg, model, optimizer, state)
            if snapshots and step in snapshots:
                state.update(step=step, wall_time=time.perf_counter() - start)
                _save_checkpoint(Path(snapshots[step]), cfg, model, optimizer, state)
    return _result(cfg, state["last_row"], rows, train_seconds, dev, resumed_from)


def _result(cfg, last_row, rows, train_seconds, dev, resumed_from) -> TrainResult:
    params = count_params(cfg.shape)
    flops = train_flops(cfg.shape, cfg.total_tokens, seq_len=cfg.seq_len)
    steps_run = cfg.steps - (resumed_from or 0)
    tokens_per_second = (
        steps_run * cfg.tokens_per_step / train_seconds if train_seconds else math.nan
    )
    return TrainResult(
        run_id=cfg.run_id,
        final_eval_loss=last_row["eval_loss"],
        final_train_loss=last_row["train_loss"],
        N=params.total,
        N_non_embedding=params.non_embedding,
        D=cfg.total_tokens,
        flops=flops.exact,
        flops_6nd=flops.six_nd,
        steps=cfg.steps,
        rows=rows,
        tokens_per_second=tokens_per_second,
        flops_per_second=tokens_per_second * flops.forward_per_token * 3.0,
        wall_time=last_row["wall_time"],
        device=str(dev),
        resumed_from_step=resumed_from,
    )


def _resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ScalinglabError(
            "device 'cuda' was requested but torch sees no CUDA GPU; use 'cpu' or 'auto'."
        )
    if name not in ("cpu", "cuda"):
        raise ScalinglabError(f"device must be 'cpu', 'cuda' or 'auto'; got {name!r}.")
    return torch.device(name)


@contextlib.contextmanager
def _torch_settings(cfg: TrainConfig, dev: torch.device):
    """Thread count and deterministic algorithms for the run; restored afterwards."""
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    if cfg.num_threads is not None:
        torch.set_num_threads(cfg.num_threads)
    if cfg.deterministic:
        # cuBLAS needs a fixed workspace to be deterministic; on the GPU we only warn.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=dev.type != "cpu")
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)


def _make_optimizer(
    model: GPT, cfg: TrainConfig, dev: torch.device
) -> torch.optim.Optimizer:
    """AdamW; weight decay on matrices (and the tied embedding), not on LayerNorm;
    muP divides the hidden matrices' learning rate by the width multiplier."""
    if cfg.optimizer == "schedulefree":
        return _schedule_free(model, cfg)
    return torch.optim.AdamW(
        model.param_groups(cfg.lr, cfg.weight_decay),
        lr=cfg.lr,
        betas=(cfg.beta1, cfg.beta2),
        fused=dev.type == "cuda",
    )


def _schedule_free(model: GPT, cfg: TrainConfig) -> torch.optim.Optimizer:
    """Schedule-free AdamW in training mode; warmup comes from :func:`lr_at`."""
    try:
        import schedulefree
    except ImportError as exc:
        raise ScalinglabError(
            "optimizer='schedulefree' needs the schedulefree package: "
            "pip install 'scalinglab[schedulefree]' (or pip install schedulefree)."
        ) from exc
    optimizer = schedulefree.AdamWScheduleFree(
        model.param_groups(cfg.lr, cfg.weight_decay),
        lr=cfg.lr,
        betas=(cfg.beta1, cfg.beta2),
        warmup_steps=0,
    )
    optimizer.train()
    return optimizer


@contextlib.contextmanager
def _averaged_weights(optimizer: torch.optim.Optimizer, cfg: TrainConfig):
    """Schedule-free: swap in the averaged weights x for evaluation, then back to y."""
    if cfg.optimizer != "schedulefree":
        yield
        return
    optimizer.eval()
    try:
        yield
    finally:
        optimizer.train()


def _autocast(dev: torch.device):
    """bfloat16 autocast on the GPU; a no-op on the CPU."""
    return torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda")


def _noise_step(model, x, y, k: int, state: dict, dev) -> torch.Tensor:
    """Forward and backward over ``k`` microbatches; record the gradient noise.

    Leaves the full batch's mean gradient in ``.grad`` (as one backward would) and
    adds the unbiased ``|G|^2`` and ``tr(Sigma)`` estimates (per sequence, from the
    microbatch and full-batch gradient norms; :func:`gradient_noise`) to
    ``state["noise"]``: sums since the last row, then EMAs. Returns the batch's loss.
    """
    from ..analysis.critical_batch import gradient_noise

    params = [p for p in model.parameters() if p.requires_grad]
    total, small_sq = torch.zeros((), device=dev), torch.zeros((), device=dev)
    for xs, ys in zip(x.chunk(k), y.chunk(k)):  # (B/k, T) each
        with _autocast(dev):
            _, loss = model(xs, ys)
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        for p, g in zip(params, grads):
            if g is None:
                continue
            small_sq += g.float().square().sum() / k
            p.grad = g / k if p.grad is None else p.grad.add_(g, alpha=1.0 / k)
        total += loss.detach() / k
    big_sq = sum(p.grad.float().square().sum() for p in params if p.grad is not None)
    grad_sq, trace = gradient_noise(small_sq.item(), float(big_sq), len(x) // k, len(x))
    noise = state["noise"]
    noise[0] += grad_sq
    noise[1] += trace
    noise[2] = _NOISE_EMA * noise[2] + (1 - _NOISE_EMA) * grad_sq
    noise[3] = _NOISE_EMA * noise[3] + (1 - _NOISE_EMA) * trace
    return total


def _noise_row(state: dict, seq_len: int) -> dict:
    """Noise columns of a metric row; resets the sums (``state["loss_count"]`` steps)."""
    noise, steps = state["noise"], state["loss_count"]
    row = {
        "grad_sq": noise[0] / steps,
        "grad_trace": noise[1] / steps,
        # The EMAs' ratio (their bias corrections cancel); None until |G|^2 is positive.
        "noise_scale": seq_len * noise[3] / noise[2] if noise[2] > 0 else None,
    }
    noise[0] = noise[1] = 0.0
    return row


def _train_batch(tokens: np.ndarray, cfg: TrainConfig, step: int, dev: torch.device):
    """Random windows; a function of (seed, step) only, so resuming needs no data state."""
    rng = np.random.default_rng([cfg.seed, step])
    starts = rng.integers(0, len(tokens) - cfg.seq_len, size=cfg.batch_size)
    chunk = torch.from_numpy(
        tokens[starts[:, None] + np.arange(cfg.seq_len + 1)].astype(np.int64)
    )
    chunk = chunk.to(dev)  # (B, T + 1)
    return chunk[:, :-1], chunk[:, 1:]


def _eval_windows(tokens: np.ndarray, cfg: TrainConfig) -> np.ndarray:
    """Start offsets of ``eval_tokens // seq_len`` windows spread evenly over the held-out text."""
    if len(tokens) <= cfg.seq_len:
        raise ScalinglabError(
            f"the held-out text has {len(tokens)} tokens, fewer than seq_len + 1 = {cfg.seq_len + 1}."
        )
    count = max(1, cfg.eval_tokens // cfg.seq_len)
    return np.linspace(0, len(tokens) - cfg.seq_len - 1, count).astype(np.int64)


@torch.no_grad()
def _evaluate(
    model: GPT, tokens: np.ndarray, starts: np.ndarray, cfg: TrainConfig, dev
) -> float:
    """Mean held-out loss (nats/token) over the fixed windows."""
    model.eval()
    total = 0.0
    for i in range(0, len(starts), _EVAL_CHUNK):
        part = starts[i : i + _EVAL_CHUNK]
        chunk = torch.from_numpy(
            tokens[part[:, None] + np.arange(cfg.seq_len + 1)].astype(np.int64)
        ).to(dev)
        with _autocast(dev):
            _, loss = model(chunk[:, :-1], chunk[:, 1:])
        total += loss.item() * len(part)
    model.train()
    return total / len(starts)


def _save_checkpoint(
    path: Path, cfg: TrainConfig, model, optimizer, state: dict
) -> None:
    """Plain dict with the resolved config; tmp file then ``os.replace`` (atomic)."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": cfg.to_dict(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "torch_rng": torch.get_rng_state(),
        **state,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _load_checkpoint(
    path: Path, cfg: TrainConfig, model, optimizer, dev, *, branch: bool = False
) -> dict:
    """Restore model, optimizer and RNG from ``path``; return the loop state.

    ``branch``: ``path`` is a trunk's snapshot; the fields in ``_BRANCH_FIELDS`` may differ.
    """
    try:
        payload = torch.load(path, map_location=dev, weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise ScalinglabError(
            f"cannot read checkpoint {path}: {exc}. Delete it to restart the run."
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ScalinglabError(
            f"{path} is not a scalinglab checkpoint; delete it or choose another path."
        )
    free = _RUNTIME_FIELDS | (_BRANCH_FIELDS if branch else set())
    saved = {k: v for k, v in payload["config"].items() if k not in free}
    wanted = {k: v for k, v in cfg.to_record().items() if k not in free}
    differing = sorted(k for k in wanted if saved.get(k) != wanted[k])
    if differing and branch:
        raise ScalinglabError(
            f"trunk snapshot {path} does not fit this cooldown branch: {differing} differ; a "
            "branch shares its trunk's model, learning rate, warmup, batch and seed."
        )
    if differing:
        raise ScalinglabError(
            f"checkpoint {path} belongs to a different run: {differing} differ from the "
            "config; delete the checkpoint to start this run afresh."
        )
    model.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    torch.set_rng_state(payload["torch_rng"].cpu())
    keys = ("step", "loss_sum", "loss_count", "wall_time", "last_row")
    return {k: payload[k] for k in keys} | {"noise": payload.get("noise", [0.0] * 4)}
