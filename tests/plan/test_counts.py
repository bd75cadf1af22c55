"""Exact parameter and FLOP counts against the model itself and independent formulas."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab.plan import ModelShape, count_params, shape_for_params, train_flops

SHAPES = [
    ModelShape(2, 64, 2, 256, 256, 128),
    ModelShape(3, 168, 4, 592, 256, 128),
    ModelShape(1, 24, 1, 96, 512, 64),
    ModelShape(4, 96, 3, 320, 1000, 256),
]


def independent_total(s: ModelShape) -> int:
    """Written out per tensor: tables, per block 2 LN (w, b), qkv, proj, fc, proj; final LN."""
    d, f = s.d_model, s.d_ff
    tables = s.vocab_size * d + s.n_ctx * d  # the head is tied to the token table
    block = 2 * (2 * d) + d * 3 * d + d * d + d * f + f * d
    return tables + s.n_layer * block + 2 * d


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_param_count_matches_independent_formula(shape):
    counts = count_params(shape)
    assert counts.total == independent_total(shape)
    assert counts.embedding == (shape.vocab_size + shape.n_ctx) * shape.d_model
    assert counts.total == counts.embedding + counts.non_embedding


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_param_count_matches_model_parameters(shape):
    torch = pytest.importorskip(
        "torch", reason="needs torch: pip install torch==2.13.0"
    )
    from scalinglab.run.model import GPT

    torch.manual_seed(0)
    model = GPT(shape)
    assert sum(p.numel() for p in model.parameters()) == count_params(shape).total
    tables = model.wte.weight.numel() + model.wpe.weight.numel()
    assert model.num_params(non_embedding=True) == count_params(shape).non_embedding
    assert (
        sum(p.numel() for p in model.parameters()) - tables
        == count_params(shape).non_embedding
    )


@pytest.mark.parametrize("shape", [SHAPES[0], SHAPES[2]], ids=str)
@pytest.mark.parametrize("seq_len", [16, 64])
def test_training_flops_match_torch_flop_counter(shape, seq_len):
    """torch's FlopCounterMode on one forward+backward step counts exactly C_exact.

    The math attention kernel is forced so that QK^T and AV appear as matrix
    products the counter sees; a batch of B sequences is B * seq_len tokens.
    """
    torch = pytest.importorskip(
        "torch", reason="needs torch: pip install torch==2.13.0"
    )
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from scalinglab.run.model import GPT

    torch.manual_seed(0)
    model = GPT(shape)
    batch = 3
    idx = torch.randint(0, shape.vocab_size, (batch, seq_len))
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        _, loss = model(idx, idx)
        loss.backward()
    expected = train_flops(shape, batch * seq_len, seq_len=seq_len)
    assert counter.get_total_flops() == expected.exact
    assert model.flops_per_token(seq_len=seq_len) * batch * seq_len == expected.exact


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_flop_conventions_relate_as_documented(shape):
    D = 1_234_567
    c = train_flops(shape, D)
    L, d, f, T, V = (
        shape.n_layer,
        shape.d_model,
        shape.d_ff,
        shape.n_ctx,
        shape.vocab_size,
    )
    dense = 6 * D * L * (4 * d * d + 2 * d * f)  # 6 x (block matrix weights) x D
    assert c.exact_no_attention_no_embedding == dense
    assert (
        c.exact_no_embedding - dense == 3 * D * 4 * L * T * d
    )  # QK^T and AV, fwd + bwd
    assert c.exact_no_attention - dense == 6 * D * d * V  # the tied head as a matmul
    assert c.exact == c.exact_no_attention + c.exact_no_embedding - dense
    assert c.six_nd == 6 * count_params(shape).total * D
    assert c.six_nd_non_embedding == 6 * count_params(shape).non_embedding * D
    assert c.forward_per_token * 3 * D == pytest.approx(c.exact, rel=1e-15)


def test_deepseek_M_for_gpt_ffn():
    """With d_ff = 4d, C_exact_no_embedding / D is DeepSeek's M = 72 L d^2 + 12 L d T."""
    shape = ModelShape(6, 256, 4, 1024, 256, 512)
    L, d, T = 6, 256, 512
    assert train_flops(shape, 1.0).exact_no_embedding == 72 * L * d * d + 12 * L * d * T


def test_shapes_hit_targets_within_two_percent_and_stay_sane():
    for N in np.geomspace(3e4, 1e9, 40):
        shape = shape_for_params(float(N))
        assert abs(count_params(shape).total / N - 1) <= 0.02
        assert 3 * shape.d_model <= shape.d_ff <= 5 * shape.d_model
        assert shape.d_model % 8 == 0 and shape.d_model % shape.n_head == 0
        assert shape.n_layer >= 2


def test_large_shapes_keep_a_gpt_like_aspect_ratio():
    for N in (1e7, 1e8, 1e9):
        assert 32 <= shape_for_params(N).aspect_ratio <= 128


def test_seq_len_longer_than_context_is_rejected():
    from scalinglab.errors import ScalinglabError

    with pytest.raises(ScalinglabError, match="seq_len"):
        train_flops(SHAPES[0], 10, seq_len=129)
