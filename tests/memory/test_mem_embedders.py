"""Embedders: shape, normalisation, determinism, caching, and the real MiniLM model."""

from __future__ import annotations

import numpy as np
import pytest

from memplay.errors import ConfigError
from memplay.memory import CachingEmbedder, Embedder, HashEmbedder, default_embedder
from memplay.memory.embedders import embedder_by_name, normalize_rows


def test_hash_embedder_unit_rows_and_deterministic() -> None:
    emb = HashEmbedder(dim=48)
    texts = ["pick up the key", "", "x", "pick up the key"]
    vecs = emb.embed(texts)
    assert vecs.shape == (4, 48) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(vecs[0], vecs[3])
    np.testing.assert_array_equal(vecs, HashEmbedder(dim=48).embed(texts))


def test_hash_embedder_similar_texts_are_closer() -> None:
    a, b, c = HashEmbedder(128).embed(["open the red door", "open the red doors", "eat bread"])
    assert a @ b > 0.8 > a @ c


def test_embed_rejects_bare_string_and_non_strings() -> None:
    with pytest.raises(ConfigError, match="wrap it"):
        HashEmbedder(8).embed("hello")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="int"):
        HashEmbedder(8).embed([1])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="dim=1"):
        HashEmbedder(1)


def test_normalize_rows_keeps_zero_rows() -> None:
    out = normalize_rows(np.array([[0.0, 0.0], [0.0, 2.0]]))
    assert out.tolist() == [[0.0, 0.0], [0.0, 1.0]]


def test_caching_embedder_calls_inner_once_per_text() -> None:
    calls: list[list[str]] = []

    class Counting(HashEmbedder):
        def embed(self, texts):  # type: ignore[no-untyped-def]
            calls.append(list(texts))
            return super().embed(texts)

    emb = CachingEmbedder(Counting(16), max_size=2)
    first = emb.embed(["a", "b", "a"])
    second = emb.embed(["b", "a"])
    assert calls == [["a", "b"]]
    np.testing.assert_array_equal(first[[1, 0]], second)
    emb.embed(["c"])  # evicts the least recent ("b" was used before "a")
    emb.embed(["b"])
    assert calls[-1] == ["b"] and isinstance(emb, Embedder)


def test_embedder_by_name_rebuilds_hash_embedder() -> None:
    emb = embedder_by_name("hash-4gram-24")
    assert isinstance(emb, HashEmbedder) and (emb.dim, emb.ngram) == (24, 4)


@pytest.mark.embedded
def test_default_minilm_embedder_is_cached_normalised_and_semantic() -> None:
    emb = default_embedder()
    assert default_embedder() is emb
    assert emb.dim == 384 and emb.name.endswith("all-MiniLM-L6-v2")
    vecs = emb.embed(["put a clean mug on the desk", "place a washed cup on the table",
                      "the stock market fell sharply"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.3
    assert emb.embed([]).shape == (0, 384)
