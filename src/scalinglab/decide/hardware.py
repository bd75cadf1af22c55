"""Hardware cost model: FLOPs to wall-clock hours, GPU-hours and dollars, and back.

A :class:`Hardware` is peak FLOP/s per accelerator, the model FLOP utilisation
(MFU) a run achieves, the accelerator count and a price per accelerator-hour.
Named profiles are editable starting points: every field can be overridden
(``parse_cost("mfu=0.5", base="h100")``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np

from ..errors import ScalinglabError
from ..units import parse_quantity

_SECONDS_PER_HOUR = 3600.0
_MFU_SOURCE = (
    "MFU 0.40: Llama 3 (Dubey et al. 2024, table 4) reports 38-43% BF16 MFU on H100"
)
_PRICE_SOURCE = "price: an illustrative on-demand cloud rate; set price= to your own"


@dataclass(frozen=True)
class Hardware:
    """Accelerators that turn FLOPs into time and money.

    Attributes
    ----------
    name : profile name (``"custom"`` when built from fields only).
    peak : peak dense FLOP/s of one accelerator at the training precision.
    mfu : model FLOP utilisation achieved, in (0, 1].
    gpus : number of accelerators running the job.
    price : dollars per accelerator-hour (>= 0).
    source : where the numbers come from.
    """

    name: str
    peak: float
    mfu: float
    gpus: int
    price: float
    source: str = ""

    def __post_init__(self) -> None:
        if not np.isfinite(self.mfu) or not 0 < self.mfu <= 1:
            raise ScalinglabError(
                f"mfu must be in (0, 1] (a fraction of peak, e.g. 0.4); got {float(self.mfu)!r}."
            )
        for name in ("peak", "gpus"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ScalinglabError(f"{name} must be > 0; got {float(value)!r}.")
        if not np.isfinite(self.price) or self.price < 0:
            raise ScalinglabError(
                f"price must be >= 0 dollars per GPU-hour; got {float(self.price)!r}."
            )

    @property
    def flops_per_gpu_hour(self) -> float:
        return self.peak * self.mfu * _SECONDS_PER_HOUR

    def gpu_hours(self, flops):
        """Accelerator-hours to run ``flops`` at this MFU."""
        return np.asarray(flops, dtype=float) / self.flops_per_gpu_hour

    def wall_hours(self, flops):
        """Wall-clock hours on ``gpus`` accelerators."""
        return self.gpu_hours(flops) / self.gpus

    def dollars(self, flops):
        """Cost of ``flops`` in dollars."""
        return self.gpu_hours(flops) * self.price

    def flops(
        self, *, gpu_hours: float | None = None, dollars: float | None = None
    ) -> float:
        """The FLOPs a budget in GPU-hours or dollars buys (give exactly one)."""
        if (gpu_hours is None) == (dollars is None):
            raise ScalinglabError("give exactly one budget: GPU-hours or dollars.")
        value, what = (
            (gpu_hours, "GPU-hours") if gpu_hours is not None else (dollars, "dollars")
        )
        if not np.isfinite(value) or value <= 0:
            raise ScalinglabError(
                f"a budget in {what} must be > 0; got {float(value)!r}."
            )
        if dollars is not None:
            if self.price == 0:
                raise ScalinglabError(
                    "a dollar budget needs price > 0 (dollars per GPU-hour)."
                )
            value = dollars / self.price
        return float(value * self.flops_per_gpu_hour)

    def costs(self, flops) -> dict:
        """GPU-hours, wall-clock hours and dollars of ``flops`` (JSON-safe)."""
        return {
            "gpu_hours": float(self.gpu_hours(flops)),
            "wall_hours": float(self.wall_hours(flops)),
            "dollars": float(self.dollars(flops)),
        }

    def describe(self) -> dict:
        return {
            k: getattr(self, k)
            for k in ("name", "peak", "mfu", "gpus", "price", "source")
        }


PROFILES = MappingProxyType(
    {
        "a100": Hardware(
            "a100",
            312e12,
            0.4,
            1,
            1.8,
            "peak: NVIDIA A100 SXM datasheet, 312 TFLOP/s dense BF16; "
            f"{_MFU_SOURCE}; {_PRICE_SOURCE}",
        ),
        "h100": Hardware(
            "h100",
            989e12,
            0.4,
            1,
            2.5,
            "peak: NVIDIA H100 SXM datasheet, 989 TFLOP/s dense BF16; "
            f"{_MFU_SOURCE}; {_PRICE_SOURCE}",
        ),
        "h200": Hardware(
            "h200",
            989e12,
            0.4,
            1,
            3.5,
            "peak: NVIDIA H200 SXM datasheet, 989 TFLOP/s dense BF16 (H100's tensor cores, "
            f"more memory); {_MFU_SOURCE}; {_PRICE_SOURCE}",
        ),
    }
)
_FIELDS = {"peak": float, "mfu": float, "gpus": int, "price": float}


def parse_cost(text: str | None = None, *, base: str | None = None) -> Hardware:
    """A hardware model from ``"gpus=1024,peak=989e12,mfu=0.4,price=2.5"`` and/or a profile.

    Fields override the profile ``base``; without a profile, all four are required.

    Examples
    --------
    >>> parse_cost("gpus=1024", base="h100").gpus
    1024
    """
    fields = _parse_fields(text or "")
    if base is not None:
        if base not in PROFILES:
            raise ScalinglabError(
                f"unknown hardware {base!r}; choose one of {', '.join(PROFILES)}."
            )
        return replace(PROFILES[base], **fields) if fields else PROFILES[base]
    missing = [k for k in _FIELDS if k not in fields]
    if missing:
        raise ScalinglabError(
            f"--cost needs {', '.join(missing)} (or a --hardware profile: {', '.join(PROFILES)}); "
            f"got {text!r}."
        )
    return Hardware("custom", **fields, source="given by the user")


def _parse_fields(text: str) -> dict:
    fields = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in _FIELDS:
            raise ScalinglabError(
                f"--cost expects NAME=VALUE items with names {', '.join(_FIELDS)}; got {item!r}."
            )
        number = parse_quantity(value, name=f"--cost {name}")
        if name == "gpus" and number != int(number):
            raise ScalinglabError(f"--cost gpus must be a whole number; got {value!r}.")
        fields[name] = _FIELDS[name](number)
    return fields
