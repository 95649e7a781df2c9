"""MemplayStore keeps LangGraph's store contract and adds memplay's learning beside it.

Values round-trip unchanged, the index config is LangGraph's (embed object / function / async
function / memplay name, fields with JSON paths, put(index=False | [paths])), each indexed field
is its own vector, TTL expires and refreshes, and MemRL learns on the LangGraph items.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langchain_core.embeddings import Embeddings
from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore, GetOp, InvalidNamespaceError, PutOp, SearchOp
from langgraph.store.memory import InMemoryStore

import memplay.memory
from memplay.errors import ConfigError, MemoryStoreError
from memplay.memory import HashEmbedder, MemoryItem, MemRLRetriever, MultiVectorStore
from memplay.memory.langgraph_store import ItemStats, MemplayStore, matches_filter


class WordEmbeddings(Embeddings):
    """A LangChain Embeddings object (HashEmbedder underneath) that counts its calls."""

    def __init__(self, dims: int = 128) -> None:
        self.inner = HashEmbedder(dims)
        self.dims = dims
        self.documents: list[str] = []
        self.queries: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents.extend(texts)
        return [[float(x) for x in row] for row in self.inner.embed(texts)]

    def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        return [float(x) for x in self.inner.embed([text])[0]]


class Clock:
    """A settable clock for TTL tests."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


def index_of(emb: Embeddings, **extra: Any) -> dict[str, Any]:
    return {"dims": 128, "embed": emb, **extra}


@pytest.fixture
def store() -> MemplayStore:
    s = MemplayStore(index={"embed": HashEmbedder(128), "fields": ["intent", "text"]})
    s.put(("alfworld", "heat"), "a", {"intent": "heat an egg in the microwave", "env": "alf",
                                       "score": 3})
    s.put(("alfworld", "clean"), "b", {"intent": "wash the mug in the sink", "env": "alf",
                                        "score": 1})
    s.put(("grid", "lake"), "c", {"text": "frozen lake go right then down", "env": "grid"})
    s.put(("grid", "lake"), "d", {"title": "no text key", "body": "slide on ice"},
          index=["body"])
    return s


# ---------------------------------------------------------------------- values
def test_values_round_trip_unchanged(store: MemplayStore) -> None:
    value = {"intent": "heat an egg", "nested": {"list": [1, 2.5, None, "x"], "flag": True},
             "memplay": "a user key of that name is the user's"}
    store.put(("alfworld", "heat"), "a", value)
    item = store.get(("alfworld", "heat"), "a")
    assert item is not None and item.value == value
    hit = store.search(("alfworld", "heat"), query="heat an egg")[0]
    assert hit.value == value and set(hit.value) == set(value)
    assert [h.value for h in store.search(("alfworld", "heat"))] == [value]


def test_values_are_copied_in_and_out(store: MemplayStore) -> None:
    value: dict[str, Any] = {"intent": "x", "tags": ["a"]}
    store.put(("ns",), "k", value)
    value["tags"].append("changed after put")
    got = store.get(("ns",), "k")
    assert got is not None and got.value == {"intent": "x", "tags": ["a"]}
    got.value["tags"].append("changed by a reader")
    again = store.get(("ns",), "k")
    assert again is not None and again.value["tags"] == ["a"]


def test_get_put_update_delete(store: MemplayStore) -> None:
    assert store.get(("alfworld", "heat"), "missing") is None
    store.put(("alfworld", "heat"), "a", {"intent": "heat a potato", "env": "alf"})
    assert store.search(("alfworld",), query="heat a potato", limit=1)[0].key == "a"
    store.delete(("alfworld", "heat"), "a")
    assert store.get(("alfworld", "heat"), "a") is None and len(store.memory) == 3
    assert store.stats(("alfworld", "heat"), "a") is None


