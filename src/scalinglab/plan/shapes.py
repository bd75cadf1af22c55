"""Transformer shapes and how to choose one for a target parameter count.

A :class:`ModelShape` fixes everything that sets the size of the built-in
decoder-only transformer (:mod:`scalinglab.run.model`): layers, width, heads,
feed-forward width, vocabulary and context length. :func:`shape_for_params`
searches a small grid of (layers, width) pairs for the one whose exact total
parameter count is closest to a target while keeping a sensible aspect ratio.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ..errors import ScalinglabError

#: Widths are multiples of this many units; small enough to hit targets at ~1e5 params.
WIDTH_STEP = 8
#: Range of the preferred per-head dimension (GPT-2 uses 64; tiny models need 16).
HEAD_DIM_RANGE = (16, 64)
#: Range of ``d_ff / d_model`` used to fine-tune the count (4 is the GPT convention).
FFN_RATIO_RANGE = (3.0, 5.0)


@dataclass(frozen=True)
class ModelShape:
    """Size of a decoder-only transformer (see :mod:`scalinglab.run.model`).

    Parameters
    ----------
    n_layer : int
        Number of transformer blocks.
    d_model : int
        Residual stream width; also the attention width (``n_head * head_dim``).
    n_head : int
        Attention heads; must divide ``d_model``.
    d_ff : int
        Hidden width of the MLP (4 * d_model by convention; the planner tunes it
        within 3..5 * d_model to hit a target count).
    vocab_size : int
        Number of token ids (256 for the byte tokenizer).
    n_ctx : int
        Context length in tokens; sets the position-embedding table.
    """

    n_layer: int
    d_model: int
    n_head: int
    d_ff: int
    vocab_size: int
    n_ctx: int

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ScalinglabError(
                    f"ModelShape.{name} must be a positive integer; got {value!r}."
                )
        if self.d_model % self.n_head:
            raise ScalinglabError(
                f"ModelShape: n_head ({self.n_head}) must divide d_model ({self.d_model})."
            )

    @property
    def head_dim(self) -> int:
        """Width of one attention head, ``d_model // n_head``."""
        return self.d_model // self.n_head

    @property
    def aspect_ratio(self) -> float:
        """``d_model / n_layer`` (Kaplan et al. 2020 find loss flat for ~20 to ~200)."""
        return self.d_model / self.n_layer

    def to_dict(self) -> dict[str, int]:
        """Plain dict of the six size fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelShape:
        """Inverse of :meth:`to_dict`; rejects missing or unknown keys by name."""
        expected = set(cls.__dataclass_fields__)
        missing, unknown = expected - set(data), set(data) - expected
        if missing or unknown:
            raise ScalinglabError(
                f"model shape needs exactly the keys {sorted(expected)}; "
                f"missing {sorted(missing)}, unknown {sorted(unknown)}."
            )
        return cls(**{k: int(v) for k, v in data.items()})


def choose_n_head(d_model: int) -> int:
    """Heads whose head dimension is closest to ``d_model / 4`` clamped to 16..64.

    Large models get GPT's 64-wide heads; small ones keep at least about four
    heads (measured on the built-in corpus at d_model=40: one 40-wide head
    reached 2.74 nats held-out, two or four heads 2.58 and 2.55). Ties go to
    more heads.
    """
    low, high = HEAD_DIM_RANGE
    target = min(max(d_model / 4, low), high)
    divisors = [h for h in range(1, d_model + 1) if d_model % h == 0]
    return min(divisors, key=lambda h: (abs(math.log(d_model / h / target)), -h))


def shape_for_params(
    N: float,
    *,
    vocab_size: int = 256,
    n_ctx: int = 128,
    aspect_ratio: float = 64.0,
    min_layers: int = 2,
    max_layers: int = 64,
    tolerance: float = 0.02,
) -> ModelShape:
    """The shape whose exact total parameter count is closest to ``N``.

    For each layer count the two widths ``d_model`` (multiples of 8) that bracket
    the width giving ``N`` with ``d_ff = 4 d_model`` are tried, each with the
    feed-forward width ``d_ff`` (a multiple of 8 within ``[3, 5] * d_model``) that
    brings the total count nearest ``N``. Among candidates within ``tolerance``
    (relative) of ``N`` the one with ``d_model / n_layer`` closest to
    ``aspect_ratio`` (in log space) wins; if none is that close, the closest
    count wins. Tuning ``d_ff`` fills the gaps between successive widths, so
    small models need not take odd depths to hit their target.

    Parameters
    ----------
    N : float
        Target total parameter count (embeddings included, see
        :func:`scalinglab.plan.count_params`).
    vocab_size, n_ctx : int
        Vocabulary and context length; both add embedding parameters.
    aspect_ratio : float
        Preferred ``d_model / n_layer``; 64 matches GPT-2 small (768 / 12).
    min_layers, max_layers : int
        Range of layer counts searched.
    tolerance : float
        Relative error in N within which aspect ratio is preferred over accuracy
        (tested: every target from 3e4 to 1e9 is met within it).

    Returns
    -------
    ModelShape
        Use :func:`scalinglab.plan.count_params` for its exact count.

    Examples
    --------
    >>> shape_for_params(1e6)
    ModelShape(n_layer=3, d_model=168, n_head=4, d_ff=592, vocab_size=256, n_ctx=128)
    """
    from .counts import count_params

    if not N > 0 or not math.isfinite(N):
        raise ScalinglabError(f"target N must be a positive number; got {N!r}.")
    if not 1 <= min_layers <= max_layers:
        raise ScalinglabError(
            f"need 1 <= min_layers <= max_layers; got {min_layers}, {max_layers}."
        )
    candidates = []
    for n_layer in range(min_layers, max_layers + 1):
        for d_model in _widths_near(N, n_layer, vocab_size, n_ctx):
            d_ff = _ffn_width_for(N, n_layer, d_model, vocab_size, n_ctx)
            shape = ModelShape(
                n_layer, d_model, choose_n_head(d_model), d_ff, vocab_size, n_ctx
            )
            candidates.append(shape)
    n_error = {s: abs(math.log(count_params(s).total / N)) for s in candidates}
    close = [s for s in candidates if n_error[s] <= math.log1p(tolerance)]
    if not close:
        return min(candidates, key=lambda s: (n_error[s], s.n_layer))
    return min(
        close,
        key=lambda s: (abs(math.log(s.aspect_ratio / aspect_ratio)), n_error[s]),
    )


def _widths_near(N: float, n_layer: int, vocab_size: int, n_ctx: int) -> list[int]:
    """The two multiples of WIDTH_STEP bracketing the width that gives exactly N."""
    # total = 12 L d^2 + (4 L + 2 + vocab + n_ctx) d   (d_ff = 4 d, see counts.py)
    a, b = 12.0 * n_layer, 4.0 * n_layer + 2 + vocab_size + n_ctx
    d_exact = (-b + math.sqrt(b * b + 4 * a * N)) / (2 * a)
    low = max(WIDTH_STEP, WIDTH_STEP * math.floor(d_exact / WIDTH_STEP))
    return [low, low + WIDTH_STEP]


def _ffn_width_for(
    N: float, n_layer: int, d_model: int, vocab_size: int, n_ctx: int
) -> int:
    """The multiple of WIDTH_STEP in [3, 5] * d_model whose total count is nearest N."""
    # total = L (4 d^2 + 2 d f + 4 d) + 2 d + (V + T) d, linear in f
    d = d_model
    fixed = n_layer * (4 * d * d + 4 * d) + 2 * d + (vocab_size + n_ctx) * d
    f_exact = (N - fixed) / (2 * n_layer * d)
    low, high = FFN_RATIO_RANGE
    f_min = WIDTH_STEP * math.ceil(low * d / WIDTH_STEP)
    f_max = WIDTH_STEP * math.floor(high * d / WIDTH_STEP)
    return int(min(max(WIDTH_STEP * round(f_exact / WIDTH_STEP), f_min), f_max))
