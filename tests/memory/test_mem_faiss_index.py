"""VectorIndex internals: kinds, tombstones, automatic switch, IVF retraining, threads, files."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from memplay.errors import ConfigError, MemoryStoreError
from memplay.memory import IndexConfig, VectorIndex
from memplay.memory.faiss_index import gpu_count


def unit(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_auto_switches_to_hnsw_at_threshold_and_keeps_ids() -> None:
    index = VectorIndex(16, IndexConfig(kind="auto", approx_threshold=50))
    x = unit(60)
    index.add(x[:49], np.arange(100, 149))
    assert index.kind == "flat"
    index.add(x[49:], np.arange(149, 160))
    assert index.kind == "hnsw" and len(index) == 60
    assert index.search(x[55:56], 1)[1][0, 0] == 155


def test_hnsw_tombstones_are_skipped_then_compacted() -> None:
    index = VectorIndex(16, IndexConfig(kind="hnsw", tombstone_fraction=0.5))
    x = unit(40)
    index.add(x, np.arange(40))
    index.remove(np.arange(5))
    assert len(index._tombstones) == 5  # deleted but still in the graph
    assert not set(index.search(x[:5], 10)[1].ravel().tolist()) & set(range(5))
    index.remove(np.arange(5, 20))
    assert not index._tombstones and len(index) == 20  # passed the fraction: rebuilt
    assert index.search(x[30:31], 1)[1][0, 0] == 30


def test_ivf_retrains_after_growing_eightfold() -> None:
    index = VectorIndex(16, IndexConfig(kind="ivf"))
    x = unit(1000)
    index.add(x[:100], np.arange(100))
    first = index._index.nlist
    index.add(x[100:], np.arange(100, 1000))
    assert index._trained_size == 1000 and index._index.nlist >= first
    hits = index.search(x[::100], 1)[1].ravel().tolist()
    assert sum(h == i for h, i in zip(hits, range(0, 1000, 100))) >= 9


def test_add_validation_messages() -> None:
    index = VectorIndex(8)
    with pytest.raises(ConfigError, match=r"\(2, 4\)"):
        index.add(np.zeros((2, 4), np.float32), np.array([1, 2]))
    index.add(unit(2, 8), np.array([1, 2]))
    with pytest.raises(MemoryStoreError, match=r"\[2\]"):
        index.add(unit(1, 8), np.array([2]))
    with pytest.raises(MemoryStoreError, match="one distinct id"):
        index.add(unit(2, 8), np.array([5, 5]))
    with pytest.raises(MemoryStoreError, match=r"\[9\]"):
        index.reconstruct(np.array([9]))


def test_single_query_search_restores_thread_count() -> None:
    before = faiss.omp_get_max_threads()
    index = VectorIndex(16)
    index.add(unit(10), np.arange(10))
    index.search(unit(1), 3)
    assert faiss.omp_get_max_threads() == before


def test_use_gpu_without_gpu_is_a_clear_error() -> None:
    if gpu_count() > 0:
        pytest.skip("a GPU is present")
    with pytest.raises(ConfigError, match="faiss-gpu"):
        VectorIndex(8, IndexConfig(kind="flat", use_gpu=True))


def test_read_rejects_mismatched_id_count(tmp_path: Path) -> None:
    index = VectorIndex(8)
    index.add(unit(3, 8), np.arange(3))
    index.write(tmp_path / "i.faiss")
    with pytest.raises(MemoryStoreError, match="corrupt"):
        VectorIndex.read(tmp_path / "i.faiss", "flat", {0, 1})


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_random_adds_and_deletes_match_brute_force(kind: str) -> None:
    """After random adds/removes, exact kinds equal numpy brute force; HNSW nearly so."""
    rng = np.random.default_rng(7)
    index = VectorIndex(16, IndexConfig(kind=kind, ivf_nprobe=10_000, hnsw_ef_search=200))
    live: dict[int, np.ndarray] = {}
    next_id = 0
    for _ in range(30):
        if live and rng.random() < 0.35:
            drop = rng.choice(sorted(live), size=min(len(live), int(rng.integers(1, 6))),
                              replace=False)
            assert index.remove(drop) == len(drop)
            for key in drop.tolist():
                del live[key]
        else:
            batch = unit(int(rng.integers(1, 20)), seed=next_id)
            ids = np.arange(next_id, next_id + len(batch))
            index.add(batch, ids)
            live.update(zip(ids.tolist(), batch))
            next_id += len(batch)
    keys = np.array(sorted(live))
    mat = np.stack([live[k] for k in keys])
    queries = unit(20, seed=999)
    want = keys[np.argsort(-(queries @ mat.T), axis=1)[:, :5]]
    got = index.search(queries, 5)[1]
    agree = np.mean([len(set(g) & set(w)) / 5 for g, w in zip(got.tolist(), want.tolist())])
    assert len(index) == len(live)
    assert agree == 1.0 if kind != "hnsw" else agree >= 0.95