def test_created_at_kept_and_updated_at_moves_on_put_only(store: MemplayStore) -> None:
    first = store.get(("alfworld", "heat"), "a")
    MemRLRetriever(store.memory).update_q([store.item_id(("alfworld", "heat"), "a")], 1.0)
    learned = store.get(("alfworld", "heat"), "a")
    assert first is not None and learned is not None and learned == first
    store.put(("alfworld", "heat"), "a", {"intent": "heat an egg"})
    second = store.get(("alfworld", "heat"), "a")
    assert second is not None and second.created_at == first.created_at
    assert second.updated_at > first.updated_at


def test_ops_in_one_batch_run_in_order(store: MemplayStore) -> None:
    out = store.batch([PutOp(("n",), "k", {"text": "blue whale"}), GetOp(("n",), "k"),
                       SearchOp(("n",), query="blue whale"), PutOp(("n",), "k", None),
                       GetOp(("n",), "k")])
    assert out[0] is None and out[1] is not None and out[1].value == {"text": "blue whale"}
    assert [h.key for h in out[2]] == ["k"] and out[4] is None


def test_namespace_rules_are_langgraph_s(store: MemplayStore) -> None:
    with pytest.raises(InvalidNamespaceError):
        store.put(("langgraph", "x"), "k", {"text": "reserved root"})
    with pytest.raises(InvalidNamespaceError):
        store.put(("a.b",), "k", {"text": "dot in a label"})
    store.batch([PutOp(("langgraph", "x"), "k", {"text": "batch skips the check"})])
    assert store.get(("langgraph", "x"), "k") is not None


# ---------------------------------------------------------------------- search
def test_search_by_query_prefix_filter_and_paging(store: MemplayStore) -> None:
    hits = store.search(("alfworld",), query="wash a mug", limit=5)
    assert [h.key for h in hits] == ["b", "a"] and hits[0].score > hits[1].score
    assert [h.key for h in store.search(("grid",), query="ice", filter={"env": "grid"})] == ["c"]
    assert [h.key for h in store.search((), filter={"score": {"$gte": 2}})] == ["a"]
    assert len(store.search((), limit=2)) == 2 and len(store.search((), offset=3)) == 1
    assert store.search(("nothing",), query="x") == []
    assert len(store.search(["alfworld"])) == 2  # type: ignore[arg-type]  # a list prefix
    page1 = store.search((), query="heat the egg", limit=2)
    page2 = store.search((), query="heat the egg", limit=2, offset=2)
    assert len({h.key for h in page1 + page2}) == 4


def test_search_without_query_lists_most_recently_put_first(store: MemplayStore) -> None:
    assert [h.key for h in store.search(())] == ["d", "c", "b", "a"]
    store.put(("alfworld", "clean"), "b", {"intent": "wash it again"})
    assert [h.key for h in store.search(())] == ["b", "d", "c", "a"]
    assert all(h.score is None for h in store.search(()))


def test_filter_semantics() -> None:
    assert matches_filter({"a": 1}, {"a": {"$ne": 2, "$lt": 5}})
    assert not matches_filter({"a": None}, {"a": {"$gt": 0}})
    assert not matches_filter({"a": 1}, {"a": 2}) and matches_filter({"a": 1}, None)
    nested = {"meta": {"lang": "en", "n": 2}, "tags": ["x", "y"]}
    assert matches_filter(nested, {"meta": {"lang": "en"}})  # a nested dict matches by subset
    assert not matches_filter(nested, {"meta": {"lang": "fr"}})
    assert matches_filter(nested, {"tags": ["x", "y"]}) and not matches_filter(nested,
                                                                              {"tags": ["x"]})
    assert matches_filter(nested, {"meta.n": {"$gt": 1}})  # dotted keys reach nested values
    assert not matches_filter(nested, {"meta.lang.x": "en"})
    assert matches_filter({"a.b": 1, "a": {"b": 2}}, {"a.b": 1})  # a literal key wins
    with pytest.raises(ConfigError, match=r"\$like"):
        matches_filter({"a": 1}, {"a": {"$like": 1}})


