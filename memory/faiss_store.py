"""The FAISS-backed :class:`MemoryStore`: items in a dict, intent vectors in a FAISS index.

Users see string ids; FAISS sees stable int64 keys handed out in order and never reused, so a
delete never renumbers anything (``IndexIDMap2``/IVF ids, see :mod:`.faiss_index`).

    >>> from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem
    >>> store = FaissMemoryStore(HashEmbedder(64))
    >>> ids = store.add([MemoryItem(id="a", intent="open door"),
    ...                  MemoryItem(id="b", intent="eat apple")])
    >>> store.delete(["a"]), len(store), store.search(["eat an apple"], k=1)[0][0].item.id
    (1, 1, 'b')
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from memplay.errors import ConfigError, MemoryStoreError
from memplay.memory.embedders import (
    Embedder,
    default_embedder,
    embedder_by_name,
    normalize_rows,
)
from memplay.memory.faiss_index import IndexConfig, IndexKind, VectorIndex
from memplay.memory.item import MemoryItem, utc_now
from memplay.memory.persistence import (
    EmbedderRecord,
    WriterLock,
    check_embedder,
    commit_directory,
    read_manifest,
    validate_manifest,
)
from memplay.memory.store import Hit, ItemFilter, MemoryStore, Query

__all__ = ["STORE_KIND", "FaissMemoryStore"]

STORE_KIND = "memplay.memory.store"
ITEMS_FILE = "items.jsonl"
INDEX_FILE = "index.faiss"


class FaissMemoryStore(WriterLock, MemoryStore):
    """Episodic memory on FAISS (exact by default; HNSW/IVF via ``index``; GPU when present).

    >>> from memplay.memory import HashEmbedder
    >>> store = FaissMemoryStore(HashEmbedder(32), index=IndexConfig(kind="hnsw"))
    >>> store.index.kind
    'hnsw'
    """

    def __init__(self, embedder: Embedder | None = None,
                 index: IndexConfig | None = None) -> None:
        self.embedder = embedder if embedder is not None else default_embedder()
        self.index = VectorIndex(self.embedder.dim, index)
        self._items: dict[str, MemoryItem] = {}
        self._key_of: dict[str, int] = {}
        self._id_of: dict[int, str] = {}
        self._next_key = 0
        self._mutex = threading.RLock()  # LangGraph may call from worker threads

    # ------------------------------------------------------------------ writes
    def add(self, items: Sequence[MemoryItem], vectors: np.ndarray | None = None) -> list[str]:
        """Add new items; ids must be new (use :meth:`update` to change an item).

        ``vectors`` (optional) are the intents' embeddings, one row per item; rows are
        normalised. Items are kept as given: change them through :meth:`update`.

        >>> from memplay.memory import HashEmbedder
        >>> FaissMemoryStore(HashEmbedder(16)).add([MemoryItem(id="a", intent="x")])
        ['a']
        """
        items = list(items)
        ids = [it.id for it in items]
        clash = [i for i in ids if i in self._items] or _repeats(ids)
        if clash:
            raise MemoryStoreError(f"item id {clash[0]!r} is already in the store (or repeated "
                                   "in this call); use update() to change it or a new id")
        if not items:
            return []
        if vectors is None:
            vecs = self.embedder.embed([it.intent for it in items])
        elif len(vectors) != len(items):
            raise ConfigError(f"add() got {len(items)} items but {len(vectors)} vectors; pass "
                              "one vector per item, or vectors=None to embed the intents")
        else:
            vecs = normalize_rows(vectors)  # cosine needs unit rows, whoever made them
        with self._mutex:
            keys = np.arange(self._next_key, self._next_key + len(items), dtype=np.int64)
            self.index.add(vecs, keys)
            self._next_key += len(items)
            for key, item in zip(keys.tolist(), items):
                self._items[item.id] = item
                self._key_of[item.id] = key
                self._id_of[key] = item.id
        return ids

    def update(self, item_id: str, **fields: Any) -> MemoryItem:
        """Change fields of one item and bump ``updated_at``; a new intent is re-embedded.

        >>> from memplay.memory import HashEmbedder
        >>> store = FaissMemoryStore(HashEmbedder(16))
        >>> _ = store.add([MemoryItem(id="a", intent="x")])
        >>> store.update("a", q=0.7).q
        0.7
        """
        if "id" in fields and fields["id"] != item_id:
            raise ConfigError(f"cannot change id {item_id!r} to {fields['id']!r}; "
                              "delete the item and add a new one instead")
        with self._mutex:
            old = self.get([item_id])[0]
            try:
                new = MemoryItem.model_validate(
                    {**old.model_dump(), "updated_at": utc_now(), **fields})
            except ValidationError as exc:
                raise ConfigError(f"invalid update of item {item_id!r}: {exc}") from None
            if new.intent != old.intent:
                self._rekey(item_id, self.embedder.embed([new.intent]))
            self._items[item_id] = new
        return new

    def _rekey(self, item_id: str, vector: np.ndarray) -> None:
        # A fresh key, because HNSW keeps the old one as a tombstone until its next rebuild.
        old_key, key = self._key_of[item_id], self._next_key
        self.index.remove(np.array([old_key]))
        self.index.add(vector, np.array([key]))
        self._next_key += 1
        del self._id_of[old_key]
        self._key_of[item_id] = key
        self._id_of[key] = item_id

    def delete(self, ids: Sequence[str]) -> int:
        """Delete items by id; unknown ids are ignored. Returns how many were deleted.

        >>> from memplay.memory import HashEmbedder
        >>> store = FaissMemoryStore(HashEmbedder(16))
        >>> _ = store.add([MemoryItem(id="a", intent="x")])
        >>> store.delete(["a", "zzz"]), len(store)
        (1, 0)
        """
        with self._mutex:
            present = [i for i in dict.fromkeys(ids) if i in self._items]
            keys = np.array([self._key_of[i] for i in present], dtype=np.int64)
            self.index.remove(keys)
            for item_id in present:
                del self._items[item_id]
                del self._id_of[self._key_of.pop(item_id)]
        return len(present)

    # ------------------------------------------------------------------ reads
    def get(self, ids: Sequence[str]) -> list[MemoryItem]:
        """Return items by id, in order; an unknown id raises MemoryStoreError.

        >>> from memplay.memory import HashEmbedder
        >>> store = FaissMemoryStore(HashEmbedder(16))
        >>> _ = store.add([MemoryItem(id="a", intent="x", q=0.5)])
        >>> store.get(["a"])[0].q
        0.5
        """
        missing = [i for i in ids if i not in self._items]
        if missing:
            raise MemoryStoreError(f"no item with id {missing[0]!r} in this store "
                                   f"({len(self)} items); check `id in store` first")
        return [self._items[i] for i in ids]

    def search(self, queries: Query, k: int = 5, *, min_similarity: float | None = None,
               where: ItemFilter | None = None) -> list[list[Hit]]:
        """Up to ``k`` hits per query (texts or unit vectors), most similar first.

        ``min_similarity`` drops weaker hits; ``where`` keeps only items it accepts (the
        index is searched deeper until ``k`` accepted hits are found or it is exhausted).

        >>> from memplay.memory import HashEmbedder
        >>> store = FaissMemoryStore(HashEmbedder(64))
        >>> _ = store.add([MemoryItem(id="a", intent="open door", kind="rule"),
        ...                MemoryItem(id="b", intent="open doors")])
        >>> [h.item.id for h in store.search(["open door"], k=2)[0]]
        ['a', 'b']
        >>> not_rules = store.search(["open door"], k=2, where=lambda i: i.kind != "rule")
        >>> [h.item.id for h in not_rules[0]]
        ['b']
        """
        if k < 1:
            raise ConfigError(f"search k={k} must be >= 1 (e.g. k=5)")
        vecs = self._query_vectors(queries)
        depth = k if where is None else max(4 * k, 32)
        while True:
            with self._mutex:
                sims, keys = self.index.search(vecs, min(depth, max(len(self), 1)))
                hits = [self._hits(s, ks, k, min_similarity, where) for s, ks in zip(sims, keys)]
            if where is None or depth >= len(self) or all(len(h) == k for h in hits):
                return hits
            depth *= 4

    def _query_vectors(self, queries: Query) -> np.ndarray:
        if isinstance(queries, np.ndarray):
            return queries
        if isinstance(queries, str):
            raise ConfigError(f"search() takes a list of queries, got the string "
                              f"{queries[:40]!r}; wrap it: search([query])")
        return self.embedder.embed(list(queries))

    def _hits(self, sims: np.ndarray, keys: np.ndarray, k: int, min_similarity: float | None,
              where: ItemFilter | None) -> list[Hit]:
        out = []
        for sim, key in zip(sims.tolist(), keys.tolist()):
            item_id = self._id_of.get(key)
            if item_id is None or (min_similarity is not None and sim < min_similarity):
                continue
            item = self._items[item_id]
            if where is None or where(item):
                out.append(Hit(item, float(sim)))
            if len(out) == k:
                break
        return out

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """Stored intent vectors of ``ids``, shape ``(len(ids), dim)``.

        >>> from memplay.memory import HashEmbedder
        >>> store = FaissMemoryStore(HashEmbedder(16))
        >>> _ = store.add([MemoryItem(id="a", intent="x")])
        >>> store.vectors(["a"]).shape
        (1, 16)
        """
        self.get(ids)  # raises a clear error for unknown ids
        return self.index.reconstruct(np.array([self._key_of[i] for i in ids], dtype=np.int64))

    def ids(self) -> list[str]:
        """All item ids in insertion order.

        >>> from memplay.memory import HashEmbedder
        >>> store = FaissMemoryStore(HashEmbedder(16))
        >>> store.add([MemoryItem(id="b", intent="x"), MemoryItem(id="a", intent="y")])
        ['b', 'a']
        >>> store.ids()
        ['b', 'a']
        """
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._items

    # ------------------------------------------------------------------ files
    def save(self, directory: str | Path) -> Path:
        """Write ``manifest.json``, ``items.jsonl`` and ``index.faiss`` atomically.

        The store keeps the directory's write lock until :meth:`close`, so a second store
        saving to the same directory gets StoreLockedError.

        >>> import tempfile, pathlib
        >>> from memplay.memory import HashEmbedder
        >>> run = pathlib.Path(tempfile.mkdtemp())
        >>> with FaissMemoryStore(HashEmbedder(16)) as store:
        ...     _ = store.add([MemoryItem(id="a", intent="x")])
        ...     (store.save(run / "memory") / "index.faiss").exists()
        True
        """
        with self._mutex:
            self.take_lock(directory)
            manifest = {
                "kind": STORE_KIND,
                "embedder": {"name": self.embedder.name, "dim": self.embedder.dim},
                "counts": {"items": len(self)},
                "index": {"kind": self.index.kind, "config": self.index.config.model_dump()},
                "next_key": self._next_key,
            }
            return commit_directory(directory, self._write_files, manifest)

    def _write_files(self, tmp: Path) -> None:
        with (tmp / ITEMS_FILE).open("w", encoding="utf-8") as fh:
            for item_id, item in self._items.items():
                row = {"key": self._key_of[item_id], "item": item.model_dump(mode="json")}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.index.write(tmp / INDEX_FILE)

    @classmethod
    def load(cls, directory: str | Path, embedder: Embedder | None = None) -> FaissMemoryStore:
        """Read a directory written by :meth:`save` (checksums verified).

        Without ``embedder`` the recorded one is rebuilt by name; a different embedder raises
        EmbedderMismatch (import an exported archive to re-embed instead).

        >>> import tempfile, pathlib
        >>> from memplay.memory import HashEmbedder
        >>> run = pathlib.Path(tempfile.mkdtemp())
        >>> with FaissMemoryStore(HashEmbedder(16)) as store:
        ...     _ = store.add([MemoryItem(id="a", intent="x", q=1.0)])
        ...     _ = store.save(run / "memory")
        >>> FaissMemoryStore.load(run / "memory").get(["a"])[0].q
        1.0
        """
        manifest = read_manifest(directory, kind=STORE_KIND)
        shape = validate_manifest(manifest, _StoreManifest, Path(directory) / "manifest.json")
        emb = embedder if embedder is not None else embedder_by_name(shape.embedder.name)
        check_embedder(manifest, emb, directory)
        rows = _read_rows(Path(directory) / ITEMS_FILE)
        store = cls(emb, shape.index.config)
        store.index = _read_index(Path(directory) / INDEX_FILE, shape, {key for key, _ in rows})
        for key, item in rows:
            store._items[item.id] = item
            store._key_of[item.id] = key
            store._id_of[key] = item.id
        store._next_key = shape.next_key
        return store


def _repeats(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    repeated = []
    for item_id in ids:
        if item_id in seen:
            repeated.append(item_id)
        seen.add(item_id)
    return repeated


class _IndexRecord(BaseModel):
    kind: IndexKind
    config: IndexConfig


class _StoreManifest(BaseModel):
    model_config = ConfigDict(extra="allow")
    embedder: EmbedderRecord
    index: _IndexRecord
    next_key: int = Field(ge=0)


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: int = Field(ge=0)
    item: MemoryItem


def _read_index(path: Path, shape: _StoreManifest, keys: set[int]) -> VectorIndex:
    try:
        index = VectorIndex.read(path, shape.index.kind, keys, shape.index.config)
    except RuntimeError as exc:  # FAISS reports truncated or foreign files as RuntimeError
        raise MemoryStoreError(f"{path} is not a readable FAISS index ({str(exc)[-120:]}); "
                               "restore the directory from a backup or an archive") from None
    if index.dim != shape.embedder.dim:
        raise MemoryStoreError(f"{path} has vectors of dim {index.dim} but the manifest's "
                               f"embedder has dim {shape.embedder.dim}; restore the directory")
    return index


def _read_rows(path: Path) -> list[tuple[int, MemoryItem]]:
    rows = []
    for line_no, line in enumerate(path.read_bytes().splitlines(), 1):
        try:  # bytes in: bad UTF-8 is reported per line like any other bad row
            row = _Row.model_validate_json(line)
        except ValueError as exc:
            raise MemoryStoreError(f"{path}:{line_no} is not a valid item row ({exc}); "
                                   "restore the directory") from None
        if not math.isfinite(row.item.q):
            raise MemoryStoreError(f"{path}:{line_no} has q={row.item.q}; Q-values must be "
                                   "finite: fix that line or restore the directory")
        rows.append((row.key, row.item))
    return rows
