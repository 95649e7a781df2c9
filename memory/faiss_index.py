"""A FAISS vector index with stable int64 ids, exact or approximate, on CPU or GPU.

:class:`VectorIndex` hides three FAISS layouts behind one add/remove/search API, all on inner
product (cosine for unit vectors):

* ``flat``: exact search, ``IndexIDMap2(IndexFlatIP)``; the default.
* ``hnsw``: graph search, ``IndexIDMap2(IndexHNSWFlat)``. HNSW cannot delete, so deleted ids
  become tombstones that searches skip through an ``IDSelector``; the graph is rebuilt once
  tombstones pass a fraction of the index.
* ``ivf``: inverted lists, ``IndexIVFFlat`` with ids stored natively; it is (re)trained on the
  vectors present when it is built and rebuilt when the index has grown 8x since.

``kind="auto"`` starts flat and switches to HNSW once the index reaches ``approx_threshold``
(50,000 by default: one exact query over 1e5 x 384 floats took 65 ms on a loaded 2-core
machine, HNSW 0.3 ms; see bench/bench_memory.py). The add that crosses the threshold pays
for the HNSW build (about a minute at 1e5 on 2 cores).

    >>> import numpy as np
    >>> index = VectorIndex(dim=4)
    >>> index.add(np.eye(4, dtype=np.float32), np.array([10, 11, 12, 13]))
    >>> sims, ids = index.search(np.eye(4, dtype=np.float32)[:1], k=2)
    >>> int(ids[0, 0]), float(sims[0, 0])
    (10, 1.0)
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from memplay.errors import ConfigError, MemoryStoreError

__all__ = ["IndexConfig", "IndexKind", "VectorIndex", "gpu_count"]

IndexKind = Literal["flat", "hnsw", "ivf"]
_IVF_REBUILD_GROWTH = 8  # retrain IVF centroids once the index is this many times larger
_IVF_POINTS_PER_LIST = 39  # FAISS warns below this many training points per centroid


class IndexConfig(BaseModel):
    """How the vector index is built. Every field has a working default.

    >>> IndexConfig(kind="hnsw").hnsw_m
    32
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["auto", "flat", "hnsw", "ivf"] = Field(
        default="auto", description="flat = exact; hnsw/ivf = approximate; auto = flat then hnsw.")
    approx_threshold: int = Field(
        default=50_000, ge=1, description="auto switches from flat to hnsw at this many vectors.")
    hnsw_m: int = Field(default=32, ge=4, description="HNSW links per node (memory vs recall).")
    hnsw_ef_construction: int = Field(default=80, ge=8, description="HNSW build-time beam width.")
    hnsw_ef_search: int = Field(default=64, ge=1, description="HNSW query beam (recall/speed).")
    ivf_nlist: int | None = Field(
        default=None, ge=1, description="IVF lists; None = 4*sqrt(n), capped so lists get data.")
    ivf_nprobe: int = Field(default=16, ge=1, description="IVF lists visited per query.")
    use_gpu: bool | None = Field(
        default=None, description="Put the flat index on GPU; None = when faiss-gpu sees one.")
    single_thread_below: int = Field(
        default=16, ge=0, description="Searches with fewer queries run FAISS on one thread.")
    tombstone_fraction: float = Field(
        default=0.2, gt=0.0, le=1.0, description="HNSW rebuild once this fraction is deleted.")


def gpu_count() -> int:
    """Number of GPUs FAISS can use (0 with faiss-cpu).

    >>> gpu_count() >= 0
    True
    """
    return int(faiss.get_num_gpus())


def _as_matrix(vectors: np.ndarray, dim: int, what: str) -> np.ndarray:
    arr = np.ascontiguousarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ConfigError(f"{what} have shape {arr.shape}, expected (n, {dim}); embed them with "
                          f"the store's embedder (dim {dim})")
    return arr


@contextlib.contextmanager
def _threads_for(n_queries: int, single_below: int) -> Iterator[None]:
    # OpenMP start-up and barriers dominate a one-query search, and are disastrous when cores
    # are oversubscribed (flat, 1e4 x 384: 0.9 ms on one thread vs 36 ms on two, measured on a
    # loaded 2-core machine). Large batches keep every thread.
    if n_queries >= single_below:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


