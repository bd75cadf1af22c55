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

muP (maximal update parametrization, Yang et al. 2022, arXiv 2203.03466), with
width multiplier ``m = d_model / base_width``, equal to the standard model at
``m = 1``: hidden matrices start at std ``0.02 / sqrt(m)`` (their Adam learning
rate is divided by ``m``, see :func:`param_groups`), attention scores use
``1 / (k sqrt(m))`` instead of ``1 / sqrt(k)`` (scores scale as ``1/k`` with
width), and the logits are multiplied by ``1 / m``; embeddings, the tied head
and LayerNorms keep their init and learning rate (the tied head is treated as
an input embedding plus an output multiplier, as in Cerebras-GPT's muP).
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

    def __init__(self, shape: ModelShape, width_mult: float | None = None) -> None:
        super().__init__()
        self.n_head = shape.n_head
        head_dim = shape.d_model // shape.n_head
        # None: standard 1/sqrt(k); muP: 1/(k sqrt(m)) so scores do not grow with width.
        self.scale = (
            None
            if width_mult is None
            else 1.0 / (math.sqrt(head_dim) * math.sqrt(width_mult))
        )
        self.qkv = nn.Linear(shape.d_model, 3 * shape.d_model, bias=False)
        self.proj = nn.Linear(shape.d_model, shape.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)  # each (B, T, d)
        # (B, T, d) -> (B, h, T, k)
        q, k, v = (
            t.view(B, T, self.n_head, d // self.n_head).transpose(1, 2)
            for t in (q, k, v)
        )
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, scale=self.scale
        )  # (B, h, T, k)
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

    def __init__(self, shape: ModelShape, width_mult: float | None = None) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(shape.d_model)
        self.attn = CausalSelfAttention(shape, width_mult)
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

    ``base_width`` turns on muP (see the module docstring); None is the standard
    parametrization.
    """

    def __init__(self, shape: ModelShape, base_width: int | None = None) -> None:
        super().__init__()
        self.shape = shape
        self.width_mult = None if base_width is None else shape.d_model / base_width
        self.wte = nn.Embedding(shape.vocab_size, shape.d_model)  # (V, d)
        self.wpe = nn.Embedding(shape.n_ctx, shape.d_model)  # (T_max, d)
        self.blocks = nn.ModuleList(
            Block(shape, self.width_mult) for _ in range(shape.n_layer)
        )
        self.ln_f = nn.LayerNorm(shape.d_model)
        self.lm_head = nn.Linear(shape.d_model, shape.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied: one (V, d) matrix
        self.apply(self._init_weights)
        for name, param in self.named_parameters():
            # GPT-2: scale the residual-branch outputs by 1/sqrt(2 n_layer).
            if name.endswith("proj.weight"):
                nn.init.normal_(
                    param, mean=0.0, std=0.02 / math.sqrt(2 * shape.n_layer)
                )
        if (
            self.width_mult is not None
        ):  # muP: hidden std ~ 1/sqrt(fan_in); no extra draws
            with torch.no_grad():
                for name, param in self.named_parameters():
                    if _is_hidden(name, param):
                        param.mul_(1.0 / math.sqrt(self.width_mult))

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
        if self.width_mult is not None:
            logits = logits / self.width_mult  # muP output multiplier
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

    def flops_per_token(
        self, *, seq_len: int | None = None, training: bool = True
    ) -> float:
        """Matmul FLOPs per token (attention and head included), see :mod:`scalinglab.plan.counts`.

        ``training=True`` gives forward + backward (3x forward).
        """
        forward = sum(forward_flops_per_token(self.shape, seq_len=seq_len).values())
        return 3.0 * forward if training else forward

    def param_count(self):
        """:class:`~scalinglab.plan.counts.ParamCount` of this model (from the formula)."""
        return count_params(self.shape)

    def param_groups(self, lr: float, weight_decay: float) -> list[dict]:
        """AdamW groups: decay on matrices (embeddings included), not on LayerNorms;
        under muP the hidden matrices' learning rate is ``lr / m``."""
        named = list(self.named_parameters())  # the tied matrix appears once
        hidden_lr = lr / (self.width_mult or 1.0)
        groups = [
            ([p for n, p in named if _is_hidden(n, p)], hidden_lr, weight_decay),
            (
                [p for n, p in named if p.dim() >= 2 and not _is_hidden(n, p)],
                lr,
                weight_decay,
            ),
            ([p for n, p in named if p.dim() < 2], lr, 0.0),
        ]
        return [
            {"params": ps, "lr": rate, "lr_scale": rate / lr, "weight_decay": wd}
            for ps, rate, wd in groups
            if ps
        ]


def _is_hidden(name: str, param: torch.Tensor) -> bool:
    """Matrices inside the blocks (width x width in muP's sense), not the embeddings."""
    return param.dim() >= 2 and name.startswith("blocks.")
