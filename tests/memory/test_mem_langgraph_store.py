"""The LangGraph BaseStore adapter: CRUD, search, namespaces, Q-values, use inside a graph."""

from __future__ import annotations

import asyncio
from typing import TypedDict

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore

from memplay.memory import HashEmbedder, MemRLRetriever
from memplay.memory.langgraph_store import MemplayStore, matches_filter


@pytest.fixture
def store() -> MemplayStore:
    s = MemplayStore(embedder=HashEmbedder(128))
    s.put(("alfworld", "heat"), "a", {"intent": "heat an egg in the microwave", "env": "alf",
                                       "score": 3})
    s.put(("alfworld", "clean"), "b", {"intent": "wash the mug in the sink", "env": "alf",
                                        "score": 1})
    s.put(("grid", "lake"), "c", {"text": "frozen lake go right then down", "env": "grid"})
    s.put(("grid", "lake"), "d", {"title": "no text key", "body": "slide on ice"},
          index=["body"])
    return s


def test_get_put_update_delete(store: MemplayStore) -> None:
    item = store.get(("alfworld", "heat"), "a")
    assert item is not None and item.value["env"] == "alf" and item.key == "a"
    assert item.value["memplay"]["q"] == 0.0 and item.namespace == ("alfworld", "heat")
    assert store.get(("alfworld", "heat"), "missing") is None
    store.put(("alfworld", "heat"), "a", {"intent": "heat a potato", "env": "alf"})
    assert store.search(("alfworld",), query="heat a potato", limit=1)[0].key == "a"
    store.delete(("alfworld", "heat"), "a")
    assert store.get(("alfworld", "heat"), "a") is None and len(store.memory) == 3


def test_search_by_query_prefix_filter_and_paging(store: MemplayStore) -> None:
    hits = store.search(("alfworld",), query="wash a mug", limit=5)
    assert [h.key for h in hits] == ["b", "a"] and hits[0].score > hits[1].score
    assert [h.key for h in store.search((), query="ice", filter={"env": "grid"})] == ["c"]
    assert [h.key for h in store.search((), filter={"score": {"$gte": 2}})] == ["a"]
    assert len(store.search((), limit=2)) == 2 and len(store.search((), offset=3)) == 1
    assert store.search(("nothing",), query="x") == []


def test_index_fields_are_embedded(store: MemplayStore) -> None:
    assert store.search(("grid",), query="slide on ice", limit=1)[0].key == "d"


def test_list_namespaces(store: MemplayStore) -> None:
    assert store.list_namespaces() == [("alfworld", "clean"), ("alfworld", "heat"),
                                       ("grid", "lake")]
    assert store.list_namespaces(prefix=("alfworld",)) == [("alfworld", "clean"),
                                                           ("alfworld", "heat")]
    assert store.list_namespaces(suffix=("lake",)) == [("grid", "lake")]
    assert store.list_namespaces(prefix=("*", "heat")) == [("alfworld", "heat")]
    assert store.list_namespaces(max_depth=1) == [("alfworld",), ("grid",)]
    assert store.list_namespaces(limit=1, offset=1) == [("alfworld", "heat")]


def test_q_values_learned_by_memrl_show_in_values(store: MemplayStore) -> None:
    retriever = MemRLRetriever(store.memory)
    retriever.update_q([MemplayStore.item_id(("alfworld", "heat"), "a")], reward=1.0)
    item = store.get(("alfworld", "heat"), "a")
    assert item is not None and item.value["memplay"]["q"] == pytest.approx(0.3)
    assert item.value["memplay"]["visits"] == 1
    store.put(("alfworld", "heat"), "a", {"intent": "heat an egg", "env": "alf"})
    again = store.get(("alfworld", "heat"), "a")
    assert again is not None and again.value["memplay"]["q"] == pytest.approx(0.3)


def test_async_api(store: MemplayStore) -> None:
    async def run() -> tuple[object, list[object]]:
        await store.aput(("x",), "k", {"intent": "async memory"})
        return await store.aget(("x",), "k"), await store.asearch(("x",), query="async")

    item, hits = asyncio.run(run())
    assert item is not None and len(hits) == 1


def test_filter_semantics() -> None:
    assert matches_filter({"a": 1}, {"a": {"$ne": 2, "$lt": 5}})
    assert not matches_filter({"a": None}, {"a": {"$gt": 0}})
    assert not matches_filter({"a": 1}, {"a": 2}) and matches_filter({"a": 1}, None)


def test_works_as_the_store_of_a_langgraph_graph(store: MemplayStore) -> None:
    class State(TypedDict):
        goal: str
        recalled: str

    def recall(state: State, *, store: BaseStore) -> dict[str, str]:
        hits = store.search(("alfworld",), query=state["goal"], limit=1)
        store.put(("runs",), "last", {"intent": state["goal"]})
        return {"recalled": hits[0].key if hits else ""}

    graph = StateGraph(State)
    graph.add_node("recall", recall)
    graph.add_edge(START, "recall")
    graph.add_edge("recall", END)
    out = graph.compile(store=store).invoke({"goal": "heat the egg", "recalled": ""})
    assert out["recalled"] == "a" and store.get(("runs",), "last") is not None