def test_list_namespaces(store: MemplayStore) -> None:
    assert store.list_namespaces() == [("alfworld", "clean"), ("alfworld", "heat"),
                                       ("grid", "lake")]
    assert store.list_namespaces(prefix=("alfworld",)) == [("alfworld", "clean"),
                                                           ("alfworld", "heat")]
    assert store.list_namespaces(suffix=("lake",)) == [("grid", "lake")]
    assert store.list_namespaces(prefix=("*", "heat")) == [("alfworld", "heat")]
    assert store.list_namespaces(max_depth=1) == [("alfworld",), ("grid",)]
    assert store.list_namespaces(limit=1, offset=1) == [("alfworld", "heat")]


# ---------------------------------------------------------------------- indexing
def test_index_false_is_never_embedded() -> None:
    emb = WordEmbeddings()
    store = MemplayStore(index=index_of(emb))
    store.put(("docs",), "one", {"text": "red apple"})
    store.put(("docs",), "two", {"text": "red apple pie"}, index=False)
    assert emb.documents == ['{"text": "red apple"}'] and len(store.memory.vectors_store) == 2
    hits = store.search(("docs",), query="red apple pie", limit=1)
    assert [h.key for h in hits] == ["one"]
    fill = store.search(("docs",), query="red apple pie")  # LangGraph fills with unscored items
    assert [(h.key, h.score is None) for h in fill] == [("one", False), ("two", True)]
    assert [r.item.id for r in MemRLRetriever(store.memory).retrieve(
        "red apple pie", delta=-1.0, k1=5, k2=5)] == [store.item_id(("docs",), "one")]


def test_each_indexed_field_is_its_own_vector() -> None:
    store = MemplayStore(index={"embed": HashEmbedder(128), "fields": ["title", "tags[*]"]})
    store.put(("books",), "dune", {"title": "Dune", "tags": ["desert planet", "spice"]})
    store.put(("books",), "emma", {"title": "Emma", "tags": ["matchmaking"]})
    memory_id = store.item_id(("books",), "dune")
    assert store.memory.paths(memory_id) == ["title", "tags[*].0", "tags[*].1"]
    assert len(store.memory) == 2 and len(store.memory.vectors_store) == 5
    hits = store.search(("books",), query="spice")
    assert [h.key for h in hits] == ["dune", "emma"]  # found by its best field, once
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    store.put(("books",), "dune", {"title": "Dune"})  # fewer fields: old vectors go
    assert len(store.memory.vectors_store) == 3


def test_put_index_paths_override_the_configured_fields() -> None:
    store = MemplayStore(index={"embed": HashEmbedder(128), "fields": ["missing"]})
    store.put(("t",), "x", {"a": "alpha centauri", "b": "bravo"}, index=["a"])
    store.put(("t",), "y", {"a": "other", "b": "alpha centauri"}, index=["b"])
    store.put(("t",), "z", {"a": "alpha centauri"})  # no configured field present
    hits = store.search(("t",), query="alpha centauri")
    assert {h.key for h in hits[:2]} == {"x", "y"}
    assert all(h.score == pytest.approx(1.0, abs=1e-5) for h in hits[:2])
    assert hits[2].key == "z" and hits[2].score is None
    with pytest.raises(ConfigError, match="index"):
        store.put(("t",), "bad", {"a": "x"}, index="a")  # type: ignore[arg-type]


def test_json_paths_nested_wildcard_and_multi_field() -> None:
    store = MemplayStore(index={"embed": "hash", "dims": 128,
                                "fields": ["meta.title", "steps[*].say", "{x,y}"]})
    value = {"meta": {"title": "kitchen"}, "steps": [{"say": "open fridge"}, {"say": "take egg"}],
             "x": "ex", "y": "why"}
    store.put(("p",), "k", value)
    assert store.memory.paths(store.item_id(("p",), "k")) == [
        "meta.title", "steps[*].say.0", "steps[*].say.1", "{x,y}.0", "{x,y}.1"]
    assert store.search(("p",), query="take egg")[0].score == pytest.approx(1.0, abs=1e-5)
    assert store.get(("p",), "k").value == value  # type: ignore[union-attr]


