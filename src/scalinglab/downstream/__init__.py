"""Downstream prediction: task accuracy through task loss, and loss-to-loss.

``fit_task`` chains (N, D) -> task loss -> metric (Bhagia et al. 2024) with one joint
run bootstrap; ``fit_single_step`` and ``fit_single_step_compute`` are its single-step
baselines, (N, D) -> metric and C -> metric; ``fit_loss2loss`` fits Brandfonbrener et
al.'s shifted power law between two losses.
"""

from __future__ import annotations

from .chain import TaskFit, fit_task, load_task_fit
from .links import LINKS, make_link
from .single import fit_single_step, fit_single_step_compute

__all__ = [
    "LINKS",
    "TaskFit",
    "fit_single_step",
    "fit_single_step_compute",
    "fit_task",
    "load_task_fit",
    "make_link",
]
