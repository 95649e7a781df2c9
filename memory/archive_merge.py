"""How an imported memory combines with one already in the store (same id or same intent).

Both copies learned from real episodes, so their statistics add up: visits, successes and
failures are summed and Q becomes the visit-weighted mean; the experience text and metadata
of the more recently updated copy win.

    >>> from memplay.memory.item import MemoryItem
    >>> a = MemoryItem(id="x", intent="t", q=1.0, visits=1)
    >>> b = MemoryItem(id="x", intent="t", q=0.0, visits=3)
    >>> m = merge_items(a, b)
    >>> m.q, m.visits
    (0.25, 4)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from memplay.memory.item import MemoryItem
from memplay.memory.store import MemoryStore

__all__ = ["merge_into_store", "merge_items"]


def merge_items(existing: MemoryItem, incoming: MemoryItem) -> MemoryItem:
    """Combine two copies of one memory; the result keeps ``existing.id``.

    >>> merge_items(MemoryItem(id="a", intent="t"), MemoryItem(id="b", intent="t")).id
    'a'
    """
    visits = existing.visits + incoming.visits
    q = ((existing.q * existing.visits + incoming.q * incoming.visits) / visits if visits
         else existing.q)
    newer, older = ((incoming, existing) if incoming.updated_at > existing.updated_at
                    else (existing, incoming))
    return existing.model_copy(update={
        "q": q, "visits": visits,
        "successes": existing.successes + incoming.successes,
        "failures": existing.failures + incoming.failures,
        "experience": newer.experience or older.experience,
        "metadata": {**older.metadata, **newer.metadata},
        "created_at": min(existing.created_at, incoming.created_at),
        "updated_at": max(existing.updated_at, incoming.updated_at),
    })


def merge_into_store(store: MemoryStore, items: Sequence[MemoryItem],
                     vectors: np.ndarray | None) -> tuple[int, int]:
    """Add ``items`` to ``store``, merging on id or (kind, intent) collisions.

    ``vectors`` are the items' intent vectors in the store's embedding space, or None to
    re-embed. Returns ``(added, merged)``.

    >>> from memplay.memory import FaissMemoryStore, HashEmbedder
    >>> store = FaissMemoryStore(HashEmbedder(16))
    >>> _ = store.add([MemoryItem(id="a", intent="x", q=1.0, visits=1)])
    >>> merge_into_store(store, [MemoryItem(id="b", intent="x", q=0.0, visits=1),
    ...                          MemoryItem(id="c", intent="y")], None)
    (1, 1)
    >>> store.get(["a"])[0].q
    0.5
    """
    by_intent = {(it.kind, it.intent): it.id for it in store.items()}
    fresh: list[int] = []
    merged = 0
    for row, item in enumerate(items):
        target = item.id if item.id in store else by_intent.get((item.kind, item.intent))
        if target is None:
            fresh.append(row)
            continue
        combined = merge_items(store.get([target])[0], item)
        store.update(target, **combined.model_dump(exclude={"id", "intent"}))
        merged += 1
    fresh = _drop_repeats(items, fresh)
    store.add([items[r] for r in fresh], None if vectors is None else vectors[fresh])
    return len(fresh), merged


def _drop_repeats(items: Sequence[MemoryItem], rows: list[int]) -> list[int]:
    # An archive never repeats an id, but a hand-made one might: keep the first copy.
    seen: set[str] = set()
    keep = []
    for r in rows:
        if items[r].id not in seen:
            seen.add(items[r].id)
            keep.append(r)
    return keep