def test_same_keys_and_scores_as_langgraph_inmemorystore() -> None:
    config = {"dims": 128, "embed": WordEmbeddings(), "fields": ["text", "notes[*]"]}
    ours, theirs = MemplayStore(index=config), InMemoryStore(index=config)  # type: ignore[arg-type]
    puts: list[tuple[tuple[str, ...], str, dict[str, Any], Any]] = [
        (("a",), "1", {"text": "red apple", "notes": ["crunchy", "sweet fruit"]}, None),
        (("a",), "2", {"text": "green car", "notes": ["fast"]}, None),
        (("a", "b"), "3", {"text": "blue sky over the sea"}, None),
        (("a",), "4", {"text": "ignored", "body": "yellow banana"}, ["body"]),
        (("a",), "5", {"text": "red apple pie"}, False),
    ]
    for s in (ours, theirs):
        for ns, key, value, index in puts:
            s.put(ns, key, value, index=index)
    for query, prefix, flt in [("sweet", ("a",), None), ("banana", ("a",), None),
                               ("red apple", ("a",), {"text": {"$ne": "green car"}}),
                               ("sky", ("a", "b"), None)]:
        got = ours.search(prefix, query=query, filter=flt, limit=10)
        want = theirs.search(prefix, query=query, filter=flt, limit=10)
        assert rounded_scores(got) == rounded_scores(want), query  # same items, same scores
        scores = [h.score for h in got if h.score is not None]
        assert scores == sorted(scores, reverse=True)  # so the same order, up to ties
        assert [h.key for h in got if h.score is None] == [h.key for h in want
                                                          if h.score is None]
        assert {h.key: h.value for h in got} == {h.key: h.value for h in want}


def rounded_scores(hits: Sequence[Any]) -> dict[str, float | None]:
    return {h.key: None if h.score is None else round(h.score, 4) for h in hits}


# ---------------------------------------------------------------------- index configuration
def test_index_config_accepts_langgraph_s_forms() -> None:
    emb = WordEmbeddings()

    def embed_fn(texts: Sequence[str]) -> list[list[float]]:
        return emb.embed_documents(list(texts))

    for embed in (emb, embed_fn, "hash", HashEmbedder(128)):
        store = MemplayStore(index={"dims": 128, "embed": embed, "fields": ["text"]})
        store.put(("n",), "k", {"text": "violet"})
        store.put(("n",), "j", {"text": "orange"})
        assert [h.key for h in store.search(("n",), query="violet")] == ["k", "j"], embed
        assert store.index_config["embed"] is embed and store.index_config["dims"] == 128
    assert "violet" in emb.queries  # LangChain objects embed queries with embed_query
    assert MemplayStore(index=index_of(emb)).embeddings is emb  # as InMemoryStore.embeddings
    hashed = MemplayStore(index={"embed": "hash", "dims": 16}).embeddings
    assert isinstance(hashed, Embeddings) and len(hashed.embed_query("x")) == 16


def test_async_embed_function_serves_the_async_api() -> None:
    inner = HashEmbedder(64)

    async def aembed(texts: Sequence[str]) -> list[list[float]]:
        return inner.embed(list(texts)).tolist()

    store = MemplayStore(index={"dims": 64, "embed": aembed})

    async def run() -> list[str]:
        await store.aput(("n",), "k", {"text": "async violet"})
        await store.aput(("n",), "j", {"text": "something else"})
        return [h.key for h in await store.asearch(("n",), query="async violet")]

    assert asyncio.run(run()) == ["k", "j"]
    with pytest.raises(ConfigError, match="async"):
        store.put(("n",), "x", {"text": "sync put with an async embed"})
    assert store.get(("n",), "k") is not None  # reading needs no embedding