class VectorIndex:
    """Inner-product index over unit vectors with caller-chosen int64 ids (see module doc).

    >>> index = VectorIndex(dim=3, config=IndexConfig(kind="ivf"))
    >>> index.add(np.eye(3, dtype=np.float32), np.array([7, 8, 9]))
    >>> index.kind, len(index), 8 in index
    ('ivf', 3, True)
    """

    def __init__(self, dim: int, config: IndexConfig | None = None) -> None:
        if dim < 1:
            raise ConfigError(f"index dim={dim} must be >= 1; use the embedder's dim")
        self.dim = dim
        self.config = config or IndexConfig()
        self.kind: IndexKind = "ivf" if self.config.kind == "ivf" else (
            "hnsw" if self.config.kind == "hnsw" else "flat")
        self._live: set[int] = set()
        self._tombstones: set[int] = set()
        self._trained_size = 0
        self._on_gpu = False
        self._index: Any = None if self.kind == "ivf" else self._build(self.kind, 0)

    # ------------------------------------------------------------------ building
    def _build(self, kind: IndexKind, n: int, train: np.ndarray | None = None) -> Any:
        cfg = self.config
        self._on_gpu = False  # every build starts on CPU; _maybe_gpu may move it
        if kind == "hnsw":
            base = faiss.IndexHNSWFlat(self.dim, cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = cfg.hnsw_ef_construction
            base.hnsw.efSearch = cfg.hnsw_ef_search
            return faiss.IndexIDMap2(base)
        if kind == "flat":
            return self._maybe_gpu(faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim)))
        nlist = cfg.ivf_nlist or max(1, int(4 * math.sqrt(max(n, 1))))
        nlist = max(1, min(nlist, n // _IVF_POINTS_PER_LIST))
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        if nlist == 1 or train is None:
            # One list needs no k-means (FAISS would warn on too few points): any centroid works.
            quantizer.add(np.zeros((1, self.dim), np.float32))
            ivf.is_trained = True
        else:
            ivf.train(train)
        ivf.nprobe = min(cfg.ivf_nprobe, nlist)
        # A hashtable direct map lets IVF reconstruct and delete by external id.
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
        self._trained_size = n
        return ivf

    def _maybe_gpu(self, index: Any) -> Any:
        want = self.config.use_gpu
        gpus = gpu_count()
        if want and gpus == 0:
            raise ConfigError("IndexConfig.use_gpu=True but FAISS sees no GPU; install "
                              "faiss-gpu-cu12 on a GPU machine or set use_gpu=None")
        if (want is None and gpus > 0) or want:
            self._on_gpu = True
            return faiss.index_cpu_to_all_gpus(index)
        return index

    def _cpu_index(self) -> Any:
        if self._on_gpu:
            return faiss.index_gpu_to_cpu(self._index)
        return self._index

    def rebuild(self, kind: IndexKind | None = None) -> None:
        """Rebuild from the live vectors (drops tombstones; retrains IVF; may change kind).

        >>> index = VectorIndex(dim=2)
        >>> index.add(np.eye(2, dtype=np.float32), np.array([1, 2]))
        >>> index.rebuild("hnsw"); index.kind, len(index)
        ('hnsw', 2)
        """
        ids = np.array(sorted(self._live), dtype=np.int64)
        vecs = self.reconstruct(ids) if len(ids) else np.zeros((0, self.dim), np.float32)
        self.kind = kind or self.kind
        self._index = self._build(self.kind, len(ids), vecs if self.kind == "ivf" else None)
        self._tombstones.clear()
        if len(ids):
            self._index.add_with_ids(vecs, ids)

    # ------------------------------------------------------------------ writes
    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        """Add unit ``vectors`` under new int64 ``ids`` (ids must not be present).

        >>> index = VectorIndex(dim=2)
        >>> index.add(np.array([[1.0, 0.0]], np.float32), np.array([5]))
        >>> len(index)
        1
        """
        vecs = _as_matrix(vectors, self.dim, "vectors")
        keys = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if len(keys) != len(vecs) or len(set(keys.tolist())) != len(keys):
            raise MemoryStoreError(f"add() got {len(vecs)} vectors and {len(keys)} ids (or "
                                   "repeated ids); pass one distinct id per vector")
        taken = self._live.intersection(keys.tolist())
        if taken:
            raise MemoryStoreError(f"ids {sorted(taken)[:5]} are already in the index; "
                                   "remove them first or use new ids")
        if self._tombstones.intersection(keys.tolist()):
            self.rebuild()  # a re-used id must not stay hidden behind its tombstone
        if self._index is None:  # IVF trains on its first batch
            self._index = self._build("ivf", len(vecs), vecs)
        with _threads_for(len(vecs), self.config.single_thread_below):
            self._index.add_with_ids(vecs, keys)
        self._live.update(keys.tolist())
        self._maybe_grow()

    def _maybe_grow(self) -> None:
        n = len(self._live)
        if self.config.kind == "auto" and self.kind == "flat" and n >= self.config.approx_threshold:
            self.rebuild("hnsw")
        elif self.kind == "ivf" and n >= _IVF_REBUILD_GROWTH * max(self._trained_size, 1):
            self.rebuild()

    def remove(self, ids: np.ndarray) -> int:
        """Remove ``ids`` (unknown ids are ignored); return how many were removed.

        >>> index = VectorIndex(dim=2, config=IndexConfig(kind="hnsw"))
        >>> index.add(np.eye(2, dtype=np.float32), np.array([1, 2]))
        >>> index.remove(np.array([2, 3])), index.search(np.eye(2, dtype=np.float32)[1:], 2)[1]
        (1, array([[ 1, -1]]))
        """
        keys = [int(i) for i in np.asarray(ids).reshape(-1) if int(i) in self._live]
        if not keys:
            return 0
        self._live.difference_update(keys)
        if self.kind == "hnsw":
            self._tombstones.update(keys)
            if len(self._tombstones) > self.config.tombstone_fraction * max(len(self._live), 1):
                self.rebuild()
        elif self._on_gpu:  # GPU flat indexes cannot delete: do it on a CPU copy
            cpu = self._cpu_index()
            cpu.remove_ids(np.array(keys, dtype=np.int64))
            self._index = self._maybe_gpu(cpu)
        else:
            self._index.remove_ids(np.array(keys, dtype=np.int64))
        return len(keys)

    # ------------------------------------------------------------------ reads
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(similarities, ids)`` of shape ``(n, k)``; missing slots have id -1.

        >>> index = VectorIndex(dim=2)
        >>> index.add(np.eye(2, dtype=np.float32), np.array([1, 2]))
        >>> index.search(np.array([[0.6, 0.8]], np.float32), k=3)[1]
        array([[ 2,  1, -1]])
        """
        q = _as_matrix(queries, self.dim, "queries")
        if k < 1:
            raise ConfigError(f"search k={k} must be >= 1")
        if self._index is None or not self._live:
            return np.full((len(q), k), -np.inf, np.float32), np.full((len(q), k), -1, np.int64)
        with _threads_for(len(q), self.config.single_thread_below):
            return self._search(q, k)

    def _search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self._tombstones:
            sel = faiss.IDSelectorNot(
                faiss.IDSelectorBatch(np.array(sorted(self._tombstones), np.int64)))
            params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                sel=sel, efSearch=self.config.hnsw_ef_search)
            sims, ids = self._index.search(q, k, params=params)
        else:
            sims, ids = self._index.search(q, k)
        return sims, ids

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """Return the stored vectors of ``ids`` (all must be live).

        >>> index = VectorIndex(dim=2)
        >>> index.add(np.eye(2, dtype=np.float32), np.array([1, 2]))
        >>> index.reconstruct(np.array([2])).tolist()
        [[0.0, 1.0]]
        """
        keys = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        unknown = [int(i) for i in keys if int(i) not in self._live]
        if unknown:
            raise MemoryStoreError(f"ids {unknown[:5]} are not in the index")
        if not len(keys):
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self._index.reconstruct_batch(keys), dtype=np.float32)

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: object) -> bool:
        return key in self._live

    # ------------------------------------------------------------------ files
    def write(self, path: str | Path) -> None:
        """Write the index to ``path`` with ``faiss.write_index`` (tombstones compacted first).

        >>> import tempfile, os
        >>> index = VectorIndex(dim=2)
        >>> index.add(np.eye(2, dtype=np.float32), np.array([1, 2]))
        >>> path = os.path.join(tempfile.mkdtemp(), "index.faiss")
        >>> index.write(path); len(VectorIndex.read(path, "flat", {1, 2}))
        2
        """
        if self._tombstones:
            self.rebuild()
        if self._index is None:
            self._index = self._build("ivf", 0)
        faiss.write_index(self._cpu_index(), str(path))

    @classmethod
    def read(cls, path: str | Path, kind: IndexKind, ids: set[int],
             config: IndexConfig | None = None) -> VectorIndex:
        """Read an index written by :meth:`write`; ``ids`` are the ids it must hold."""
        raw = faiss.read_index(str(path))
        out = cls(raw.d, config or IndexConfig(kind=kind))
        out.kind = kind
        if raw.ntotal != len(ids):
            raise MemoryStoreError(f"{path} holds {raw.ntotal} vectors but the items list "
                                   f"{len(ids)}; the directory is corrupt, restore it")
        out._index = out._maybe_gpu(raw) if kind == "flat" else raw
        out._live = set(ids)
        out._trained_size = len(ids)
        return out
