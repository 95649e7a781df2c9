"""Conformance suite: every MemoryStore configuration must pass every test here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from memplay.errors import ConfigError, EmbedderMismatch, MemoryStoreError, StoreLockedError
from memplay.memory import (
    FaissMemoryStore,
    HashEmbedder,
    IndexConfig,
    MemoryItem,
    MemoryStore,
    MultiVectorStore,
)

CONFIGS = {
    "flat": IndexConfig(kind="flat"),
    "hnsw": IndexConfig(kind="hnsw"),
    "ivf": IndexConfig(kind="ivf", ivf_nprobe=64),
    "auto-switching": IndexConfig(kind="auto", approx_threshold=8),
}

WORDS = ["red", "blue", "green", "door", "key", "apple", "mug", "desk", "lamp", "box",
         "north", "south", "sink", "knife", "bread", "chair"]


def make_items(n: int, prefix: str = "m") -> list[MemoryItem]:
    """Distinct intents built from word triples, deterministic."""
    rng = np.random.default_rng(n)
    items = []
    for i in range(n):
        words = " ".join(rng.choice(WORDS, size=3, replace=False))
        items.append(MemoryItem(id=f"{prefix}{i}", intent=f"{words} task {i}", q=float(i)))
    return items


# Stores other than FaissMemoryStore-with-an-IndexConfig, by name.
OTHER_STORES: dict[str, Callable[[], MemoryStore]] = {
    "multi-vector": lambda: MultiVectorStore(HashEmbedder(64)),  # MemplayStore's memory
}


@pytest.fixture(params=sorted(CONFIGS) + sorted(OTHER_STORES))
def factory(request: pytest.FixtureRequest) -> Callable[[], MemoryStore]:
    if request.param in OTHER_STORES:
        return OTHER_STORES[request.param]
    config = CONFIGS[request.param]
    return lambda: FaissMemoryStore(HashEmbedder(64), index=config)


@pytest.fixture
def store(factory: Callable[[], MemoryStore]) -> MemoryStore:
    return factory()


def test_add_get_len_contains(store: MemoryStore) -> None:
    items = make_items(5)
    assert store.add(items) == [it.id for it in items]
    assert len(store) == 5
    assert "m3" in store and "zzz" not in store
    assert [it.intent for it in store.get(["m4", "m0"])] == [items[4].intent, items[0].intent]


def test_add_rejects_existing_and_repeated_ids(store: MemoryStore) -> None:
    store.add(make_items(2))
    with pytest.raises(MemoryStoreError, match="m1"):
        store.add([MemoryItem(id="m1", intent="again")])
    with pytest.raises(MemoryStoreError, match="x"):
        store.add([MemoryItem(id="x", intent="a"), MemoryItem(id="x", intent="b")])
    assert len(store) == 2


def test_get_unknown_id_names_it(store: MemoryStore) -> None:
    with pytest.raises(MemoryStoreError, match="nope"):
        store.get(["nope"])


def test_search_finds_exact_intent_first_and_sorted(store: MemoryStore) -> None:
    items = make_items(40)
    store.add(items)
    results = store.search([items[7].intent, items[23].intent], k=5)
    assert [hits[0].item.id for hits in results] == ["m7", "m23"]
    for hits in results:
        assert hits[0].similarity == pytest.approx(1.0, abs=1e-4)
        sims = [h.similarity for h in hits]
        assert sims == sorted(sims, reverse=True) and len(hits) == 5


def test_search_accepts_vectors(store: MemoryStore) -> None:
    items = make_items(10)
    store.add(items)
    vec = store.embedder.embed([items[2].intent])
    assert store.search(vec, k=1)[0][0].item.id == "m2"


def test_search_min_similarity_and_k_larger_than_store(store: MemoryStore) -> None:
    store.add(make_items(3))
    assert len(store.search(["red door"], k=10)[0]) == 3
    strict = store.search(["red door"], k=10, min_similarity=0.99)[0]
    assert all(h.similarity >= 0.99 for h in strict) and len(strict) < 3


def test_search_rejects_bad_k_and_bare_string(store: MemoryStore) -> None:
    with pytest.raises(ConfigError, match="k=0"):
        store.search(["x"], k=0)
    with pytest.raises(ConfigError, match="wrap it"):
        store.search("red door", k=1)  # type: ignore[arg-type]


def test_search_on_empty_store(store: MemoryStore) -> None:
    assert store.search(["anything"], k=3) == [[]]


def test_where_filter_searches_deeper(store: MemoryStore) -> None:
    items = make_items(60)
    for i, it in enumerate(items):
        it.kind = "step" if i % 10 == 0 else "experience"
    store.add(items)
    hits = store.search([items[1].intent], k=4, where=lambda it: it.kind == "step")[0]
    assert len(hits) == 4 and all(h.item.kind == "step" for h in hits)


def test_delete_keeps_other_ids_stable(store: MemoryStore) -> None:
    items = make_items(30)
    store.add(items)
    assert store.delete(["m5", "m6", "unknown"]) == 2
    assert len(store) == 28 and "m5" not in store
    assert all(h.item.id != "m5" for h in store.search([items[5].intent], k=28)[0])
    store.add([MemoryItem(id="new", intent="brand new memory about lamps")])
    for i in (0, 7, 29):
        assert store.search([items[i].intent], k=1)[0][0].item.id == f"m{i}"
    assert store.search(["brand new memory about lamps"], k=1)[0][0].item.id == "new"


def test_update_fields_and_reembed(store: MemoryStore) -> None:
    items = make_items(10)
    store.add(items)
    before = store.get(["m3"])[0]
    after = store.update("m3", q=0.25, visits=2)
    assert (after.q, after.visits) == (0.25, 2) and after.updated_at >= before.updated_at
    store.update("m3", intent="completely different words here")
    assert store.search(["completely different words here"], k=1)[0][0].item.id == "m3"
    with pytest.raises(ConfigError, match="visits"):
        store.update("m3", visits=-1)
    with pytest.raises(ConfigError, match="m3"):
        store.update("m3", id="m4")


def test_update_values_sets_q(store: MemoryStore) -> None:
    store.add(make_items(4))
    store.update_values({"m0": -1.0, "m2": 0.5})
    assert [it.q for it in store.get(["m0", "m1", "m2"])] == [-1.0, 1.0, 0.5]


def test_vectors_match_embeddings(store: MemoryStore) -> None:
    items = make_items(6)
    store.add(items)
    got = store.vectors(["m1", "m4"])
    want = store.embedder.embed([items[1].intent, items[4].intent])
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_approximate_recall_on_many_items(store: MemoryStore) -> None:
    items = make_items(400)
    store.add(items)
    results = store.search([it.intent for it in items[::8]], k=1)
    found = sum(hits[0].item.id == it.id for hits, it in zip(results, items[::8]))
    assert found / len(results) >= 0.9


def test_save_load_round_trip(store: MemoryStore, tmp_path: Path) -> None:
    items = make_items(50)
    store.add(items)
    store.delete(["m10"])
    store.update("m11", q=-0.5)
    store.save(tmp_path / "memory")
    loaded = type(store).load(tmp_path / "memory")
    assert loaded.ids() == store.ids()
    queries = [it.intent for it in items[::5]]
    for a, b in zip(store.search(queries, k=3), loaded.search(queries, k=3)):
        assert [(h.item.id, h.item.q) for h in a] == [(h.item.id, h.item.q) for h in b]
    loaded.add([MemoryItem(id="after-load", intent="a memory added after loading")])
    assert loaded.search(["a memory added after loading"], k=1)[0][0].item.id == "after-load"


def test_load_with_other_embedder_is_refused(store: MemoryStore, tmp_path: Path) -> None:
    store.add(make_items(3))
    store.save(tmp_path / "memory")
    with pytest.raises(EmbedderMismatch, match="hash-3gram-32"):
        type(store).load(tmp_path / "memory", embedder=HashEmbedder(32))


def test_second_writer_is_locked_out(factory: Callable[[], MemoryStore], tmp_path: Path) -> None:
    first, second = factory(), factory()
    first.add(make_items(2))
    first.save(tmp_path / "memory")
    first.save(tmp_path / "memory")  # the holder may save again
    with pytest.raises(StoreLockedError, match="memory"):
        second.save(tmp_path / "memory")
    first.close()
    second.save(tmp_path / "memory")
    second.close()
    assert len(type(first).load(tmp_path / "memory")) == 0


def test_add_with_given_vectors_normalises_and_checks_count(store: MemoryStore) -> None:
    items = make_items(3)
    vecs = store.embedder.embed([it.intent for it in items]) * 5.0
    store.add(items, vectors=vecs)
    hit = store.search([items[0].intent], k=1)[0][0]
    assert hit.item.id == "m0" and hit.similarity == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(ConfigError, match="2 vectors"):
        store.add(make_items(3, prefix="n"), vectors=vecs[:2])