def test_bad_index_configs_name_the_fix() -> None:
    with pytest.raises(ConfigError, match="dims"):
        MemplayStore(index={"embed": lambda texts: [[1.0] for _ in texts]})
    with pytest.raises(ConfigError, match="dims"):
        MemplayStore(index={"dims": 32, "embed": HashEmbedder(64)})
    with pytest.raises(ConfigError, match="'field'"):
        MemplayStore(index={"embed": "hash", "field": ["text"]})
    with pytest.raises(ConfigError, match="both"):
        MemplayStore(index={"embed": "hash"}, embedder=HashEmbedder(64))
    with pytest.raises(ConfigError, match="fields"):
        MemplayStore(index={"embed": "hash", "fields": "text"})
    with pytest.raises(ConfigError, match="'default'"):
        MemplayStore(index={"dims": 8, "embed": "no-such-provider:model"})
    with pytest.raises(ConfigError, match="q_weight"):
        MemplayStore(index={"embed": "hash"}, q_weight=float("nan"))
    wrong = MemplayStore(index={"dims": 3, "embed": lambda texts: [[1.0, 0.0] for _ in texts]})
    with pytest.raises(ConfigError, match="set dims to 2"):
        wrong.put(("n",), "k", {"text": "x"})


# ---------------------------------------------------------------------- learning
def test_q_values_learned_by_memrl_show_in_stats(store: MemplayStore) -> None:
    retriever = MemRLRetriever(store.memory)
    retriever.update_q([MemplayStore.item_id(("alfworld", "heat"), "a")], reward=1.0)
    assert store.stats(("alfworld", "heat"), "a") == ItemStats(
        memory_id='["alfworld", "heat", "a"]', q=pytest.approx(0.3), visits=1, successes=1,
        failures=0)
    item = store.get(("alfworld", "heat"), "a")
    assert item is not None and "memplay" not in item.value
    store.put(("alfworld", "heat"), "a", {"intent": "heat an egg", "env": "alf"})
    again = store.stats(("alfworld", "heat"), "a")
    assert again is not None and again.q == pytest.approx(0.3) and again.visits == 1


def test_memrl_learns_on_items_with_many_field_vectors() -> None:
    store = MemplayStore(index={"embed": HashEmbedder(128), "fields": ["goal", "steps[*]"]})
    for key, steps in [("good", ["open the fridge", "take the egg"]),
                       ("bad", ["open the fridge", "take the milk"])]:
        store.put(("plans",), key, {"goal": "get an egg from the fridge", "steps": steps,
                                    "experience": f"{key} plan"})
    retriever = MemRLRetriever(store.memory)
    pool = retriever.retrieve("open the fridge", k1=5, k2=5, delta=0.0)
    ids = [r.item.id for r in pool]
    assert sorted(ids) == sorted({store.item_id(("plans",), k) for k in ("good", "bad")})
    for _ in range(3):
        retriever.update_q([store.item_id(("plans",), "good")], reward=1.0)
        retriever.update_q([store.item_id(("plans",), "bad")], reward=-1.0)
    best = retriever.retrieve("open the fridge", k1=5, k2=1, delta=0.0, lam=0.9)[0]
    assert best.item.id == store.item_id(("plans",), "good")
    assert best.item.experience == "good plan"
    good, bad = store.stats(("plans",), "good"), store.stats(("plans",), "bad")
    assert good is not None and bad is not None and good.q > 0 > bad.q


