"""The built-in trainer: schedules, metric rows, learning, determinism, resume, devices."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scalinglab.errors import ScalinglabError
from scalinglab.plan import count_params, ladder, train_flops
from scalinglab.run.config import TrainConfig

torch = pytest.importorskip(
    "torch", reason="the trainer needs torch: pip install torch==2.13.0"
)

from scalinglab.run.corpus import load_corpus, unigram_entropy  # noqa: E402
from scalinglab.run.trainer import lr_at, train  # noqa: E402


@pytest.fixture(scope="module")
def text_corpus(tmp_path_factory) -> str:
    """Real English prose that is always present: the docs of Python's own stdlib modules."""
    import inspect
    import json as json_module
    import pathlib as pathlib_module
    import textwrap as textwrap_module
    import typing as typing_module

    text = "\n\n".join(
        inspect.getsource(m)
        for m in (json_module, pathlib_module, textwrap_module, typing_module)
    )
    path = tmp_path_factory.mktemp("corpus") / "stdlib.txt"
    path.write_text(text, encoding="utf-8")
    assert len(text) > 200_000
    return str(path)


def small(corpus: str, **changes) -> TrainConfig:
    base = dict(
        n_layer=2,
        d_model=32,
        n_head=2,
        d_ff=128,
        n_ctx=64,
        seq_len=64,
        steps=30,
        batch_size=8,
        lr=1e-2,
        warmup_steps=3,
        eval_every=10,
        eval_tokens=4096,
        corpus=corpus,
        num_threads=1,
    )
    return TrainConfig(**{**base, **changes})


