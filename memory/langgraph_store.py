"""A LangGraph ``BaseStore`` backed by the FAISS memory store, with Q-values in the values.

LangGraph users can hand :class:`MemplayStore` to ``graph.compile(store=...)`` and use
``store.put`` / ``store.search`` as usual; memplay keeps learning on the same items (run a
:class:`~memplay.memory.retrieval.MemRLRetriever` over ``store.memory``). Every returned value
carries a ``"memplay"`` entry with the item's ``q``, ``visits``, ``successes``, ``failures`` and
``id``, so a graph node can see (and rank by) what memory has learned.

The text embedded for an item is ``value["intent"]``, else ``value["text"]``, else
``value["content"]``, else the fields named by ``index=[...]`` in ``put``, else the value as
JSON.

    >>> from memplay.memory import HashEmbedder
    >>> store = MemplayStore(embedder=HashEmbedder(64))
    >>> store.put(("runs", "alfworld"), "m1", {"intent": "heat an egg", "experience": "..."})
    >>> hit = store.search(("runs",), query="heat the egg")[0]
    >>> hit.key, hit.value["memplay"]["q"]
    ('m1', 0.0)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from typing import Any, get_args

from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    get_text_at_path,
)

from memplay.errors import ConfigError
from memplay.memory.embedders import Embedder
from memplay.memory.faiss_store import FaissMemoryStore
from memplay.memory.item import MemoryItem, MemoryKind

__all__ = ["MemplayStore", "matches_filter"]

_TEXT_KEYS = ("intent", "text", "content")
_OPS = {"$eq": lambda a, b: a == b, "$ne": lambda a, b: a != b, "$gt": lambda a, b: a > b,
        "$gte": lambda a, b: a >= b, "$lt": lambda a, b: a < b, "$lte": lambda a, b: a <= b}


def matches_filter(value: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    """LangGraph filter semantics: exact matches or ``{"$gt": x}``-style operators.

    >>> matches_filter({"q": 0.5, "env": "a"}, {"env": "a", "q": {"$gte": 0.5}})
    True
    """
    for key, want in (flt or {}).items():
        got = value.get(key)
        if isinstance(want, dict) and want and all(k in _OPS for k in want):
            try:
                if not all(_OPS[op](got, arg) for op, arg in want.items()):
                    return False
            except TypeError:  # comparing e.g. None with a number: not a match
                return False
        elif got != want:
            return False
    return True


def _namespace_matches(ns: tuple[str, ...], cond: MatchCondition) -> bool:
    path = tuple(cond.path)
    if len(path) > len(ns):
        return False
    part = ns[: len(path)] if cond.match_type == "prefix" else ns[len(ns) - len(path):]
    return all(p == "*" or p == n for p, n in zip(path, part))


class MemplayStore(BaseStore):
    """LangGraph store over a :class:`FaissMemoryStore` (see the module docstring).

    >>> from memplay.memory import HashEmbedder
    >>> store = MemplayStore(embedder=HashEmbedder(32))
    >>> store.put(("ns",), "k", {"text": "hello"})
    >>> store.get(("ns",), "k").value["text"], len(store.memory)
    ('hello', 1)
    """

    supports_ttl = False

    def __init__(self, memory: FaissMemoryStore | None = None, *,
                 embedder: Embedder | None = None) -> None:
        self.memory = memory if memory is not None else FaissMemoryStore(embedder)

    # ------------------------------------------------------------------ batch API
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run LangGraph operations in order (Get, Put, Search, ListNamespaces).

        >>> from langgraph.store.base import GetOp, PutOp
        >>> from memplay.memory import HashEmbedder
        >>> store = MemplayStore(embedder=HashEmbedder(32))
        >>> out = store.batch([PutOp(("ns",), "k", {"text": "hi"}), GetOp(("ns",), "k")])
        >>> out[0], out[1].key
        (None, 'k')
        """
        results: list[Result] = []
        for op in ops:
            if isinstance(op, GetOp):
                results.append(self._get(op))
            elif isinstance(op, PutOp):
                self._put(op)
                results.append(None)
            elif isinstance(op, SearchOp):
                results.append(self._search(op))
            elif isinstance(op, ListNamespacesOp):
                results.append(self._list_namespaces(op))
            else:
                raise ConfigError(f"unsupported LangGraph store operation {type(op).__name__}; "
                                  "use GetOp, PutOp, SearchOp or ListNamespacesOp")
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async :meth:`batch`, run in a worker thread (FAISS calls release the GIL)."""
        return await asyncio.get_running_loop().run_in_executor(None, self.batch, list(ops))

    # ------------------------------------------------------------------ mapping
    @staticmethod
    def item_id(namespace: tuple[str, ...], key: str) -> str:
        """The memory item id used for a LangGraph (namespace, key).

        >>> MemplayStore.item_id(("a", "b"), "k")
        '["a", "b", "k"]'
        """
        return json.dumps([*namespace, key])

    def _fields(self, item: MemoryItem) -> dict[str, Any]:
        meta = item.metadata["langgraph"]
        value = {**meta["value"], "memplay": {
            "id": item.id, "q": item.q, "visits": item.visits, "successes": item.successes,
            "failures": item.failures}}
        return {"namespace": tuple(meta["namespace"]), "key": meta["key"], "value": value,
                "created_at": item.created_at, "updated_at": item.updated_at}

    def _to_item(self, item: MemoryItem) -> Item:
        return Item(**self._fields(item))

    def _to_search_item(self, item: MemoryItem, score: float | None) -> SearchItem:
        return SearchItem(**self._fields(item), score=score)

    def _get(self, op: GetOp) -> Item | None:
        item_id = self.item_id(op.namespace, op.key)
        return self._to_item(self.memory.get([item_id])[0]) if item_id in self.memory else None

    def _put(self, op: PutOp) -> None:
        item_id = self.item_id(op.namespace, op.key)
        if op.value is None:
            self.memory.delete([item_id])
            return None
        fields = _fields_from_value(op.namespace, op.key, op.value, op.index)
        if item_id in self.memory:
            self.memory.update(item_id, **fields)  # keeps the learned Q of this slot
        else:
            self.memory.add([MemoryItem(id=item_id, **fields)])
        return None

    def _in_scope(self, item: MemoryItem, op: SearchOp) -> bool:
        meta = item.metadata.get("langgraph")
        if meta is None:
            return False
        ns = tuple(meta["namespace"])
        return ns[: len(op.namespace_prefix)] == op.namespace_prefix and matches_filter(
            meta["value"], op.filter)

    def _search(self, op: SearchOp) -> list[SearchItem]:
        want = op.offset + op.limit
        if op.query is None:
            items = sorted((it for it in self.memory.items() if self._in_scope(it, op)),
                           key=lambda it: it.updated_at, reverse=True)
            return [self._to_search_item(it, None) for it in items[op.offset : want]]
        if not len(self.memory) or want == 0:
            return []
        hits = self.memory.search([op.query], k=want, where=lambda it: self._in_scope(it, op))
        return [self._to_search_item(h.item, h.similarity) for h in hits[0][op.offset :]]

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        found = set()
        for item in self.memory.items():
            meta = item.metadata.get("langgraph")
            if meta is None:
                continue
            ns = tuple(meta["namespace"])
            if all(_namespace_matches(ns, c) for c in op.match_conditions or ()):
                found.add(ns[: op.max_depth] if op.max_depth is not None else ns)
        return sorted(found)[op.offset : op.offset + op.limit]


def _fields_from_value(namespace: tuple[str, ...], key: str, value: Mapping[str, Any],
                       index: Any) -> dict[str, Any]:
    text = next((value[k] for k in _TEXT_KEYS if isinstance(value.get(k), str)), None)
    if text is None and isinstance(index, list) and index:
        text = " ".join(t for path in index for t in get_text_at_path(value, path))
    if text is None:
        text = json.dumps(value, sort_keys=True, default=str)
    kind = value.get("kind")
    return {
        "intent": text,
        "experience": str(value.get("experience", "")),
        "kind": kind if kind in get_args(MemoryKind) else "experience",
        "env_id": str(value.get("env_id", "")),
        "metadata": {"langgraph": {"namespace": list(namespace), "key": key,
                                   "value": dict(value)}},
    }
