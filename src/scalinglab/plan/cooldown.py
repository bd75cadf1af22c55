"""WSD cooldown branches: one constant-LR trunk per model size, short cooldowns from it.

A warmup-stable-decay run is a constant-LR run until its decay starts; so one
constant-LR *trunk* per size, checkpointed at every decay start, serves every
horizon: each *branch* resumes from the trunk's snapshot at step
``steps - round(f * steps)`` and decays linearly over the last fraction ``f``
(Hagele et al. 2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed
Training Durations", arXiv 2405.18392). With the same seed, warmup, learning
rate and batch size, a branch is exactly the from-scratch WSD run of its
horizon (bit for bit on the CPU), at the cost of its cooldown only.

All runs of one size share the learning rate and batch size of the preset at
the size's longest horizon (the trunk cannot change them), and the warmup of
its shortest branch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..errors import ScalinglabError
from .counts import count_params
from .shapes import ModelShape


def cooldown_runs(
    shape: ModelShape,
    n_target: float,
    ratios: Sequence[float],
    cooldowns: Sequence[float],
    s: Any,
) -> list:
    """The trunk and its branches (one per ratio and cooldown fraction) for one size."""
    from ..analysis.hparams_presets import suggest_hparams
    from .design import _human, _make_run

    n_non_embedding = count_params(shape).non_embedding
    preset = suggest_hparams(n_non_embedding, n_target * max(ratios), preset=s.hparams)
    sequences = max(1, round(preset.batch_tokens / s.seq_len))
    batch_tokens = sequences * s.seq_len
    lr = preset.lr * s.lr_scale
    label, source = f"N{_human(n_target)}", f"{preset.source} at the longest horizon"
    branches = []
    for ratio in ratios:
        steps = max(1, round(n_target * ratio / batch_tokens))
        for fraction in cooldowns:
            start = steps - max(1, round(fraction * steps))
            run = _make_run(
                shape,
                lr,
                sequences,
                steps,
                s,
                f"{label}-tpp{ratio:g}-cd{fraction:g}",
                source,
                (n_target, n_target * ratio),
            )
            branches.append(
                replace(
                    run,
                    schedule="wsd",
                    decay_fraction=float(fraction),
                    trunk=f"{label}-trunk",
                    trunk_step=start,
                )
            )
    warmup = min(b.warmup_steps for b in branches)
    if warmup > min(b.trunk_step for b in branches):
        raise ScalinglabError(
            f"N={n_target:.3g}: the shortest branch decays from step "
            f"{min(b.trunk_step for b in branches)}, inside the warmup ({warmup} steps); "
            "use a shorter cooldown or longer horizons."
        )
    points = sorted({b.trunk_step for b in branches})
    trunk = _make_run(
        shape,
        lr,
        sequences,
        points[-1],
        s,
        f"{label}-trunk",
        source,
        (n_target, n_target * max(ratios)),
    )
    trunk = replace(
        trunk, schedule="constant", snapshot_steps=tuple(points), warmup_steps=warmup
    )
    return [trunk, *(replace(b, warmup_steps=warmup) for b in branches)]


def cooldown_costs(runs: Sequence) -> dict[str, float]:
    """Exact training FLOPs: trunks plus cooldowns (``C_exact_total``); every branch
    from scratch (``C_exact_from_scratch``); every (N, D) rung once from scratch
    (``C_exact_rungs_from_scratch``, a plain ladder); ``compute_ratio`` is the first
    over the last."""
    branches = [r for r in runs if r.trunk is not None]
    trunks = sum(r.C_exact for r in runs if r.snapshot_steps)
    cooldowns = sum(r.C_exact * (r.steps - r.trunk_step) / r.steps for r in branches)
    rungs = sum({(r.N, r.D): r.C_exact for r in branches}.values())
    return {
        "C_exact_total": trunks + cooldowns,
        "C_exact_from_scratch": sum(r.C_exact for r in branches),
        "C_exact_rungs_from_scratch": rungs,
        "compute_ratio": (trunks + cooldowns) / rungs,
    }


def check_cooldowns(cooldowns: Sequence[float], schedule: str) -> tuple[float, ...]:
    """Sorted distinct fractions in (0, 1); they need the WSD schedule."""
    fractions = tuple(sorted({float(f) for f in cooldowns}))
    if not fractions:
        return ()
    if schedule != "wsd":
        raise ScalinglabError(
            f"cooldown branches need schedule='wsd' (a constant-LR trunk); got {schedule!r}. "
            "Pass --schedule wsd."
        )
    if not all(0 < f < 1 for f in fractions):
        raise ScalinglabError(
            f"cooldown fractions must be in (0, 1); got {list(fractions)}."
        )
    return fractions
