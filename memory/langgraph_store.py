"""A LangGraph ``BaseStore`` on memplay's FAISS memory: LangGraph's contract, memplay's learning.

:class:`MemplayStore` is a drop-in for LangGraph's ``InMemoryStore``: the same constructor
(``index={"dims", "embed", "fields"}``, ``ttl=TTLConfig``), values that round-trip unchanged,
``put(index=False | [paths])``, one vector per indexed field with each item found by its best
field, TTL with refresh on read and :meth:`~MemplayStore.sweep_ttl`. What memplay adds stays
out of the values: the Q-value and counts that MemRL learns for an item are read with
:meth:`~MemplayStore.stats`, and ``q_weight`` lets them move the search score.

How items map onto memory: each LangGraph item is one :class:`MemoryItem` (id
``MemplayStore.item_id(namespace, key)``) in ``store.memory``, a :class:`MultiVectorStore`.
Its field vectors hang off that one item, and search max-pools them, so retrieval sees each
LangGraph item once and Q-values, visits and successes belong to the item, not to a field.
That is why ``MemRLRetriever(store.memory)`` learns on LangGraph items unchanged. An item's
``intent`` is its first field's text; ``value["experience"]``, ``["kind"]`` and ``["env_id"]``
fill the memory fields MemRL prompts use. Re-putting a key keeps its learned statistics.

    >>> from memplay.memory import MemRLRetriever
    >>> store = MemplayStore(index={"embed": "hash", "dims": 64, "fields": ["intent"]})
    >>> store.put(("runs",), "m1", {"intent": "heat an egg", "experience": "microwave"})
    >>> store.get(("runs",), "m1").value
    {'intent': 'heat an egg', 'experience': 'microwave'}
    >>> _ = MemRLRetriever(store.memory).update_q([store.item_id(("runs",), "m1")], reward=1.0)
    >>> store.stats(("runs",), "m1").q, store.search(("runs",), query="heat an egg")[0].score
    (0.3, 1.0)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings
from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)

from memplay.errors import ConfigError
from memplay.memory.embedders import Embedder
from memplay.memory.faiss_store import FaissMemoryStore
from memplay.memory.item import MemoryItem, utc_now
from memplay.memory.langgraph_filters import matches_filter, namespace_matches
from memplay.memory.langgraph_index import IndexSpec, index_spec
from memplay.memory.langgraph_items import (
    ItemStats,
    item_id,
    memory_item,
    put_time,
    to_item,
    to_search_item,
)
from memplay.memory.langgraph_ttl import TTLSweeper, is_expired, ttl_fields
from memplay.memory.multi_vector import MultiVectorStore

__all__ = ["ItemStats", "MemplayStore", "matches_filter"]

_Fields = list[tuple[str, str]]


@dataclass
class _Vectors:
    documents: dict[str, np.ndarray]
    queries: dict[str, np.ndarray]


class MemplayStore(BaseStore):
    """LangGraph store over a :class:`MultiVectorStore` (see the module docstring).

    ``index`` is LangGraph's index config (see :mod:`.langgraph_index`; ``embedder=`` is the
    short form ``index={"embed": embedder}``; with neither, memplay's default embedder embeds
    the whole value). ``ttl`` is LangGraph's TTLConfig. ``q_weight`` adds ``q_weight * Q`` to
    each search score (0: the score is the cosine similarity, as in InMemoryStore).

    >>> from memplay.memory import HashEmbedder
    >>> store = MemplayStore(embedder=HashEmbedder(32))
    >>> store.put(("ns",), "k", {"text": "hello"})
    >>> store.get(("ns",), "k").value, len(store.memory)
    ({'text': 'hello'}, 1)
    """

    supports_ttl = True

    def __init__(self, memory: MultiVectorStore | FaissMemoryStore | None = None, *,
                 index: Mapping[str, Any] | None = None, embedder: Embedder | None = None,
                 ttl: TTLConfig | None = None, q_weight: float = 0.0,
                 clock: Callable[[], datetime] = utc_now) -> None:
        if not math.isfinite(q_weight):
            raise ConfigError(f"q_weight={q_weight} must be a finite number (0 = cosine only)")
        if embedder is None and index is None and memory is not None:
            embedder = memory.embedder
        self._spec: IndexSpec = index_spec(index, embedder)
        self.memory = _as_multi_vector(memory, self._spec.embedder)
        self.index_config = dict(index) if index is not None else {
            "dims": self._spec.embedder.dim, "embed": self._spec.embedder, "fields": ["$"]}
        self.embeddings: Embeddings = self._spec.embeddings  # as InMemoryStore.embeddings
        self.ttl_config = ttl
        self.q_weight = float(q_weight)
        self._clock = clock
        self._lock = threading.RLock()
        self._sweeper = TTLSweeper(self.sweep_ttl)

    # ------------------------------------------------------------------ batch API
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run LangGraph operations in order (Get, Put, Search, ListNamespaces).

        >>> from langgraph.store.base import GetOp, PutOp
        >>> store = MemplayStore(index={"embed": "hash"})
        >>> out = store.batch([PutOp(("ns",), "k", {"text": "hi"}), GetOp(("ns",), "k")])
        >>> out[0], out[1].value
        (None, {'text': 'hi'})
        """
        ops = list(ops)
        plan = [self._fields_of(op) for op in ops]
        docs, queries = _texts(ops, plan)
        vectors = _Vectors(dict(zip(docs, self._spec.embed_documents(docs))),
                           dict(zip(queries, self._spec.embed_queries(queries))))
        return self._run(ops, plan, vectors)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async :meth:`batch`: embeds with the async embed API, searches in a worker thread."""
        ops = list(ops)
        plan = [self._fields_of(op) for op in ops]
        docs, queries = _texts(ops, plan)
        vectors = _Vectors(dict(zip(docs, await self._spec.aembed_documents(docs))),
                           dict(zip(queries, await self._spec.aembed_queries(queries))))
        return await asyncio.to_thread(self._run, ops, plan, vectors)

    def _fields_of(self, op: Op) -> _Fields | None:
        """The (path, text) fields a put embeds: [] for index=False, None for other ops."""
        if not isinstance(op, PutOp) or op.value is None:
            return None
        return [] if op.index is False else self._spec.field_texts(op.value, op.index)

    def _run(self, ops: list[Op], plan: list[_Fields | None], vectors: _Vectors
             ) -> list[Result]:
        with self._lock:
            return [self._run_one(op, fields, vectors) for op, fields in zip(ops, plan)]

    def _run_one(self, op: Op, fields: _Fields | None, vectors: _Vectors) -> Result:
        if isinstance(op, GetOp):
            return self._get(op)
        if isinstance(op, PutOp):
            self._put(op, fields or [], vectors)
            return None
        if isinstance(op, SearchOp):
            return self._search(op, vectors.queries.get(op.query or ""))
        if isinstance(op, ListNamespacesOp):
            return self._list_namespaces(op)
        raise ConfigError(f"unsupported LangGraph store operation {type(op).__name__}; "
                          "use GetOp, PutOp, SearchOp or ListNamespacesOp")

    # ------------------------------------------------------------------ mapping
    item_id = staticmethod(item_id)

    def stats(self, namespace: tuple[str, ...], key: str) -> ItemStats | None:
        """The learned Q-value and counts of an item (None if there is no such item).

        >>> store = MemplayStore(index={"embed": "hash"})
        >>> store.put(("ns",), "k", {"text": "hi"})
        >>> store.stats(("ns",), "k")
        ItemStats(memory_id='["ns", "k"]', q=0.0, visits=0, successes=0, failures=0)
        """
        head = self._head(item_id(namespace, key))
        return None if head is None or self._hidden(head) else ItemStats.of(head)

    async def astats(self, namespace: tuple[str, ...], key: str) -> ItemStats | None:
        """Async :meth:`stats`."""
        return self.stats(namespace, key)

    def _head(self, memory_id: str) -> MemoryItem | None:
        return self.memory.get([memory_id])[0] if memory_id in self.memory else None

    # ------------------------------------------------------------------ operations
    def _get(self, op: GetOp) -> Item | None:
        head = self._head(item_id(op.namespace, op.key))
        if head is None or self._hidden(head):
            return None
        if op.refresh_ttl:
            head = self._refresh(head)
        return to_item(head)

    def _put(self, op: PutOp, fields: _Fields, vectors: _Vectors) -> None:
        memory_id = item_id(op.namespace, op.key)
        if op.value is None:
            self.memory.delete([memory_id])
            return
        head = memory_item(op.namespace, op.key, op.value, self._head(memory_id), fields,
                           self._clock(), op.ttl)
        vecs = np.array([vectors.documents[text] for _, text in fields], dtype=np.float32)
        self.memory.put(head, fields, vecs.reshape(len(fields), self.memory.embedder.dim))

    def _in_scope(self, head: MemoryItem, op: SearchOp) -> bool:
        meta = head.metadata.get("langgraph")
        if meta is None or self._hidden(head):
            return False
        ns, prefix = tuple(meta["namespace"]), tuple(op.namespace_prefix)  # lists work too
        return ns[: len(prefix)] == prefix and matches_filter(
            meta["value"], op.filter)

    def _search(self, op: SearchOp, query: np.ndarray | None) -> list[SearchItem]:
        """Scored items best first, then (LangGraph's fill) unindexed ones, then paging."""
        want = op.offset + op.limit
        scored = self._ranked(op, query, want) if query is not None and want > 0 else []
        page: list[tuple[float | None, MemoryItem]] = list(scored[op.offset : want])
        if len(scored) < want:
            rest = [h for h in self._scope(op) if query is None or not self.memory.paths(h)]
            page = [*scored, *((None, h) for h in rest)][op.offset : want]
        if op.refresh_ttl:
            page = [(score, self._refresh(head)) for score, head in page]
        return [to_search_item(head, score) for score, head in page]

    def _ranked(self, op: SearchOp, query: np.ndarray, want: int
                ) -> list[tuple[float, MemoryItem]]:
        if not len(self.memory):
            return []
        k = want if self.q_weight == 0 else len(self.memory)  # Q may lift any item
        hits = self.memory.search(query[None, :], k=k, where=lambda h: self._in_scope(h, op))
        scored = [(h.similarity + self.q_weight * h.item.q, h.item) for h in hits[0]]
        return sorted(scored, key=lambda pair: -pair[0])

    def _scope(self, op: SearchOp) -> list[MemoryItem]:
        """Every item a search may return, most recently put first (as LangGraph's SQL)."""
        return sorted((h for h in self.memory.items() if self._in_scope(h, op)),
                      key=put_time, reverse=True)

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        found = set()
        for head in self.memory.items():
            meta = head.metadata.get("langgraph")
            if meta is None or self._hidden(head):
                continue
            ns = tuple(meta["namespace"])
            if all(namespace_matches(ns, c) for c in op.match_conditions or ()):
                found.add(ns[: op.max_depth] if op.max_depth is not None else ns)
        return sorted(found)[op.offset : op.offset + op.limit]

    # ------------------------------------------------------------------ TTL
    def _hidden(self, head: MemoryItem) -> bool:
        omit = bool(self.ttl_config and self.ttl_config.get("omit_expired"))
        return omit and is_expired(head.metadata.get("langgraph", {}), self._clock())

    def _refresh(self, head: MemoryItem) -> MemoryItem:
        meta = head.metadata["langgraph"]
        if meta.get("ttl") is None:
            return head
        meta = {**meta, **ttl_fields(meta["ttl"], self._clock())}
        return self.memory.update(head.id, metadata={**head.metadata, "langgraph": meta})

    def sweep_ttl(self) -> int:
        """Delete every item whose TTL has run out; return how many were deleted.

        >>> from datetime import timedelta
        >>> now = [utc_now()]
        >>> store = MemplayStore(index={"embed": "hash"}, clock=lambda: now[0])
        >>> store.put(("ns",), "k", {"text": "hi"}, ttl=1.0)
        >>> now[0] += timedelta(minutes=2)
        >>> store.sweep_ttl(), store.get(("ns",), "k")
        (1, None)
        """
        with self._lock:
            now = self._clock()
            expired = [h.id for h in self.memory.items()
                       if is_expired(h.metadata.get("langgraph", {}), now)]
            return self.memory.delete(expired)

    def start_ttl_sweeper(self, sweep_interval_minutes: float | None = None
                          ) -> concurrent.futures.Future[None]:
        """Run :meth:`sweep_ttl` in a background thread every interval (TTLConfig's, or 5).

        Cancel the returned future, or call :meth:`stop_ttl_sweeper`, to stop it.
        """
        minutes = sweep_interval_minutes or (self.ttl_config or {}).get(
            "sweep_interval_minutes") or 5
        return self._sweeper.start(float(minutes))

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper thread; True once it has stopped (or was not running)."""
        return self._sweeper.stop(timeout)

    # ------------------------------------------------------------------ files
    def save(self, directory: str | Path) -> Path:
        """Save the memory (values, vectors, learned statistics) to ``directory`` atomically."""
        with self._lock:
            return self.memory.save(directory)

    @classmethod
    def load(cls, directory: str | Path, *, index: Mapping[str, Any] | None = None,
             **options: Any) -> MemplayStore:
        """Open a directory written by :meth:`save`; pass the ``index`` it was made with.

        >>> import tempfile, pathlib
        >>> run = pathlib.Path(tempfile.mkdtemp())
        >>> store = MemplayStore(index={"embed": "hash"})
        >>> store.put(("ns",), "k", {"text": "hi"})
        >>> _ = store.save(run / "memory"); store.close()
        >>> MemplayStore.load(run / "memory", index={"embed": "hash"}).get(("ns",), "k").value
        {'text': 'hi'}
        """
        embedder = index_spec(index).embedder if index is not None else None
        memory = MultiVectorStore.load(directory, embedder)
        return cls(memory, index=index, **options)

    def close(self) -> None:
        """Stop the TTL sweeper and release the memory directory's write lock."""
        self.stop_ttl_sweeper()
        self.memory.close()


def _as_multi_vector(memory: MultiVectorStore | FaissMemoryStore | None,
                     embedder: Embedder) -> MultiVectorStore:
    if memory is None:
        return MultiVectorStore(embedder)
    if (memory.embedder.name, memory.embedder.dim) != (embedder.name, embedder.dim):
        raise ConfigError(f"memory embeds with {memory.embedder.name!r} but index['embed'] is "
                          f"{embedder.name!r}; give the memory's embedder, or no index")
    return memory if isinstance(memory, MultiVectorStore) else MultiVectorStore(vectors=memory)


def _texts(ops: Sequence[Op], plan: Sequence[_Fields | None]) -> tuple[list[str], list[str]]:
    docs = {text: None for fields in plan for _, text in fields or ()}
    queries = {op.query: None for op in ops if isinstance(op, SearchOp) and op.query}
    return list(docs), list(queries)
