"""Published learning-rate and batch-size laws, usable without any data.

Each preset maps (N, D) to a peak learning rate and a batch size in tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ScalinglabError


@dataclass(frozen=True)
class HparamSuggestion:
    """A learning rate and a batch size in tokens for one (N, D).

    Attributes
    ----------
    lr : float
        Peak learning rate.
    batch_tokens : float
        Batch size in tokens (sequences times sequence length).
    source : str
        The preset's paper, or the fit it came from.
    lr_ci, batch_tokens_ci : tuple of float or None
        95 % bootstrap intervals (fits with draws only; presets have none).
    notes : tuple of str
        Warnings, e.g. that (N, D) lies outside the fitted range.
    weight_decay, tau : float or None
        AdamW weight decay and its timescale ``tau = B / (lr lambda D)`` (fits
        with a weight-decay law only; Power Lines, Bergsma et al. 2025).
    weight_decay_ci, tau_ci : tuple of float or None
        Their 95 % intervals (the timescale law's uncertainty at this lr and batch).
    """

    lr: float
    batch_tokens: float
    source: str
    lr_ci: tuple[float, float] | None = None
    batch_tokens_ci: tuple[float, float] | None = None
    notes: tuple[str, ...] = ()
    weight_decay: float | None = None
    tau: float | None = None
    weight_decay_ci: tuple[float, float] | None = None
    tau_ci: tuple[float, float] | None = None

    def to_dict(self) -> dict:
        """JSON-ready: ``lr``, ``batch_tokens``, ``weight_decay`` and ``tau`` (when known),
        ``ci95`` (when known), ``source``, ``notes``."""
        out = {"lr": self.lr, "batch_tokens": self.batch_tokens, "source": self.source}
        if self.weight_decay is not None:
            out |= {"weight_decay": self.weight_decay, "tau": self.tau}
        if self.lr_ci is not None and self.batch_tokens_ci is not None:
            out["ci95"] = {
                "lr": list(self.lr_ci),
                "batch_tokens": list(self.batch_tokens_ci),
            }
            if self.weight_decay_ci is not None:
                out["ci95"] |= {
                    "weight_decay": list(self.weight_decay_ci),
                    "tau": list(self.tau_ci),
                }
        return out | {"notes": list(self.notes)}


def steplaw(N: float, D: float) -> HparamSuggestion:
    """Step Law (Li et al. 2025, arXiv 2503.04715): eta = 1.79 N^-0.713 D^0.307, B = 0.58 D^0.571.

    N is non-embedding parameters, D training tokens, B in tokens. Unrounded
    bootstrap means from the authors' released fit.
    """
    lr = 1.797 * N**-0.7129 * D**0.3075
    return HparamSuggestion(lr, 0.5807 * D**0.5709, "Li et al. 2025 (Step Law)")


def deepseek(N: float, D: float) -> HparamSuggestion:
    """DeepSeek LLM (Bi et al. 2024, arXiv 2401.02954): eta = 0.3118 C^-0.125, B = 0.292 C^0.3271.

    C = 6 N D here (the paper uses non-embedding FLOPs per token times D).
    """
    C = 6.0 * N * D
    return HparamSuggestion(
        0.3118 * C**-0.1250, 0.2920 * C**0.3271, "Bi et al. 2024 (DeepSeek LLM)"
    )


HPARAM_PRESETS = {"steplaw": steplaw, "deepseek": deepseek}


def suggest_hparams(N: float, D: float, *, preset: str = "steplaw") -> HparamSuggestion:
    """Learning rate and batch size (tokens) for a model of N parameters trained on D tokens."""
    if preset not in HPARAM_PRESETS:
        raise ScalinglabError(
            f"unknown hyperparameter preset {preset!r}; choose one of {sorted(HPARAM_PRESETS)}."
        )
    if N <= 0 or D <= 0:
        raise ScalinglabError(f"N and D must be > 0; got N={N}, D={D}.")
    return HPARAM_PRESETS[preset](N, D)