def test_cosine_schedule_warms_up_peaks_and_ends_at_the_floor():
    cfg = TrainConfig(
        n_layer=2,
        d_model=32,
        n_head=2,
        d_ff=128,
        steps=100,
        warmup_steps=10,
        lr=1e-3,
        min_lr_ratio=0.1,
    )
    assert [lr_at(cfg, s) for s in (1, 5, 10)] == pytest.approx(
        [1e-4, 5e-4, 1e-3], rel=1e-12
    )
    assert lr_at(cfg, 55) == pytest.approx(
        1e-4 + 0.9e-3 * 0.5, rel=1e-12
    )  # half-way: cos = 0
    assert lr_at(cfg, 100) == pytest.approx(1e-4, rel=1e-12)
    values = [lr_at(cfg, s) for s in range(10, 101)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_wsd_schedule_holds_then_decays_linearly_over_the_last_fraction():
    cfg = TrainConfig(
        n_layer=2,
        d_model=32,
        n_head=2,
        d_ff=128,
        steps=100,
        warmup_steps=10,
        lr=1e-3,
        min_lr_ratio=0.0,
        schedule="wsd",
        decay_fraction=0.2,
    )
    assert {lr_at(cfg, s) for s in range(10, 81)} == {1e-3}
    assert lr_at(cfg, 90) == pytest.approx(0.5e-3, rel=1e-12)
    assert lr_at(cfg, 100) == pytest.approx(0.0, abs=1e-18)


def test_rows_carry_exact_tokens_flops_lr_and_evaluations(text_corpus):
    cfg = small(text_corpus)
    rows: list[dict] = []
    result = train(cfg, emit=rows.append)
    assert [r["step"] for r in rows] == list(range(1, 31))
    per_token = train_flops(cfg.shape, 1, seq_len=cfg.seq_len).exact
    for r in rows:
        assert r["tokens"] == r["step"] * 8 * 64
        assert r["flops"] == pytest.approx(r["tokens"] * per_token, rel=1e-15)
        assert r["lr"] == lr_at(cfg, r["step"])
        assert (r["eval_loss"] is not None) == (r["step"] % 10 == 0)
    assert result.final_eval_loss == rows[-1]["eval_loss"]
    assert (result.N, result.D) == (count_params(cfg.shape).total, 30 * 8 * 64)
    assert result.flops == train_flops(cfg.shape, result.D, seq_len=64).exact
    assert all(b["wall_time"] >= a["wall_time"] for a, b in zip(rows, rows[1:]))


@pytest.mark.slow
def test_training_learns_context_beyond_byte_frequencies(text_corpus):
    """After 400 steps the held-out loss is well below the unigram entropy of the text."""
    rows: list[dict] = []
    train(
        small(text_corpus, steps=400, batch_size=16, eval_every=100, warmup_steps=40),
        emit=rows.append,
    )
    heldout = load_corpus(text_corpus).heldout
    first, last = rows[0]["train_loss"], rows[-1]["eval_loss"]
    assert first == pytest.approx(
        math.log(256), abs=0.1
    )  # 0.02-std init: uniform logits
    assert last < unigram_entropy(heldout) - 0.3


def test_same_seed_same_metrics_other_seed_other_metrics(text_corpus):
    def losses(seed):
        rows: list[dict] = []
        train(small(text_corpus, steps=12, seed=seed), emit=rows.append)
        return [(r["train_loss"], r["eval_loss"]) for r in rows]

    assert losses(1) == losses(1)
    assert losses(1) != losses(2)


def test_resume_from_a_checkpoint_is_bit_identical(text_corpus, tmp_path):
    cfg = small(text_corpus, steps=24, eval_every=8)
    straight: list[dict] = []
    train(cfg, emit=straight.append)

    class Crash(Exception):
        pass

    first: list[dict] = []

    def crash_after_step_13(row):
        first.append(row)
        if row["step"] == 13:
            raise Crash

    ckpt = tmp_path / "run.pt"
    with pytest.raises(Crash):
        train(cfg, emit=crash_after_step_13, checkpoint_path=ckpt, checkpoint_every=5)
    second: list[dict] = []
    result = train(cfg, emit=second.append, checkpoint_path=ckpt, checkpoint_every=5)
    assert result.resumed_from_step == 10 and second[0]["step"] == 11
    merged = {r["step"]: r for r in first + second}  # steps 11..13 come twice, equal
    drop = lambda r: {k: v for k, v in r.items() if k != "wall_time"}  # noqa: E731
    assert [drop(merged[s]) for s in range(1, 25)] == [drop(r) for r in straight]
    assert [drop(r) for r in first[10:]] == [drop(r) for r in second[:3]]


def test_a_checkpoint_of_another_run_is_refused(text_corpus, tmp_path):
    ckpt = tmp_path / "run.pt"
    train(
        small(text_corpus, steps=5, eval_every=0),
        checkpoint_path=ckpt,
        checkpoint_every=5,
    )
    with pytest.raises(ScalinglabError, match=r"different run: \['lr'\]"):
        train(small(text_corpus, steps=5, eval_every=0, lr=2e-2), checkpoint_path=ckpt)


def test_planned_runs_become_configs_with_their_counts():
    run = ladder((1e5, 1e6), 3, (10,), schedule="wsd").runs[1]
    cfg = TrainConfig.from_planned_run(run)
    assert (cfg.total_tokens, cfg.steps, cfg.lr, cfg.schedule) == (
        run.D,
        run.steps,
        run.lr,
        "wsd",
    )
    assert count_params(cfg.shape).total == run.N and cfg.eval_every == run.eval_every


def test_vocabulary_must_match_the_tokenizer(text_corpus):
    with pytest.raises(ScalinglabError, match="vocab_size"):
        train(small(text_corpus, vocab_size=300))


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA GPU visible to torch"
)
def test_cuda_training_runs_and_tracks_the_cpu_losses(text_corpus):
    cpu, gpu = [], []
    train(small(text_corpus, steps=10), emit=cpu.append)
    train(small(text_corpus, steps=10, device="cuda"), emit=gpu.append)
    assert gpu[-1]["eval_loss"] == pytest.approx(
        cpu[-1]["eval_loss"], rel=0.02
    )  # bf16 autocast
    assert np.isfinite([r["train_loss"] for r in gpu]).all()
