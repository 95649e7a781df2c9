"""How a LangGraph item (namespace, key, value) is kept as one memplay :class:`MemoryItem`.

The item's id is :func:`item_id`; its value, namespace, key, last-put time and TTL sit in
``metadata["langgraph"]`` and come back unchanged; its learned Q-value and counts are the
MemoryItem's own fields, read as :class:`ItemStats`. ``value["experience"]``, ``["kind"]`` and
``["env_id"]`` (when present) fill the MemoryItem fields MemRL prompts and filters use.

    >>> from datetime import datetime, timezone
    >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> head = memory_item(("ns",), "k", {"text": "hi"}, None, [("text", "hi")], now, None)
    >>> head.id, head.intent, to_item(head).value
    ('["ns", "k"]', 'hi', {'text': 'hi'})
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from langgraph.store.base import Item, SearchItem

from memplay.memory.item import MemoryItem, MemoryKind
from memplay.memory.langgraph_ttl import ttl_fields

__all__ = ["ItemStats", "item_id", "memory_item", "put_time", "to_item", "to_search_item"]

META = "langgraph"


@dataclass(frozen=True)
class ItemStats:
    """What memory has learned about one LangGraph item (MemRL's Q and its counts).

    >>> ItemStats.of(MemoryItem(id="x", intent="", q=0.3, visits=1, successes=1))
    ItemStats(memory_id='x', q=0.3, visits=1, successes=1, failures=0)
    """

    memory_id: str
    q: float
    visits: int
    successes: int
    failures: int

    @classmethod
    def of(cls, head: MemoryItem) -> ItemStats:
        """The statistics of a memory item."""
        return cls(head.id, head.q, head.visits, head.successes, head.failures)


def item_id(namespace: tuple[str, ...], key: str) -> str:
    """The memory item id of a LangGraph (namespace, key): JSON, so never ambiguous.

    >>> item_id(("a", "b"), "k")
    '["a", "b", "k"]'
    """
    return json.dumps([*namespace, key])


def memory_item(namespace: tuple[str, ...], key: str, value: Mapping[str, Any],
                old: MemoryItem | None, fields: list[tuple[str, str]], now: datetime,
                ttl: float | None) -> MemoryItem:
    """The MemoryItem for a put; replacing ``old`` keeps its learned statistics and creation time.

    Its intent is the first indexed field's text ("" when nothing is indexed).
    """
    meta = {"namespace": list(namespace), "key": key, "value": copy.deepcopy(dict(value)),
            "updated_at": now.isoformat(), **ttl_fields(ttl, now)}
    kind = value.get("kind")
    return MemoryItem.model_validate({
        **(old.model_dump() if old is not None else {"created_at": now}),
        "id": item_id(namespace, key), "intent": fields[0][1] if fields else "",
        "experience": str(value.get("experience", "")),
        "kind": kind if kind in get_args(MemoryKind) else "experience",
        "env_id": str(value.get("env_id", "")), "updated_at": now,
        "metadata": {**(old.metadata if old is not None else {}), META: meta}})


def put_time(head: MemoryItem) -> datetime:
    """When the item's value was last put (learning Q does not change it)."""
    stamp = head.metadata[META].get("updated_at")
    return datetime.fromisoformat(stamp) if stamp else head.updated_at


def to_item(head: MemoryItem) -> Item:
    """The LangGraph Item of a memory item: the value as put (a copy), and its times."""
    meta = head.metadata[META]
    return Item(namespace=tuple(meta["namespace"]), key=meta["key"],
                value=copy.deepcopy(meta["value"]), created_at=head.created_at,
                updated_at=put_time(head))


def to_search_item(head: MemoryItem, score: float | None) -> SearchItem:
    """The LangGraph SearchItem of a memory item with its search score."""
    item = to_item(head)
    return SearchItem(item.namespace, item.key, item.value, item.created_at, item.updated_at,
                      score)
