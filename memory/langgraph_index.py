"""LangGraph's ``index`` configuration, read for :class:`~.langgraph_store.MemplayStore`.

LangGraph configures semantic search with ``{"dims": int, "embed": ..., "fields": [...]}``.
``embed`` may be a LangChain ``Embeddings`` object, a plain function ``list[str] ->
list[list[float]]`` (sync or async), a LangChain provider string such as
``"openai:text-embedding-3-small"`` (needs ``langchain`` and network), or, memplay's offline
addition, a memplay embedder or its name: ``"default"`` (all-MiniLM-L6-v2, 384 dims),
``"hash"`` (:class:`HashEmbedder`, ``dims`` wide, 64 by default) or a saved store's embedder
name. ``fields`` are JSON paths (``"a.b"``, ``"items[*].text"``, ``"{title,body}"``, ``"$"``
for the whole value, the default); a path that yields several texts gives one vector each.

    >>> spec = index_spec({"embed": "hash", "dims": 32, "fields": ["title", "tags[*]"]})
    >>> spec.embedder.dim, spec.field_texts({"title": "Dune", "tags": ["sf", "desert"]})
    (32, [('title', 'Dune'), ('tags[*].0', 'sf'), ('tags[*].1', 'desert')])
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings
from langgraph.store.base import ensure_embeddings, get_text_at_path, tokenize_path

from memplay.errors import ConfigError
from memplay.memory.embedders import (
    Embedder,
    HashEmbedder,
    default_embedder,
    embedder_by_name,
    normalize_rows,
)

__all__ = ["EmbedderEmbeddings", "IndexSpec", "LangChainEmbedder", "index_spec"]

_KEYS = {"dims", "embed", "fields"}


class LangChainEmbedder:
    """A LangChain ``Embeddings`` object (or LangGraph embed function) as a memplay Embedder.

    Documents go through ``embed_documents``, queries through ``embed_query``, as LangGraph's
    stores do; every result is checked to be ``dim`` wide and normalised to unit length.

    >>> from langchain_core.embeddings import FakeEmbeddings
    >>> emb = LangChainEmbedder(FakeEmbeddings(size=8), dim=8)
    >>> emb.embed(["a", "b"]).shape, emb.name
    ((2, 8), 'langchain-FakeEmbeddings-8')
    """

    def __init__(self, embeddings: Embeddings, dim: int, *, async_only: bool = False) -> None:
        self.embeddings = embeddings
        self.dim = dim
        self.async_only = async_only
        self.name = f"langchain-{type(embeddings).__name__}-{dim}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed documents (``embed_documents``) into unit rows of shape ``(n, dim)``."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._check_sync()
        return self._rows(self.embeddings.embed_documents(texts), len(texts))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries, one ``embed_query`` call each."""
        if texts:
            self._check_sync()
        return self._rows([self.embeddings.embed_query(t) for t in texts], len(texts))

    async def aembed(self, texts: Sequence[str]) -> np.ndarray:
        """Async :meth:`embed` (``aembed_documents``)."""
        texts = list(texts)
        rows = await self.embeddings.aembed_documents(texts) if texts else []
        return self._rows(rows, len(texts))

    async def aembed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Async :meth:`embed_queries` (``aembed_query``, concurrently)."""
        rows = await asyncio.gather(*(self.embeddings.aembed_query(t) for t in texts))
        return self._rows(list(rows), len(texts))

    def _check_sync(self) -> None:
        if self.async_only:
            raise ConfigError("the index's embed function is async, so only the async API "
                              "(aput, asearch, abatch) can embed; use it, or pass a sync "
                              "function or an Embeddings object as index['embed']")

    def _rows(self, rows: Any, n: int) -> np.ndarray:
        arr = np.asarray(rows, dtype=np.float32).reshape(n, -1) if n else np.zeros((0, self.dim))
        if arr.shape[1] != self.dim:
            raise ConfigError(f"the index's embed returned vectors of {arr.shape[1]} dims but "
                              f"index['dims'] is {self.dim}; set dims to {arr.shape[1]}")
        return normalize_rows(arr)


class EmbedderEmbeddings(Embeddings):
    """A memplay Embedder seen as a LangChain ``Embeddings`` object (lists of floats).

    >>> EmbedderEmbeddings(HashEmbedder(4)).embed_query("hi").__len__()
    4
    """

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents."""
        return [[float(x) for x in row] for row in self.embedder.embed(texts)]

    def embed_query(self, text: str) -> list[float]:
        """Embed one query."""
        return self.embed_documents([text])[0]