def test_q_weight_lets_learned_values_move_the_search_score() -> None:
    plain = MemplayStore(index={"embed": "hash", "dims": 128, "fields": ["text"]})
    ranked = MemplayStore(plain.memory, index={"embed": "hash", "dims": 128, "fields": ["text"]},
                          q_weight=1.0)
    plain.put(("n",), "close", {"text": "heat the egg"})
    plain.put(("n",), "far", {"text": "heat an egg quickly"})
    MemRLRetriever(plain.memory).update_q([plain.item_id(("n",), "far")], reward=1.0,
                                          alpha=1.0)
    assert [h.key for h in plain.search(("n",), query="heat the egg")] == ["close", "far"]
    hits = ranked.search(("n",), query="heat the egg")
    assert [h.key for h in hits] == ["far", "close"]
    far_sim = plain.search(("n",), query="heat the egg")[1].score
    assert hits[0].score == pytest.approx(far_sim + 1.0)


# ---------------------------------------------------------------------- TTL
def test_ttl_expires_and_sweeps() -> None:
    clock = Clock()
    store = MemplayStore(index={"embed": "hash"}, clock=clock)
    store.put(("n",), "short", {"text": "a"}, ttl=1.0)
    store.put(("n",), "forever", {"text": "b"})
    clock.advance(0.5)
    assert store.sweep_ttl() == 0
    clock.advance(1.0)
    assert store.get(("n",), "short", refresh_ttl=False) is not None  # until swept
    assert store.sweep_ttl() == 1
    assert store.get(("n",), "short") is None and store.get(("n",), "forever") is not None


def test_ttl_refreshes_on_read_unless_told_not_to() -> None:
    clock = Clock()
    store = MemplayStore(index={"embed": "hash", "fields": ["text"]}, clock=clock)
    store.put(("n",), "got", {"text": "apple"}, ttl=1.0)
    store.put(("n",), "found", {"text": "banana"}, ttl=1.0)
    store.put(("n",), "peeked", {"text": "cherry"}, ttl=1.0)
    clock.advance(0.8)
    store.get(("n",), "got")
    assert [h.key for h in store.search(("n",), query="banana", limit=1)] == ["found"]
    store.get(("n",), "peeked", refresh_ttl=False)
    clock.advance(0.8)
    assert store.sweep_ttl() == 1 and store.get(("n",), "peeked") is None
    assert store.get(("n",), "got") is not None and store.get(("n",), "found") is not None


def test_ttl_config_default_ttl_and_omit_expired() -> None:
    clock = Clock()
    store = MemplayStore(index={"embed": "hash"}, clock=clock,
                         ttl={"default_ttl": 2.0, "refresh_on_read": False,
                              "omit_expired": True})
    store.put(("n",), "k", {"text": "a"})
    store.put(("m",), "kept", {"text": "b"}, ttl=None)
    clock.advance(1.0)
    assert store.get(("n",), "k") is not None
    clock.advance(1.5)  # not refreshed by the read above: expired now
    assert store.get(("n",), "k") is None and store.search(("n",)) == []
    assert store.list_namespaces() == [("m",)] and store.stats(("n",), "k") is None
    assert len(store.memory) == 2 and store.sweep_ttl() == 1


def test_ttl_sweeper_thread_deletes_expired_items() -> None:
    store = MemplayStore(index={"embed": "hash"})
    store.put(("n",), "k", {"text": "a"}, ttl=0.0)
    future = store.start_ttl_sweeper(sweep_interval_minutes=0.0005)  # every 30 ms
    deadline = time.monotonic() + 10
    while len(store.memory) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(store.memory) == 0
    assert store.stop_ttl_sweeper(timeout=5) and future.done()
    with pytest.raises(ConfigError, match="ttl"):
        store.put(("n",), "k", {"text": "a"}, ttl=-1)


# ---------------------------------------------------------------------- the rest
def test_async_api(store: MemplayStore) -> None:
    async def run() -> tuple[object, list[object], object]:
        await store.aput(("x",), "k", {"intent": "async memory"})
        got = await store.aget(("x",), "k")
        return got, await store.asearch(("x",), query="async"), await store.astats(("x",), "k")

    item, hits, stats = asyncio.run(run())
    assert item is not None and len(hits) == 1 and isinstance(stats, ItemStats)


