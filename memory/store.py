"""The memory store interface every backend implements, and the :class:`Hit` it returns.

A store keeps :class:`~memplay.memory.item.MemoryItem` objects, embeds their ``intent`` with its
embedder, and finds the nearest ones to a query. The conformance suite in
``tests/memory/test_mem_store_conformance.py`` checks any implementation against this contract::

    >>> from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem
    >>> store = FaissMemoryStore(HashEmbedder(64))
    >>> [item_id] = store.add([MemoryItem(id="m1", intent="open the red door")])
    >>> hit = store.search(["open the red door"], k=1)[0][0]
    >>> hit.item.id, round(hit.similarity, 3)
    ('m1', 1.0)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memplay.memory.embedders import Embedder
from memplay.memory.item import MemoryItem

__all__ = ["Hit", "ItemFilter", "MemoryStore", "Query"]

Query = Sequence[str] | np.ndarray
ItemFilter = Callable[[MemoryItem], bool]


@dataclass(frozen=True)
class Hit:
    """One search result: the item and its cosine similarity to the query.

    >>> Hit(MemoryItem(intent="x"), 0.5).similarity
    0.5
    """

    item: MemoryItem
    similarity: float


class MemoryStore(ABC):
    """Abstract episodic store: add, search, get, update, delete, save, load, len.

    >>> from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryStore
    >>> isinstance(FaissMemoryStore(HashEmbedder(16)), MemoryStore)
    True
    """

    embedder: Embedder

    @abstractmethod
    def add(self, items: Sequence[MemoryItem], vectors: np.ndarray | None = None) -> list[str]:
        """Add new items (ids must be new); embed their intents unless ``vectors`` are given."""

    @abstractmethod
    def search(self, queries: Query, k: int = 5, *, min_similarity: float | None = None,
               where: ItemFilter | None = None) -> list[list[Hit]]:
        """For each query (text or vector) return up to ``k`` hits, most similar first."""

    @abstractmethod
    def get(self, ids: Sequence[str]) -> list[MemoryItem]:
        """Return the items with these ids, in order; unknown ids raise MemoryStoreError."""

    @abstractmethod
    def update(self, item_id: str, **fields: Any) -> MemoryItem:
        """Change fields of one item (re-embedding if ``intent`` changes); return the new item."""

    @abstractmethod
    def delete(self, ids: Sequence[str]) -> int:
        """Delete items by id (unknown ids are ignored); return how many were deleted."""

    @abstractmethod
    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """Return the stored intent vectors of ``ids`` as an ``(n, dim)`` array."""

    @abstractmethod
    def ids(self) -> list[str]:
        """All item ids, in insertion order."""

    @abstractmethod
    def save(self, directory: str | Path) -> Path:
        """Write the store to ``directory`` atomically; return the directory."""

    @classmethod
    @abstractmethod
    def load(cls, directory: str | Path, embedder: Embedder | None = None) -> MemoryStore:
        """Read a store written by :meth:`save`."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of items."""

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, str) and item_id in set(self.ids())

    def items(self) -> Iterator[MemoryItem]:
        """Iterate over all items in insertion order."""
        ids = self.ids()
        yield from self.get(ids)

    def update_values(self, q_by_id: Mapping[str, float]) -> list[MemoryItem]:
        """Set the Q-values of several items at once; return the updated items."""
        return [self.update(item_id, q=q) for item_id, q in q_by_id.items()]

    def close(self) -> None:
        """Release resources such as a directory write lock (no-op by default)."""
        return None

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
