"""A :class:`MemoryStore` whose items own any number of vectors: one per indexed field.

LangGraph embeds each indexed field of a value as its own vector and finds an item by its
best-matching field. :class:`MultiVectorStore` gives memplay's memory that shape while keeping
the plain one-item-one-Q contract every retriever relies on: search returns each *item* once,
scored by its most similar vector (max pooling), and Q-values, visits and timestamps live on the
item, never on a field.

All vectors live in one :class:`FaissMemoryStore` (so saving, loading, locking and archives are
that store's): the item itself holds its first field's vector (a zero vector, never returned,
when nothing of it is indexed) and every further field is a helper entry with the reserved id
``"<item id>\\x1f<n>"`` pointing back at its item. The ``multi_vector`` metadata entry records
the field paths. A plain FaissMemoryStore wrapped as it is behaves exactly as before.

    >>> from memplay.memory import HashEmbedder, MemoryItem
    >>> store = MultiVectorStore(HashEmbedder(64))
    >>> _ = store.put(MemoryItem(id="doc", intent=""), [("title", "red door"),
    ...                                                  ("body", "the key is under the mat")])
    >>> hit = store.search(["where is the key"], k=5)[0]
    >>> [h.item.id for h in hit], len(store), store.paths("doc")
    (['doc'], 1, ['title', 'body'])
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memplay.errors import ConfigError, MemoryStoreError
from memplay.memory.embedders import Embedder
from memplay.memory.faiss_index import IndexConfig
from memplay.memory.faiss_store import FaissMemoryStore
from memplay.memory.item import MemoryItem
from memplay.memory.store import Hit, ItemFilter, MemoryStore, Query

__all__ = ["FIELD_SEPARATOR", "MultiVectorStore"]

FIELD_SEPARATOR = "\x1f"  # reserved in item ids: helper entries are "<item id>\x1f<n>"
_META = "multi_vector"  # item: {"paths": [...]}; helper entry: {"of": item id, "path": ...}


class MultiVectorStore(MemoryStore):
    """Items with zero or more vectors each; search max-pools over an item's vectors.

    ``add`` gives an item one vector (its intent, as every store does); :meth:`put` gives it one
    per ``(path, text)`` field, or none. Pass ``vectors=`` to wrap an existing FaissMemoryStore.

    >>> from memplay.memory import HashEmbedder
    >>> store = MultiVectorStore(HashEmbedder(32))
    >>> store.add([MemoryItem(id="a", intent="open the door")])
    ['a']
    >>> store.search(["open the door"], k=1)[0][0].item.id
    'a'
    """

    def __init__(self, embedder: Embedder | None = None, index: IndexConfig | None = None, *,
                 vectors: FaissMemoryStore | None = None) -> None:
        self.vectors_store = vectors if vectors is not None else FaissMemoryStore(embedder, index)
        self.embedder = self.vectors_store.embedder
        self._mutex = threading.RLock()
        self._n_helpers = sum(FIELD_SEPARATOR in i for i in self.vectors_store.ids())

    # ------------------------------------------------------------------ writes
    def add(self, items: Sequence[MemoryItem], vectors: np.ndarray | None = None) -> list[str]:
        """Add new items with one vector each (their intent's, or the given rows).

        >>> from memplay.memory import HashEmbedder
        >>> MultiVectorStore(HashEmbedder(16)).add([MemoryItem(id="a", intent="x")])
        ['a']
        """
        _check_ids([it.id for it in items])
        with self._mutex:
            return self.vectors_store.add(items, vectors)

    def put(self, item: MemoryItem, fields: Sequence[tuple[str, str]],
            vectors: np.ndarray | None = None) -> MemoryItem:
        """Insert or replace ``item`` with one vector per ``(path, text)`` field.

        The item's intent becomes its first field's text; with no fields it keeps its intent
        but no search finds it. ``vectors`` (one row per field) skip the embedder. The item is
        stored as given: carry its learned Q and counts over yourself when replacing.

        >>> from memplay.memory import HashEmbedder
        >>> store = MultiVectorStore(HashEmbedder(16))
        >>> store.put(MemoryItem(id="a", intent="kept", q=0.5), []).q
        0.5
        >>> store.search(["kept"], k=1)
        [[]]
        """
        _check_ids([item.id])
        texts = [text for _, text in fields]
        vecs = self.embedder.embed(texts) if vectors is None else np.asarray(vectors)
        if len(vecs) != len(fields):
            raise ConfigError(f"put() got {len(fields)} fields but {len(vecs)} vectors; pass "
                              "one vector per field, or vectors=None to embed the texts")
        head = item.model_copy(update={
            "intent": texts[0] if texts else item.intent,
            "metadata": {**item.metadata, _META: {"paths": [p for p, _ in fields]}}})
        helpers = [MemoryItem(id=f"{item.id}{FIELD_SEPARATOR}{n}", intent=text,
                              metadata={_META: {"of": item.id, "path": path}})
                   for n, (path, text) in enumerate(fields[1:], start=1)]
        own = vecs[:1] if texts else np.zeros((1, self.embedder.dim), dtype=np.float32)
        with self._mutex:
            self.delete([item.id])
            self.vectors_store.add([head, *helpers], np.vstack([own, vecs[1:]]))
            self._n_helpers += len(helpers)
        return head

    def update(self, item_id: str, **fields: Any) -> MemoryItem:
        """Change fields of one item; a new intent replaces all its vectors by that one.

        >>> from memplay.memory import HashEmbedder
        >>> store = MultiVectorStore(HashEmbedder(16))
        >>> _ = store.put(MemoryItem(id="a", intent=""), [("x", "one"), ("y", "two")])
        >>> store.update("a", intent="three").intent, store.paths("a")
        ('three', ['intent'])
        """
        with self._mutex:
            old = self.get([item_id])[0]
            if "metadata" in fields and _META in old.metadata:
                fields["metadata"] = {**fields["metadata"], _META: old.metadata[_META]}
            new = self.vectors_store.update(item_id, **fields)
            if new.intent == old.intent:
                return new
            self._drop_helpers(old)
            return self.vectors_store.update(
                item_id, metadata={**new.metadata, _META: {"paths": ["intent"]}})

    def delete(self, ids: Sequence[str]) -> int:
        """Delete items (and all their vectors); unknown ids are ignored.

        >>> from memplay.memory import HashEmbedder
        >>> store = MultiVectorStore(HashEmbedder(16))
        >>> _ = store.put(MemoryItem(id="a", intent=""), [("x", "one"), ("y", "two")])
        >>> store.delete(["a", "b"]), len(store), len(store.vectors_store)
        (1, 0, 0)
        """
        with self._mutex:
            present = [i for i in dict.fromkeys(ids) if i in self]
            for item in self.vectors_store.get(present):
                self._drop_helpers(item)
            return self.vectors_store.delete(present)

    def _drop_helpers(self, item: MemoryItem) -> None:
        helpers = [f"{item.id}{FIELD_SEPARATOR}{n}" for n in range(1, len(self.paths(item)))]
        self._n_helpers -= self.vectors_store.delete(helpers)

    # ------------------------------------------------------------------ reads
    def paths(self, item: str | MemoryItem) -> list[str]:
        """The field paths an item is indexed under, first one first ([] = not indexed).

        >>> from memplay.memory import HashEmbedder
        >>> store = MultiVectorStore(HashEmbedder(16))
        >>> _ = store.add([MemoryItem(id="a", intent="x")])
        >>> store.paths("a")
        ['intent']
        """
        head = self.get([item])[0] if isinstance(item, str) else item
        meta = head.metadata.get(_META)
        return list(meta["paths"]) if isinstance(meta, dict) else ["intent"]

    def get(self, ids: Sequence[str]) -> list[MemoryItem]:
        """Items by id, in order; an unknown id raises MemoryStoreError.

        >>> from memplay.memory import HashEmbedder
        >>> store = MultiVectorStore(HashEmbedder(16))
        >>> _ = store.add([MemoryItem(id="a", intent="x", q=0.5)])
        >>> store.get(["a"])[0].q
        0.5
        """
        hidden = [i for i in ids if FIELD_SEPARATOR in i]
        if hidden:
            raise MemoryStoreError(f"no item with id {hidden[0]!r} in this store ({len(self)} "
                                   "items); ids with \\x1f name field vectors, not items")
        return self.vectors_store.get(ids)

    def search(self, queries: Query, k: int = 5, *, min_similarity: float | None = None,
               where: ItemFilter | None = None) -> list[list[Hit]]:
        """Up to ``k`` distinct items per query, each scored by its best vector.

        >>> from memplay.memory import HashEmbedder
        >>> store = MultiVectorStore(HashEmbedder(64))
        >>> _ = store.put(MemoryItem(id="a", intent=""), [("x", "red door"), ("y", "blue sky")])
        >>> _ = store.put(MemoryItem(id="b", intent=""), [("x", "blue skies")])
        >>> [(h.item.id, round(h.similarity, 2)) for h in store.search(["blue sky"], k=5)[0]]
        [('a', 1.0), ('b', 0.57)]
        """
        if k < 1:
            raise ConfigError(f"search k={k} must be >= 1 (e.g. k=5)")
        if isinstance(queries, str):
            raise ConfigError(f"search() takes a list of queries, got the string "
                              f"{queries[:40]!r}; wrap it: search([query])")
        vecs = queries if isinstance(queries, np.ndarray) else self.embedder.embed(list(queries))

        def accept(entry: MemoryItem) -> bool:
            owner = self._owner(entry)
            return owner is not None and (where is None or where(owner))

        with self._mutex:
            depth = k if self._n_helpers == 0 else 4 * k
            while True:
                raw = self.vectors_store.search(vecs, k=depth, min_similarity=min_similarity,
                                                where=accept)
                pools = [self._pool(hits, k) for hits in raw]
                if all(len(p) == k or len(h) < depth for p, h in zip(pools, raw)):
                    return pools
                depth *= 4

    def _owner(self, entry: MemoryItem) -> MemoryItem | None:
        """The item a stored vector belongs to; None for the zero vector of an unindexed item."""
        meta = entry.metadata.get(_META)
        if isinstance(meta, dict) and "of" in meta:
            return self.vectors_store.get([meta["of"]])[0]
        return entry if self.paths(entry) else None

    def _pool(self, hits: list[Hit], k: int) -> list[Hit]:
        pooled: dict[str, Hit] = {}  # hits come best first, so the first per item is its max
        for hit in hits:
            owner = self._owner(hit.item)
            if owner is not None and owner.id not in pooled:
                pooled[owner.id] = Hit(owner, hit.similarity)
            if len(pooled) == k:
                break
        return list(pooled.values())

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """Each item's first vector (its intent's; zeros for an unindexed item).

        >>> from memplay.memory import HashEmbedder
        >>> store = MultiVectorStore(HashEmbedder(16))
        >>> _ = store.add([MemoryItem(id="a", intent="x")])
        >>> store.vectors(["a"]).shape
        (1, 16)
        """
        self.get(ids)
        return self.vectors_store.vectors(ids)

    def ids(self) -> list[str]:
        """Item ids in insertion order (a replaced item counts as inserted anew).

        >>> from memplay.memory import HashEmbedder
        >>> store = MultiVectorStore(HashEmbedder(16))
        >>> _ = store.put(MemoryItem(id="a", intent=""), [("x", "one"), ("y", "two")])
        >>> store.ids()
        ['a']
        """
        return [i for i in self.vectors_store.ids() if FIELD_SEPARATOR not in i]

    def __len__(self) -> int:
        return len(self.vectors_store) - self._n_helpers

    def __contains__(self, item_id: object) -> bool:
        return (isinstance(item_id, str) and FIELD_SEPARATOR not in item_id
                and item_id in self.vectors_store)

    # ------------------------------------------------------------------ files
    def save(self, directory: str | Path) -> Path:
        """Save as the underlying FaissMemoryStore directory (helper entries included)."""
        with self._mutex:
            return self.vectors_store.save(directory)

    @classmethod
    def load(cls, directory: str | Path, embedder: Embedder | None = None) -> MultiVectorStore:
        """Read a directory written by :meth:`save` (or by a FaissMemoryStore).

        >>> import tempfile, pathlib
        >>> from memplay.memory import HashEmbedder
        >>> run = pathlib.Path(tempfile.mkdtemp())
        >>> with MultiVectorStore(HashEmbedder(16)) as store:
        ...     _ = store.put(MemoryItem(id="a", intent="", q=1.0), [("x", "1"), ("y", "2")])
        ...     _ = store.save(run / "memory")
        >>> loaded = MultiVectorStore.load(run / "memory")
        >>> loaded.get(["a"])[0].q, loaded.paths("a"), len(loaded)
        (1.0, ['x', 'y'], 1)
        """
        return cls(vectors=FaissMemoryStore.load(directory, embedder))

    def close(self) -> None:
        """Release the directory write lock taken by :meth:`save`."""
        self.vectors_store.close()


def _check_ids(ids: Sequence[str]) -> None:
    bad = [i for i in ids if FIELD_SEPARATOR in i]
    if bad:
        raise ConfigError(f"item id {bad[0]!r} contains \\x1f, which MultiVectorStore reserves "
                          "for field vectors; choose an id without it")
