"""A small decoder-only transformer, readable like nanoGPT.

GPT-2 layout: learned token and position embeddings, ``n_layer`` pre-LN blocks
(causal self-attention through ``torch.nn.functional.scaled_dot_product_attention``,
then a GELU MLP), a final LayerNorm and an output head **tied** to the token
embedding. Tying keeps the byte-vocabulary models small and is what nanoGPT and
GPT-2 do; :func:`scalinglab.plan.count_params` counts the shared matrix once,
as ``model.parameters()`` does. Linear layers have no bias; LayerNorms have
weight and bias; there is no dropout (so training draws no random numbers and
is easy to make bit-reproducible).

Shapes in comments: ``B`` batch, ``T`` sequence length, ``d`` = d_model,
``h`` = n_head, ``k`` = head_dim, ``V`` = vocab_size.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..plan.counts import count_params, forward_flops_per_token
from ..plan.shapes import ModelShape


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention."""

    def __init__(self, shape: ModelShape) -> None:
        super().__init__()
        self.n_head = shape.n_head
        self.qkv = nn.Linear(shape.d_model, 3 * shape.d_model, bias=False)
        self.proj = nn.Linear(shape.d_model, shape.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)  # each (B, T, d)
        # (B, T, d) -> (B, h, T, k)
        q, k, v = (t.view(B, T, self.n_head, d // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, h, T, k)
        return self.proj(y.transpose(1, 2).reshape(B, T, d))


class MLP(nn.Module):
    """Position-wise feed-forward: d -> d_ff -> d with GELU."""

    def __init__(self, shape: ModelShape) -> None:
        super().__init__()
        self.fc = nn.Linear(shape.d_model, shape.d_ff, bias=False)
        self.proj = nn.Linear(shape.d_ff, shape.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    """Pre-LN transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, shape: ModelShape) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(shape.d_model)
        self.attn = CausalSelfAttention(shape)
        self.ln_2 = nn.LayerNorm(shape.d_model)
        self.mlp = MLP(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Decoder-only language model of a given :class:`~scalinglab.plan.ModelShape`.

    Examples
    --------
    >>> from scalinglab.plan import ModelShape
    >>> model = GPT(ModelShape(2, 64, 2, 256, 256, 128))
    >>> model.num_params(), model.num_params(non_embedding=True)
    (123520, 98944)
    """

    def __init__(self, shape: ModelShape) -> None:
        super().__init__()
        self.shape = shape
        self.wte = nn.Embedding(shape.vocab_size, shape.d_model)  # (V, d)
        self.wpe = nn.Embedding(shape.n_ctx, shape.d_model)  # (T_max, d)
        self.blocks = nn.ModuleList(Block(shape) for _ in range(shape.n_layer))
        self.ln_f = nn.LayerNorm(shape.d_model)
        self.lm_head = nn.Linear(shape.d_model, shape.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied: one (V, d) matrix
        self.apply(self._init_weights)
        # GPT-2: scale the residual-branch outputs by 1/sqrt(2 n_layer).
        for name, param in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(param, mean=0.0, std=0.02 / math.sqrt(2 * shape.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits ``(B, T, V)`` and, given ``targets`` ``(B, T)``, the mean loss in nats."""
        T = idx.shape[1]
        pos = torch.arange(T, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)  # (B, T, d)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))  # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())
        return logits, loss

    def num_params(self, *, non_embedding: bool = False) -> int:
        """Parameter count; ``non_embedding`` drops the token/position tables (Kaplan's N)."""
        total = sum(p.numel() for p in self.parameters())
        if non_embedding:
            total -= self.wte.weight.numel() + self.wpe.weight.numel()
        return total

    def flops_per_token(self, *, seq_len: int | None = None, training: bool = True) -> float:
        """Matmul FLOPs per token (attention and head included), see :mod:`scalinglab.plan.counts`.

        ``training=True`` gives forward + backward (3x forward).
        """
        forward = sum(forward_flops_per_token(self.shape, seq_len=seq_len).values())
        return 3.0 * forward if training else forward

    def param_count(self):
        """:class:`~scalinglab.plan.counts.ParamCount` of this model (from the formula)."""
        return count_params(self.shape)
