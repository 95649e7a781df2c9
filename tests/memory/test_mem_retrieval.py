"""MemRL retrieval: config checks, two-phase ranking, Q-updates, write-back, and learning."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from memplay.errors import ConfigError
from memplay.memory import (
    FaissMemoryStore,
    HashEmbedder,
    MemoryItem,
    MemRLRetriever,
    RetrievalConfig,
)
from memplay.memory.retrieval import zscores


def make_retriever(**config: object) -> MemRLRetriever:
    return MemRLRetriever(FaissMemoryStore(HashEmbedder(128)),
                          RetrievalConfig.model_validate(config))


def test_config_defaults_are_the_papers_and_cross_checked() -> None:
    cfg = RetrievalConfig()
    assert (cfg.k1, cfg.k2, cfg.delta, cfg.lam, cfg.alpha, cfg.q_init, cfg.merge_threshold) == (
        5, 3, 0.5, 0.5, 0.3, 0.0, 0.9)
    with pytest.raises(ValidationError, match="set k2 <= k1"):
        RetrievalConfig(k1=2, k2=3)
    with pytest.raises(ValidationError, match="lam"):
        RetrievalConfig(lam=1.5)
    with pytest.raises(ValidationError, match="bogus"):
        RetrievalConfig.model_validate({"bogus": 1})


def test_zscores_within_pool() -> None:
    z = zscores([0.2, 0.4, 0.9])
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0)
    assert zscores([]).tolist() == []


def test_phase_a_gate_and_k1_then_phase_b_k2() -> None:
    r = make_retriever(k1=3, k2=2, delta=0.3)
    r.store.add([MemoryItem(id=f"m{i}", intent=f"heat the egg in microwave {i}")
                 for i in range(6)] + [MemoryItem(id="far", intent="zzz qqq xxx")])
    picked = r.retrieve("heat the egg in microwave 1")
    assert len(picked) == 2 and all(p.item.id != "far" for p in picked)
    assert all(p.similarity >= 0.3 for p in picked)
    assert [p.score for p in picked] == sorted((p.score for p in picked), reverse=True)
    assert r.retrieve("zzz qqq xxx", delta=0.99)[0].item.id == "far"
    assert r.retrieve("completely unrelated words", delta=0.95) == []


def test_scores_are_the_documented_formula() -> None:
    r = make_retriever(k1=4, k2=4, delta=-1.0, lam=0.3)
    r.store.add([MemoryItem(id=f"m{i}", intent=f"clean the mug number {i}", q=q)
                 for i, q in enumerate([0.5, -0.2, 0.9, 0.0])])
    picked = r.retrieve("clean the mug number 2")
    sims = np.array([p.similarity for p in picked])
    qs = np.array([p.item.q for p in picked])
    want = 0.7 * zscores(sims) + 0.3 * zscores(qs)
    np.testing.assert_allclose([p.score for p in picked], want, atol=1e-9)
    np.testing.assert_allclose([p.z_q for p in picked], zscores(qs), atol=1e-9)


def test_update_q_monte_carlo_and_counts() -> None:
    r = make_retriever(alpha=0.5)
    r.store.add([MemoryItem(id="a", intent="x", q=0.2), MemoryItem(id="b", intent="y")])
    r.update_q(["a", "a", "b"], reward=1.0)
    a, b = r.store.get(["a", "b"])
    assert a.q == pytest.approx(0.6) and a.visits == 1 and a.successes == 1
    r.update_q(["b"], reward=-1.0, alpha=0.25)
    b = r.store.get(["b"])[0]
    assert b.q == pytest.approx(0.5 + 0.25 * (-1 - 0.5)) and b.failures == 1 and b.visits == 2
    with pytest.raises(ConfigError, match="alpha=0"):
        r.update_q(["a"], 1.0, alpha=0.0)


def test_reward_shaping_hook_rewrites_reward() -> None:
    seen: list[tuple[float, str]] = []

    def shaping(reward: float, item: MemoryItem) -> float:
        seen.append((reward, item.id))
        return reward * 0.5

    r = MemRLRetriever(FaissMemoryStore(HashEmbedder(32)), RetrievalConfig(alpha=1.0),
                       reward_shaping=shaping)
    r.store.add([MemoryItem(id="a", intent="x")])
    assert r.update_q(["a"], 1.0)[0].q == pytest.approx(0.5) and seen == [(1.0, "a")]


def test_write_back_adds_then_merges_near_duplicates() -> None:
    r = make_retriever(q_init=0.1, merge_threshold=0.9)
    first = r.write_back(MemoryItem(id="e1", intent="put a clean mug on the desk",
                                    experience="v1", successes=1, q=5.0))
    assert not first.merged and r.store.get(["e1"])[0].q == 0.1
    r.update_q(["e1"], 1.0)
    dup = r.write_back(MemoryItem(id="e2", intent="put a clean mug on the desk.",
                                  experience="v2", failures=1, metadata={"run": 2}))
    assert dup.merged and dup.id == "e1" and dup.similarity >= 0.9 and len(r.store) == 1
    kept = r.store.get(["e1"])[0]
    assert kept.experience == "v2" and kept.q == pytest.approx(0.1 + 0.3 * 0.9)
    assert (kept.successes, kept.failures, kept.metadata) == (2, 1, {"run": 2, "merged": 1})
    other_kind = r.write_back(MemoryItem(id="r1", intent="put a clean mug on the desk",
                                         kind="reflection"))
    assert not other_kind.merged and len(r.store) == 2


def test_kinds_filter_and_epsilon_exploration() -> None:
    r = make_retriever(k1=5, k2=1, delta=-1.0, epsilon=1.0, seed=0, kinds=("experience",))
    r.store.add([MemoryItem(id=f"m{i}", intent=f"slice the bread {i}") for i in range(5)]
                + [MemoryItem(id="s", intent="slice the bread 0", kind="step")])
    ids = {p.item.id for _ in range(30) for p in r.retrieve("slice the bread 0")}
    assert "s" not in ids and len(ids) >= 3  # random picks over the pool
    assert all(p.explored for p in r.retrieve("slice the bread 0"))
    assert not r.retrieve("slice the bread 0", epsilon=0.0)[0].explored


def _learning_check(r: MemRLRetriever) -> None:
    r.store.add([
        MemoryItem(id="useless", intent="heat some egg and put it in the fridge"),
        MemoryItem(id="useful", intent="heat an egg then put it in a fridge"),
        MemoryItem(id="potato", intent="heat a potato and put it in the fridge"),
        MemoryItem(id="cool", intent="cool an egg and put it on the table"),
        MemoryItem(id="other", intent="wash the plate in the sink"),
    ])
    query = "heat some egg and put it in fridge"
    before = {p.item.id: p for p in r.retrieve(query, k2=3)}
    assert next(iter(before)) == "useless"
    assert before["useless"].similarity > before["useful"].similarity
    for _ in range(10):  # episodes: the useful memory's episodes succeed, the other's fail
        r.update_q(["useful"], reward=1.0)
        r.update_q(["useless"], reward=-1.0)
    after = [p.item.id for p in r.retrieve(query, k2=5)]
    assert after[0] == "useful" and after.index("useless") > after.index("useful")
    assert r.store.get(["useful"])[0].q > 0.9 and r.store.get(["useless"])[0].q < -0.9


def test_learning_useful_memory_outranks_more_similar_useless_one() -> None:
    """The issue's done-when: Q-updates make the useful memory win over the closer one."""
    _learning_check(make_retriever(k1=5, k2=3, delta=0.2))


