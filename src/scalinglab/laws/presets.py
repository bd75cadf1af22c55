"""Published scaling laws: coefficients with their source and counting conventions.

A preset needs no data: ``get_preset("besiroglu2024").optimal(1e24)`` gives the
compute-optimal allocation under that paper's fit. Presets carry point
estimates only (no bootstrap draws), so they give no intervals; the published
intervals, where a paper reports them, are quoted in ``notes``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np

from ..errors import ScalinglabError
from .base import Law
from .registry import get_law


@dataclass(frozen=True)
class Preset:
    """A published fit of a registered law.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"hoffmann2022"``.
    law_name : str
        The registered law the coefficients belong to.
    params : mapping of str to float
        Coefficients in natural units, unrounded where the source gives them so.
    source : str
        Paper (and table or code) the numbers come from.
    conventions : str
        What N, D and the loss count in the source's data.
    notes : str
        Caveats and published intervals.
    """

    name: str
    law_name: str
    params: Mapping[str, float]
    source: str
    conventions: str
    notes: str = ""
    draws: None = field(default=None, init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        missing = set(self.law.param_names) - set(self.params)
        if missing:
            raise ScalinglabError(
                f"preset {self.name!r} lacks parameters {sorted(missing)}."
            )

    @property
    def law(self) -> Law:
        return get_law(self.law_name)

    def predict(self, **inputs: np.ndarray | float) -> np.ndarray:
        """Predicted loss, e.g. ``predict(N=7e10, D=1.4e12)``."""
        return self.law.predict(self.params, **inputs)

    def optimal(
        self, compute, *, flops_per_token=None, level: float = 0.95, **fixed_inputs
    ):
        """Compute-optimal N*, D*, loss and tokens per parameter (no intervals: no draws)."""
        from ..analysis.optimal import optimal_allocation

        return optimal_allocation(
            self, compute, flops_per_token=flops_per_token, level=level, **fixed_inputs
        )

    def describe(self) -> dict:
        """JSON-safe: name, law, params, source, conventions, notes."""
        return {
            "name": self.name,
            "law": self.law_name,
            "params": dict(self.params),
            "source": self.source,
            "conventions": self.conventions,
            "notes": self.notes,
        }


def _hoffmann2022() -> Preset:
    return Preset(
        "hoffmann2022",
        "chinchilla",
        dict(
            E=math.exp(0.5267228),
            A=math.exp(6.0073404),
            B=math.exp(6.0179186),
            alpha=0.33917084,
            beta=0.2849083,
        ),
        "Hoffmann et al. 2022 (arXiv 2203.15556), approach 3, unrounded values from "
        "epoch-research/analyzing-chinchilla",
        "N total parameters; D tokens; loss nats/token on MassiveText",
        "The paper prints E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28 "
        "(hoffmann2022_rounded). Besiroglu et al. 2024 could not reproduce this fit "
        "from the paper's own data; prefer besiroglu2024.",
    )


def _hoffmann2022_rounded() -> Preset:
    return Preset(
        "hoffmann2022_rounded",
        "chinchilla",
        dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28),
        "Hoffmann et al. 2022 (arXiv 2203.15556), appendix D.2 as printed",
        "N total parameters; D tokens; loss nats/token on MassiveText",
        "Rounding alpha and beta moves N* at the Gopher budget from about 40B to 32B.",
    )


def _besiroglu2024() -> Preset:
    return Preset(
        "besiroglu2024",
        "chinchilla",
        dict(E=1.817, A=482.006, B=2085.434, alpha=0.3478, beta=0.3658),
        "Besiroglu et al. 2024 (arXiv 2404.10102), Chinchilla replication point estimate",
        "N total parameters; D = C/(6N) tokens; loss nats/token (digitised Hoffmann fig. 4)",
        "Published 95% bootstrap intervals: E 1.769-1.871, A 285.2-743.6, "
        "B 1042.4-5810.3, alpha 0.317-0.373, beta 0.331-0.415.",
    )


def _kaplan2020() -> Preset:
    return Preset(
        "kaplan2020",
        "kaplan",
        dict(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103),
        "Kaplan et al. 2020 (arXiv 2001.08361), table 2 (eq. 1.5)",
        "N non-embedding parameters; D tokens; loss nats/token on WebText2 (GPT-2 BPE)",
        "Fitted on early-stopped test loss; no irreducible term, so losses are only "
        "meaningful for WebText2 with its tokenizer.",
    )


def _muennighoff2023() -> Preset:
    return Preset(
        "muennighoff2023",
        "data_constrained",
        dict(
            E=math.exp(0.6254804),
            A=math.exp(6.255414),
            B=math.exp(7.3049974),
            alpha=0.3526596,
            beta=0.3526596,
            R_D_star=15.387756,
            R_N_star=5.309743,
        ),
        "Muennighoff et al. 2023 (arXiv 2305.16264), huggingface/datablations "
        "parametric fit",
        "N total parameters; D tokens; U unique tokens; loss nats/token on C4 "
        "(GPT-2 tokenizer)",
        "Needs U (unique tokens): scalinglab optimal --preset muennighoff2023 --U 25e9. "
        "The authors warn that absolute losses are specific to C4; use it for trends.",
    )


def _chen2025(corpus: str, E: float, A: float, alpha: float, k: float) -> Preset:
    return Preset(
        f"chen2025_{corpus}",
        "parscale",
        dict(E=E, A=A, alpha=alpha, k=k),
        "Chen et al. 2025 (arXiv 2505.10475, ParScale), re-fitted from the data in "
        "QwenLM/ParScale parametric_fit.py (reference/formulas.md 12.8)",
        f"N non-embedding parameters; P parallel streams; loss nats/token on {corpus}, "
        "42B training tokens",
        "Check: the Stack-V2-Python fit gives L(2.8B, P=4) = 1.0154 (the authors' HF "
        "Space quotes 1.01548).",
    )


def _krajewski2024() -> Preset:
    return Preset(
        "krajewski2024",
        "krajewski2024",
        dict(c=0.47, g=2.1, gamma=0.58, a=18.1, alpha=0.115, b=30.8, beta=0.147),
        "Krajewski et al. 2024 (arXiv 2402.07871, fine-grained MoE), values as "
        "recalled in reference/formulas.md 12.3",
        "N active non-embedding parameters; D tokens; G granularity (dense FFN size / "
        "expert size); loss nats/token",
        "UNVERIFIED: the reference recalls these values without the paper's text; "
        "check them against the paper before relying on them.",
    )


_FACTORIES: dict[str, Callable[[], Preset]] = {
    "hoffmann2022": _hoffmann2022,
    "hoffmann2022_rounded": _hoffmann2022_rounded,
    "besiroglu2024": _besiroglu2024,
    "kaplan2020": _kaplan2020,
    "muennighoff2023": _muennighoff2023,
    "chen2025_stack_v2_python": lambda: _chen2025(
        "stack_v2_python", 0.6912, 1.13e7, 0.1894, 0.3935
    ),
    "chen2025_pile": lambda: _chen2025("pile", 1.2888, 1.973e8, 0.1964, 0.3344),
    "krajewski2024": _krajewski2024,
}
PRESETS: Mapping[str, Preset] = MappingProxyType(
    {k: f() for k, f in _FACTORIES.items()}
)


def get_preset(name: str) -> Preset:
    """A published preset by name (see ``scalinglab laws --presets``)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ScalinglabError(
            f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}."
        ) from None