@dataclass(frozen=True)
class IndexSpec:
    """A parsed index configuration: the embedder and the tokenized default fields.

    >>> spec = index_spec({"embed": "hash", "fields": ["a.b"]})
    >>> spec.fields, spec.field_texts({"a": {"b": 3}}), spec.field_texts({"a": 1}, ["a"])
    (('a.b',), [('a.b', '3')], [('a', '1')])
    """

    embedder: Embedder
    fields: tuple[str, ...] = ("$",)

    def field_texts(self, value: Mapping[str, Any], paths: Sequence[str] | None = None
                    ) -> list[tuple[str, str]]:
        """``(path, text)`` for every text at ``paths`` (default: the configured fields).

        A path yielding several texts names them ``path.0``, ``path.1``, ... like LangGraph.
        """
        out: list[tuple[str, str]] = []
        for path in self.fields if paths is None else _check_fields(paths, "put(index=...)"):
            texts = get_text_at_path(value, path if path == "$" else tokenize_path(path))
            if len(texts) == 1:
                out.append((path, texts[0]))
            else:
                out.extend((f"{path}.{n}", text) for n, text in enumerate(texts))
        return out

    @property
    def embeddings(self) -> Embeddings:
        """The embedder as a LangChain Embeddings object (the user's own when one was given)."""
        if isinstance(self.embedder, LangChainEmbedder):
            return self.embedder.embeddings
        return EmbedderEmbeddings(self.embedder)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of stored texts."""
        return self.embedder.embed(list(texts))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of search queries (``embed_query`` for LangChain embeddings)."""
        if isinstance(self.embedder, LangChainEmbedder):
            return self.embedder.embed_queries(texts)
        return self.embedder.embed(list(texts))

    async def aembed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Async :meth:`embed_documents`; memplay embedders run in a worker thread."""
        if isinstance(self.embedder, LangChainEmbedder):
            return await self.embedder.aembed(texts)
        return await asyncio.to_thread(self.embedder.embed, list(texts))

    async def aembed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Async :meth:`embed_queries`."""
        if isinstance(self.embedder, LangChainEmbedder):
            return await self.embedder.aembed_queries(texts)
        return await asyncio.to_thread(self.embedder.embed, list(texts))


def index_spec(index: Mapping[str, Any] | None, embedder: Embedder | None = None) -> IndexSpec:
    """Read LangGraph's index configuration (or a bare memplay embedder) into an IndexSpec.

    With neither, memplay's default embedder (all-MiniLM-L6-v2) embeds the whole value.

    >>> index_spec(None, HashEmbedder(16)).embedder.name
    'hash-3gram-16'
    >>> index_spec({"embed": lambda texts: [[1.0, 0.0] for _ in texts]})
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: index['dims'] is missing; give the width of the vectors ...
    """
    if index is None:
        return IndexSpec(embedder if embedder is not None else default_embedder())
    if embedder is not None:
        raise ConfigError("MemplayStore got both index= and embedder=; pass the embedder as "
                          "index={'embed': embedder} (or drop index)")
    if not isinstance(index, Mapping) or "embed" not in index:
        raise ConfigError(f"index={index!r} must be a dict with an 'embed' entry, e.g. "
                          "{'dims': 384, 'embed': 'default', 'fields': ['text']}")
    unknown = sorted(set(index) - _KEYS)
    if unknown:
        raise ConfigError(f"index has unknown key {unknown[0]!r}; the keys are dims, embed, "
                          "fields")
    dims = index.get("dims")
    if dims is not None and (isinstance(dims, bool) or not isinstance(dims, int) or dims < 1):
        raise ConfigError(f"index['dims']={dims!r} must be a positive int, e.g. 384")
    fields = _check_fields(index.get("fields") or ["$"], "index['fields']")
    return IndexSpec(_embedder(index["embed"], dims), tuple(fields))


def _embedder(embed: Any, dims: int | None) -> Embedder:
    if isinstance(embed, str) and ":" not in embed:
        found = _memplay_embedder(embed, dims)
    elif isinstance(embed, Embedder):
        found = embed
    else:
        return _langchain_embedder(embed, dims)
    if dims is not None and dims != found.dim:
        raise ConfigError(f"index['dims']={dims} but embedder {found.name!r} makes "
                          f"{found.dim}-dim vectors; set dims to {found.dim} or drop it")
    return found


def _memplay_embedder(name: str, dims: int | None) -> Embedder:
    if name == "default":
        return default_embedder()
    if name == "hash":
        return HashEmbedder(dims or 64)
    return embedder_by_name(name)


def _langchain_embedder(embed: Any, dims: int | None) -> LangChainEmbedder:
    if dims is None:
        raise ConfigError("index['dims'] is missing; give the width of the vectors the embed "
                          "function returns (e.g. 1536), as LangGraph's index config does")
    if not (isinstance(embed, (str, Embeddings)) or callable(embed)):
        raise ConfigError(f"index['embed']={embed!r} is not an Embeddings object, a function, "
                          "a provider string or a memplay embedder name such as 'default'")
    try:
        embeddings = ensure_embeddings(embed)
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"index['embed']={embed!r} could not be loaded ({exc}); offline, "
                          "use a memplay embedder name such as 'default' or 'hash'") from None
    return LangChainEmbedder(embeddings, dims, async_only=_is_async(embed))


def _is_async(embed: Any) -> bool:
    if isinstance(embed, (str, Embeddings)):
        return False
    return inspect.iscoroutinefunction(embed) or inspect.iscoroutinefunction(
        type(embed).__call__)


def _check_fields(fields: Any, where: str) -> list[str]:
    if isinstance(fields, str) or not isinstance(fields, Sequence) or not all(
            isinstance(f, str) and f for f in fields):
        raise ConfigError(f"{where}={fields!r} must be a list of JSON paths such as "
                          "['text', 'items[*].body'] ('$' embeds the whole value)")
    return list(fields)
