"""Exact parameter and training-FLOP counts of the built-in transformer.

The model (:mod:`scalinglab.run.model`) is GPT-2-like: learned token and position
embeddings, ``n_layer`` pre-LN blocks (LayerNorm with weight and bias; Linear
layers without bias), a final LayerNorm and an output head **tied** to the token
embedding. With ``L = n_layer``, ``d = d_model``, ``f = d_ff``, ``V = vocab_size``
and ``T = n_ctx``:

.. math::

    N_\\text{embedding} &= V d + T d \\quad\\text{(token table, shared with the head; positions)}

    N_\\text{non-embedding} &= L (4 d^2 + 2 d f + 4 d) + 2 d

    N_\\text{total} &= N_\\text{embedding} + N_\\text{non-embedding}

FLOPs count multiply-adds as 2 and only matrix products (as Kaplan et al. 2020,
Table 1, and Hoffmann et al. 2022, App. F, do; LayerNorm, GELU, softmax and
the embedding lookup are left out, they are < 1% here). Forward FLOPs per token:

.. math::

    F_\\text{dense} &= 2 L (4 d^2 + 2 d f)           \\quad\\text{(QKV, out-projection, MLP)}

    F_\\text{attention} &= 4 L T d                     \\quad\\text{(} QK^T \\text{ and } AV
                                                        \\text{ over all } T \\text{ positions)}

    F_\\text{head} &= 2 d V                           \\quad\\text{(logits)}

and training FLOPs are three times the forward ones (the backward pass computes
gradients with respect to inputs and weights): ``C = 3 D (F_dense + F_attention +
F_head)``. The attention term counts the full T x T score matrix, as a dense
kernel computes it and as ``torch.utils.flop_counter`` counts it; a causal
kernel that skips masked blocks does about half of it. Kaplan counts only
``2 L T d`` (the QK product) and no head; Chinchilla (App. F) counts both
products and the head, as here. With ``f = 4 d``, ``F_dense = 2 * 12 L d^2``,
so ``exact_no_attention_no_embedding = 6 N D`` with Kaplan's N, and
``exact_no_embedding`` equals DeepSeek's ``M D`` with ``M = 72 L d^2 + 12 L d T``.

References
----------
Kaplan et al. 2020, "Scaling Laws for Neural Language Models", Table 1.
Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models", App. F.
Bi et al. 2024, "DeepSeek LLM", sec. 3.1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import ScalinglabError
from .shapes import ModelShape


@dataclass(frozen=True)
class ParamCount:
    """Exact parameter counts; ``total == non_embedding + embedding``.

    ``embedding`` holds the token table (shared with the output head) and the
    position table; ``non_embedding`` everything else (Kaplan's N plus LayerNorms).
    """

    total: int
    non_embedding: int
    embedding: int

    def to_dict(self) -> dict[str, int]:
        """Plain dict of the three counts."""
        return asdict(self)


@dataclass(frozen=True)
class FlopCount:
    """Training FLOPs for ``D`` tokens under several counting conventions.

    Attributes
    ----------
    D : float
        Training tokens.
    six_nd : float
        ``6 N D`` with N the total parameter count (Chinchilla's convention).
    six_nd_non_embedding : float
        ``6 N D`` with N non-embedding (Kaplan's convention).
    exact : float
        Every matrix product: dense layers, attention scores and head, ``3 D F``.
    exact_no_attention : float
        ``exact`` without the ``QK^T`` and ``AV`` products.
    exact_no_embedding : float
        ``exact`` without the output head (the de-embedding); DeepSeek's ``M D``.
    exact_no_attention_no_embedding : float
        Dense layers only; ``6 N D`` with N the block matrix weights.
    forward_per_token : float
        Forward FLOPs per token including attention and head (``exact / 3 D``).
    """

    D: float
    six_nd: float
    six_nd_non_embedding: float
    exact: float
    exact_no_attention: float
    exact_no_embedding: float
    exact_no_attention_no_embedding: float
    forward_per_token: float

    def to_dict(self) -> dict[str, float]:
        """Plain dict of all fields."""
        return asdict(self)


def count_params(shape: ModelShape) -> ParamCount:
    """Exact parameter counts of the built-in model with this shape.

    Equals ``sum(p.numel() for p in model.parameters())`` of
    :class:`scalinglab.run.model.GPT` (tested); formulas in the module docstring.

    Examples
    --------
    >>> count_params(ModelShape(2, 64, 2, 256, 256, 128))
    ParamCount(total=123520, non_embedding=98944, embedding=24576)
    """
    d, L, f = shape.d_model, shape.n_layer, shape.d_ff
    embedding = shape.vocab_size * d + shape.n_ctx * d
    non_embedding = L * (4 * d * d + 2 * d * f + 4 * d) + 2 * d
    return ParamCount(non_embedding + embedding, non_embedding, embedding)


def forward_flops_per_token(shape: ModelShape, *, seq_len: int | None = None) -> dict:
    """Forward FLOPs per token, split into ``dense``, ``attention`` and ``head``.

    ``seq_len`` (default ``n_ctx``) is the length of the training sequences; the
    attention term grows with it.
    """
    T = shape.n_ctx if seq_len is None else seq_len
    if not 1 <= T <= shape.n_ctx:
        raise ScalinglabError(f"seq_len must be in 1..n_ctx={shape.n_ctx}; got {T}.")
    d, L, f = shape.d_model, shape.n_layer, shape.d_ff
    return {
        "dense": 2.0 * L * (4 * d * d + 2 * d * f),
        "attention": 4.0 * L * T * d,
        "head": 2.0 * d * shape.vocab_size,
    }


def train_flops(shape: ModelShape, D: float, *, seq_len: int | None = None) -> FlopCount:
    """Training FLOPs of ``D`` tokens under every convention in :class:`FlopCount`.

    Examples
    --------
    >>> c = train_flops(ModelShape(2, 64, 2, 256, 256, 128), 1e6)
    >>> c.six_nd, c.exact
    (741120000000.0, 884736000000.0)
    """
    if not D >= 0:
        raise ScalinglabError(f"D (training tokens) must be >= 0; got {D!r}.")
    params = count_params(shape)
    f = forward_flops_per_token(shape, seq_len=seq_len)
    per_token = f["dense"] + f["attention"] + f["head"]
    return FlopCount(
        D=float(D),
        six_nd=6.0 * params.total * D,
        six_nd_non_embedding=6.0 * params.non_embedding * D,
        exact=3.0 * D * per_token,
        exact_no_attention=3.0 * D * (f["dense"] + f["head"]),
        exact_no_embedding=3.0 * D * (f["dense"] + f["attention"]),
        exact_no_attention_no_embedding=3.0 * D * f["dense"],
        forward_per_token=per_token,
    )