@pytest.mark.embedded
def test_learning_with_real_minilm_embeddings() -> None:
    from memplay.memory import default_embedder

    _learning_check(MemRLRetriever(FaissMemoryStore(default_embedder()),
                                   RetrievalConfig(delta=0.2)))


def test_two_item_pool_ties_break_on_similarity() -> None:
    """With two candidates z-scores are +-1, so lam=0.5 ties; similarity decides, as documented."""
    r = make_retriever(k1=2, k2=1, delta=0.0)
    r.store.add([MemoryItem(id="near", intent="heat some egg", q=-1.0),
                 MemoryItem(id="far", intent="heat an egg now", q=1.0)])
    assert r.retrieve("heat some egg")[0].item.id == "near"
    assert r.retrieve("heat some egg", lam=0.6)[0].item.id == "far"


@settings(max_examples=25, deadline=None)
@given(tenths=st.lists(st.integers(-10, 10), min_size=2, max_size=6, unique=True))
def test_lam_extremes_rank_by_q_or_by_similarity(tenths: list[int]) -> None:
    qs = [t / 10 for t in tenths]
    r = make_retriever(k1=6, k2=6, delta=-1.0)
    r.store.add([MemoryItem(id=f"m{i}", intent=f"open door number {i}", q=q)
                 for i, q in enumerate(qs)])
    by_q = r.retrieve("open door number 0", lam=1.0)
    assert [p.item.q for p in by_q] == sorted(qs, reverse=True)
    by_sim = r.retrieve("open door number 0", lam=0.0)
    sims = [p.similarity for p in by_sim]
    assert sims == sorted(sims, reverse=True)