def test_save_and_load_keep_values_fields_stats_and_ttl(tmp_path: Path) -> None:
    config = {"embed": "hash", "dims": 64, "fields": ["title", "tags[*]"]}
    store = MemplayStore(index=config)
    store.put(("b",), "dune", {"title": "Dune", "tags": ["desert", "spice"]}, ttl=60)
    store.put(("b",), "plain", {"title": "Plain"}, index=False)
    MemRLRetriever(store.memory).update_q([store.item_id(("b",), "dune")], reward=1.0)
    store.save(tmp_path / "memory")
    store.close()
    loaded = MemplayStore.load(tmp_path / "memory", index=config)
    assert loaded.get(("b",), "dune").value == {"title": "Dune",  # type: ignore[union-attr]
                                                 "tags": ["desert", "spice"]}
    assert loaded.stats(("b",), "dune").q == pytest.approx(0.3)  # type: ignore[union-attr]
    assert [(h.key, h.score is None) for h in loaded.search(("b",), query="spice")] == [
        ("dune", False), ("plain", True)]
    assert loaded.memory.paths(loaded.item_id(("b",), "dune")) == ["title", "tags[*].0",
                                                                   "tags[*].1"]
    with pytest.raises(ConfigError, match="embeds with"):
        MemplayStore(loaded.memory, index={"embed": "hash", "dims": 32})


def test_multi_vector_store_keeps_field_vectors_private() -> None:
    store = MultiVectorStore(HashEmbedder(64))
    store.put(MemoryItem(id="a", intent=""), [("x", "one"), ("y", "two"), ("z", "three")])
    assert store.ids() == ["a"] and len(store) == 1 and "a\x1f1" not in store
    with pytest.raises(MemoryStoreError, match="field vectors"):
        store.get(["a\x1f1"])
    with pytest.raises(ConfigError, match="x1f"):
        store.add([MemoryItem(id="b\x1f1", intent="reserved")])
    store.update("a", q=0.5, metadata={"note": 1})
    assert store.paths("a") == ["x", "y", "z"] and store.get(["a"])[0].metadata["note"] == 1
    store.update("a", intent="four")
    assert store.paths("a") == ["intent"] and len(store.vectors_store) == 1
    assert store.search(["three"], k=3)[0][0].similarity < 0.9


def test_memory_package_exports_the_store_lazily() -> None:
    assert memplay.memory.MemplayStore is MemplayStore
    assert memplay.memory.ItemStats is ItemStats


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
    assert out["recalled"] == "a"
    last = store.get(("runs",), "last")
    assert last is not None and last.value == {"intent": "heat the egg"}


@pytest.mark.embedded
def test_default_store_swaps_for_inmemorystore() -> None:
    store = MemplayStore()  # no index: memplay's default embedder over the whole value
    store.put(("users", "1"), "prefs", {"theme": "dark", "food": "pizza with olives"})
    store.put(("users", "1"), "pets", {"animal": "a grey cat"})
    assert store.get(("users", "1"), "prefs").value["theme"] == "dark"  # type: ignore[union-attr]
    assert store.search(("users",), query="what pet do they have")[0].key == "pets"


@pytest.mark.embedded
def test_docs_snippet_runs_and_prints_what_the_page_says(
        capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).parents[2] / "docs" / "LANGGRAPH_STORE.md").read_text(
        encoding="utf-8")
    section = readme.split("# memplay as a LangGraph store", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "docs/LANGGRAPH_STORE.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    value, stats, hits = printed[-3:]
    assert value == "{'task': 'heat an egg', 'steps': ['take the egg', 'use the microwave']}"
    assert stats.startswith("ItemStats(") and "q=0.3" in stats and stats in " ".join(
        readme.split())
    assert hits.startswith("[('egg', ") and hits in readme
