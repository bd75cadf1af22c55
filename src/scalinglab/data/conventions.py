"""Counting conventions recorded with every run table and every fit.

Porian et al. (2024) show the compute-optimal exponent moves from about 0.83 to
0.50 on the parameter-count and FLOP-count conventions alone, so a table says
which ones its numbers follow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import ScalinglabError

__all__ = ["Conventions", "N_KINDS", "C_KINDS", "loss_may_be_negative"]

N_KINDS = ("total", "non_embedding", "active", "unknown")
C_KINDS = ("6ND", "given")
# Loss units whose values can legitimately be zero or negative (normalised or
# relative losses, e.g. the unigram-normalised loss of Tao et al. 2024).
_SIGNED_UNIT_MARKERS = (
    "normalized",
    "normalised",
    "relative",
    "delta",
    "signed",
    "difference",
)


@dataclass(frozen=True)
class Conventions:
    """How N, C and the loss of a run table are counted.

    Parameters
    ----------
    N : str
        ``"total"`` (all parameters, embeddings included), ``"non_embedding"``,
        ``"active"`` (parameters used per token, for mixtures of experts) or
        ``"unknown"``.
    C : str
        ``"6ND"`` when C and D are related by C = 6 N D (one derived from the
        other, or both given and checked to agree), ``"given"`` when the C
        column is an independent count (e.g. exact FLOPs with attention).
    loss : str
        Loss unit: ``"nats"`` (per token), ``"bits"``, ``"bits_per_byte"``, or
        any other string; units containing "normalized"/"relative"/"delta"
        allow zero and negative values.
    """

    N: str = "unknown"
    C: str = "6ND"
    loss: str = "nats"

    def __post_init__(self) -> None:
        if self.N not in N_KINDS:
            raise ScalinglabError(
                f"parameter-count convention must be one of {', '.join(N_KINDS)}; "
                f"got {self.N!r}. Pass N_kind='total' when N includes embeddings."
            )
        if self.C not in C_KINDS:
            raise ScalinglabError(
                f"compute convention must be one of {', '.join(C_KINDS)}; "
                f"got {self.C!r}."
            )
        if not isinstance(self.loss, str) or not self.loss.strip():
            raise ScalinglabError(
                "loss unit must be a non-empty string such as 'nats'; "
                f"got {self.loss!r}."
            )

    def to_dict(self) -> dict:
        """JSON-safe mapping ``{"N": ..., "C": ..., "loss": ...}``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Conventions:
        """Inverse of :meth:`to_dict`; unknown keys are rejected by name."""
        unknown = set(data) - {"N", "C", "loss"}
        if unknown:
            raise ScalinglabError(
                f"unknown convention keys {sorted(unknown)}; expected N, C, loss."
            )
        return cls(**data)


def loss_may_be_negative(unit: str) -> bool:
    """Whether losses in ``unit`` may be <= 0 (normalised or relative losses).

    >>> loss_may_be_negative("nats"), loss_may_be_negative("unigram_normalized")
    (False, True)
    """
    lowered = unit.lower()
    return any(marker in lowered for marker in _SIGNED_UNIT_MARKERS)
