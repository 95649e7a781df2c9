"""Step-level episodic control: per (situation, action), a Q-value and a visit count.

Small models cannot use a whole past plan, but they follow a step-level hint ("from this
same position the move was: right") most of the time, and the values can also drive action
choice directly as an additive prior. :class:`StepMemory` keeps, for every situation seen,
the Monte Carlo return estimate ``q`` and the visit count of each action taken there.

A key is ``(kind, context)``: the action in map-independent words and the situation it was
taken in. An environment with a portable view (docs/CONTRACTS.md "Portable views") gives
both, so values learned on one map are found again on another; otherwise kind is the action
text and context the state text. Lookups follow one of two rules
(:mod:`memplay.memory.step_lookup`): by default, Neural Episodic Control's per-action kNN,
which borrows an unseen pair's value from similar stored pairs of the same kind, weighted by
similarity, and keeps borrowed evidence apart from real visits. Updates touch exact keys only.
Contexts live in a :class:`~memplay.memory.faiss_index.VectorIndex` (flat, HNSW or IVF), so a
million steps stay fast, and ``max_states`` bounds the memory (least recently updated first
out). The agent's policy (:mod:`memplay.agents.policy`) adds the values to the LLM's scores
and turns visit counts into a novelty bonus.

    >>> from memplay.memory import HashEmbedder
    >>> mem = StepMemory(HashEmbedder(64))
    >>> mem.update(["at A"], ["right"], [1.0])
    >>> mem.action_values(["at A"], [["left", "right"]])[0]["right"]
    ActionValue(q=1.0, visits=1, sim=1.0, borrowed=0.0)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from memplay.errors import ConfigError, MemoryStoreError
from memplay.memory.embedders import CachingEmbedder, Embedder, embedder_by_name
from memplay.memory.faiss_index import IndexConfig, VectorIndex
from memplay.memory.persistence import (
    EmbedderRecord,
    WriterLock,
    commit_directory,
    read_manifest,
    validate_manifest,
)
from memplay.memory.step_lookup import ActionValue, Kernel, Neighbour, Stat, by_action, by_state

__all__ = [
    "STEP_KIND",
    "ActionValue",
    "Key",
    "StepAction",
    "StepMemory",
    "StepMemoryConfig",
    "StepRow",
    "read_step_rows",
]

STEP_KIND = "memplay.memory.step"
Key = tuple[str, str]
"""``(kind, context)``: the action in portable words and the situation it was taken in."""
_OVERFETCH = 8  # neighbours fetched per wanted one: the "action" rule keeps those of one kind
_BUILT_WITH = {"index", "q_init", "alpha"}  # a saved step memory keeps these when loaded


class StepMemoryConfig(BaseModel):
    """Settings of :class:`StepMemory`.

    >>> StepMemoryConfig(threshold=0.95).k_neighbors
    5
    """

    model_config = ConfigDict(extra="forbid")

    lookup: Literal["action", "state"] = Field(
        default="action", description="'action': per-action kNN with kernel weights and "
        "borrowed evidence kept apart (NEC); 'state': memplay < 0.2's state-level averaging.")
    # Grid states that differ in one cell embed very close together (MiniLM cosine > 0.9), so
    # for whole-board state texts threshold=1.0 (exact states only) is often the better choice.
    threshold: float = Field(default=0.9, ge=-1.0, le=1.0,
                             description="Least cosine similarity for a neighbour context.")
    k_neighbors: int = Field(default=5, ge=1, description="Neighbours averaged.")
    kernel: Kernel = Field(default="inverse", description="'inverse': NEC's 1/(d^2 + delta); "
                           "'similarity': weight = cosine similarity.")
    q_init: float = Field(default=0.0, description="Value of an action never tried.")
    alpha: float | None = Field(default=None, gt=0.0, le=1.0,
                                description="Step size; None = running mean (1/visits).")
    max_states: int | None = Field(
        default=None, ge=1, description="Bound on stored contexts: the least recently updated "
        "go first (None: unbounded).")
    index: IndexConfig = Field(default_factory=lambda: IndexConfig(kind="auto"))

    def looked_up_as(self, run: StepMemoryConfig) -> StepMemoryConfig:
        """These settings with ``run``'s lookup rule (lookup, threshold, neighbours, kernel,
        bound): how values are looked up is the run's choice, while what a saved memory was
        built with (its index, q_init and alpha) stays.

        >>> saved = StepMemoryConfig(q_init=0.5, threshold=0.8)
        >>> looked = saved.looked_up_as(StepMemoryConfig(threshold=1.0))
        >>> looked.threshold, looked.q_init
        (1.0, 0.5)
        """
        return self.model_copy(update=run.model_dump(exclude=_BUILT_WITH))

    @model_validator(mode="before")
    @classmethod
    def _drop_retired_fields(cls, data: Any) -> Any:
        # "c" (the exploration constant of the retired prior()) is in older manifests.
        return {k: v for k, v in data.items() if k != "c"} if isinstance(data, dict) else data


class StepMemory(WriterLock):
    """(kind, context) -> Q and visits, with kNN lookups; see the module docstring.

    ``update(contexts, kinds, returns)`` and ``action_values(contexts, kinds)`` take the
    context first; with no portable view the context is the state text and the kind the
    action, hence the parameter names of the original state -> action table.

    >>> from memplay.memory import HashEmbedder
    >>> mem = StepMemory(HashEmbedder(64), StepMemoryConfig(threshold=0.95))
    >>> mem.update(["row 0 col 0"], ["right"], [1.0])
    >>> len(mem), mem.action_values(["row 3 col 3"])[0]  # too far: no neighbour
    (1, {})
    """

    def __init__(self, embedder: Embedder, config: StepMemoryConfig | None = None) -> None:
        self.config = config or StepMemoryConfig()
        # Contexts repeat constantly within and across episodes: embed each text once.
        self.embedder = embedder if isinstance(embedder, CachingEmbedder) else CachingEmbedder(
            embedder)
        self._index = VectorIndex(self.embedder.dim, self.config.index)
        self._id: dict[str, int] = {}  # context -> id in the index
        self._context: dict[int, str] = {}
        self._table: dict[int, dict[str, Stat]] = {}
        self._used: dict[int, int] = {}  # id -> tick of its last update (for max_states)
        self._sources: dict[int, dict[str, int]] = {}  # id -> updates by provenance
        self._next_id = self._tick = 0

    def __len__(self) -> int:
        return len(self._id)

    def _add_contexts(self, contexts: Sequence[str],
                      vectors: np.ndarray | None = None) -> None:
        """Store the new ones among ``contexts`` (``vectors``: their embeddings, row by row,
        when already known)."""
        first: dict[str, int] = {}
        for i, context in enumerate(contexts):
            first.setdefault(context, i)
        new = [c for c in first if c not in self._id]
        if not new:
            return
        ids = np.arange(self._next_id, self._next_id + len(new), dtype=np.int64)
        vecs = vectors[[first[c] for c in new]] if vectors is not None else \
            self.embedder.embed(new)
        self._index.add(vecs, ids)
        for context, key in zip(new, ids.tolist()):
            self._id[context], self._context[key], self._table[key] = key, context, {}
            self._used[key] = self._tick
        self._next_id += len(new)

    def _evict(self) -> None:
        """Drop the least recently updated contexts beyond ``max_states``."""
        limit = self.config.max_states
        if limit is None or len(self) <= limit:
            return
        oldest = sorted(self._used, key=self._used.__getitem__)[: len(self) - limit]
        self._index.remove(np.array(oldest, dtype=np.int64))
        for key in oldest:
            del self._id[self._context.pop(key)], self._table[key], self._used[key]
            self._sources.pop(key, None)

    # ------------------------------------------------------------------ learning
    def update(self, states: Sequence[str], actions: Sequence[str], returns: Sequence[float],
               alpha: float | None = None, source: str = "self") -> None:
        """Move Q(context, kind) toward each observed return and count the visit.

        ``alpha`` (or the config's) is a constant step size; None uses the running mean.
        ``source`` is the experience's provenance ("self", "demo", "import"), counted per
        context so ``memplay inspect`` can say where values came from.

        >>> from memplay.memory import HashEmbedder
        >>> mem = StepMemory(HashEmbedder(16))
        >>> mem.update(["s", "s"], ["a", "a"], [1.0, 0.0])
        >>> mem.action_values(["s"], [["a"]])[0]["a"].q
        0.5
        """
        if not len(states) == len(actions) == len(returns):
            raise ConfigError(f"update() got {len(states)} states, {len(actions)} actions and "
                              f"{len(returns)} returns; pass one of each per step")
        step = alpha if alpha is not None else self.config.alpha
        if step is not None and not 0.0 < step <= 1.0:
            raise ConfigError(f"alpha={step} must be in (0, 1], or None for a running mean")
        self._add_contexts(states)
        self._tick += 1
        for state, action, ret in zip(states, actions, returns):
            key = self._id[state]
            stats = self._table[key].setdefault(action, Stat(self.config.q_init, 0))
            stats.visits += 1
            stats.q += (step if step is not None else 1.0 / stats.visits) * (float(ret) - stats.q)
            self._used[key] = self._tick
            sources = self._sources.setdefault(key, {})
            sources[source] = sources.get(source, 0) + 1
        self._evict()

    # ------------------------------------------------------------------ lookup
    def estimate(self, queries: Sequence[Mapping[str, Key]]) -> list[dict[str, ActionValue]]:
        """For each decision, action -> value, where each action comes as its ``(kind,
        context)`` key (so actions of one decision may have different contexts).

        >>> from memplay.memory import HashEmbedder
        >>> mem = StepMemory(HashEmbedder(64))
        >>> mem.update(["3x3: .H."], ["right"], [-1.0])
        >>> mem.estimate([{"east": ("right", "3x3: .H.")}])[0]["east"].q
        -1.0
        """
        contexts = list(dict.fromkeys(ctx for q in queries for _, ctx in q.values()))
        found = dict(zip(contexts, self._neighbours(contexts)))
        cfg = self.config
        out = []
        for query in queries:
            values = {}
            for action, (kind, context) in query.items():
                if cfg.lookup == "state":
                    values[action] = by_state(found[context], [kind], k=cfg.k_neighbors,
                                              threshold=cfg.threshold, q_init=cfg.q_init)[kind]
                    continue
                key = self._id.get(context)
                exact = self._table[key].get(kind) if key is not None else None
                others = [n for n in found[context] if n.sim < 1.0 - 1e-6 or key is None]
                values[action] = by_action(others, kind, exact=exact, k=cfg.k_neighbors,
                                           threshold=cfg.threshold, kernel=cfg.kernel,
                                           q_init=cfg.q_init, known=key is not None)
            out.append(values)
        return out

    def action_values(self, states: Sequence[str],
                      admissible: Sequence[Sequence[str]] | None = None,
                      ) -> list[dict[str, ActionValue]]:
        """For each context, the value of each kind in ``admissible`` (the action texts when
        there is no view), or of every kind found when ``admissible`` is None.

        >>> from memplay.memory import HashEmbedder
        >>> mem = StepMemory(HashEmbedder(64))
        >>> mem.update(["s"], ["up"], [1.0])
        >>> mem.action_values(["s"], [["up", "down"]])[0]["down"]
        ActionValue(q=0.0, visits=0, sim=1.0, borrowed=0.0)
        """
        if admissible is not None and len(admissible) != len(states):
            raise ConfigError(f"action_values() got {len(states)} states but {len(admissible)} "
                              "admissible lists; pass one list per state")
        kinds = admissible if admissible is not None else [self._kinds_near(s) for s in states]
        return self.estimate([{a: (a, s) for a in wanted} for s, wanted in zip(states, kinds)])

    def _kinds_near(self, context: str) -> list[str]:
        neighbours = self._neighbours([context])[0]
        if neighbours and neighbours[0].sim >= 1.0 - 1e-6:
            return list(neighbours[0].table)
        usable = [n for n in neighbours if n.sim >= self.config.threshold]
        return list(dict.fromkeys(k for n in usable[: self.config.k_neighbors] for k in n.table))

    def _neighbours(self, contexts: Sequence[str]) -> list[list[Neighbour]]:
        """Stored contexts nearest to each one, best first (a stored context itself first,
        with similarity 1)."""
        result: list[list[Neighbour]] = [[] for _ in contexts]
        if not contexts or not len(self):
            return result
        k = min(self.config.k_neighbors * _OVERFETCH, len(self))
        sims, ids = self._index.search(self.embedder.embed(list(contexts)), k)
        for i, context in enumerate(contexts):
            own = self._id.get(context)
            found = [Neighbour(1.0 if key == own else float(sim), self._table[key])
                     for sim, key in zip(sims[i], ids[i]) if key >= 0]
            if own is not None and all(n.table is not self._table[own] for n in found):
                found.insert(0, Neighbour(1.0, self._table[own]))
            result[i] = sorted(found, key=lambda n: -n.sim)
        return result

    # ------------------------------------------------------------------ rows (export/merge)
    def to_rows(self) -> list[dict[str, Any]]:
        """All contexts as plain JSON rows ``{"state", "actions": {kind: {"q", "visits"}},
        "sources": {provenance: updates}}``.

        >>> from memplay.memory import HashEmbedder
        >>> mem = StepMemory(HashEmbedder(16)); mem.update(["s"], ["a"], [1.0], source="demo")
        >>> mem.to_rows()
        [{'state': 's', 'actions': {'a': {'q': 1.0, 'visits': 1}}, 'sources': {'demo': 1}}]
        """
        return [{"state": self._context[key],
                 "actions": {a: {"q": st.q, "visits": st.visits}
                             for a, st in self._table[key].items()},
                 "sources": dict(self._sources.get(key, {}))}
                for key in sorted(self._context)]

    def sources(self) -> dict[str, int]:
        """Updates by provenance over the whole memory.

        >>> from memplay.memory import HashEmbedder
        >>> mem = StepMemory(HashEmbedder(16)); mem.update(["s", "t"], ["a", "a"], [1.0, 0.0])
        >>> mem.sources()
        {'self': 2}
        """
        total: dict[str, int] = {}
        for counts in self._sources.values():
            for source, n in counts.items():
                total[source] = total.get(source, 0) + n
        return total

    def merge_rows(self, rows: Sequence[dict[str, Any]],
                   vectors: np.ndarray | None = None) -> int:
        """Fold rows from :meth:`to_rows` (another run) in; shared actions get a visit-weighted
        mean Q and summed visits. Returns how many contexts were new.

        >>> from memplay.memory import HashEmbedder
        >>> mem = StepMemory(HashEmbedder(16)); mem.update(["s"], ["a"], [1.0])
        >>> mem.merge_rows([{"state": "s", "actions": {"a": {"q": 0.0, "visits": 3}}}])
        0
        >>> mem.action_values(["s"])[0]["a"]
        ActionValue(q=0.25, visits=4, sim=1.0, borrowed=0.0)
        """
        before = len(self)
        self._add_contexts([str(r["state"]) for r in rows], vectors)
        for row in rows:
            key = self._id[str(row["state"])]
            table = self._table[key]
            merged = self._sources.setdefault(key, {})
            for source, n in row.get("sources", {}).items():
                merged[source] = merged.get(source, 0) + int(n)
            for action, v in row["actions"].items():
                q, visits = float(v["q"]), int(v["visits"])
                old = table.get(action)
                if old is None or old.visits + visits == 0:
                    table[action] = Stat(q, visits)
                else:
                    total = old.visits + visits
                    table[action] = Stat((old.q * old.visits + q * visits) / total, total)
        self._evict()
        return len(self) - before

    # ------------------------------------------------------------------ files
    def save(self, directory: str | Path) -> Path:
        """Write ``states.jsonl`` + ``vectors.npy`` + manifest atomically; keeps a write lock.

        Use its own directory (e.g. ``<run>/memory/steps``): a save replaces the directory.

        >>> import tempfile, pathlib
        >>> from memplay.memory import HashEmbedder
        >>> mem = StepMemory(HashEmbedder(16))
        >>> sorted(p.name for p in mem.save(pathlib.Path(tempfile.mkdtemp()) / "s").iterdir())
        ['manifest.json', 'states.jsonl', 'vectors.npy']
        >>> mem.close()
        """
        self.take_lock(directory)
        manifest = {
            "kind": STEP_KIND,
            "embedder": {"name": self.embedder.name, "dim": self.embedder.dim},
            "counts": {"states": len(self)},
            "config": self.config.model_dump(),
        }
        return commit_directory(directory, self._write_files, manifest)

    def _write_files(self, tmp: Path) -> None:
        with (tmp / "states.jsonl").open("w", encoding="utf-8") as fh:
            for row in self.to_rows():
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        keys = np.array(sorted(self._context), dtype=np.int64)
        np.save(tmp / "vectors.npy", self._index.reconstruct(keys), allow_pickle=False)

    @classmethod
    def load(cls, directory: str | Path, embedder: Embedder | None = None) -> StepMemory:
        """Read a directory written by :meth:`save`; another embedder re-embeds the contexts.

        >>> import tempfile, pathlib
        >>> from memplay.memory import HashEmbedder
        >>> mem = StepMemory(HashEmbedder(16)); mem.update(["s"], ["a"], [1.0])
        >>> path = mem.save(pathlib.Path(tempfile.mkdtemp()) / "s"); mem.close()
        >>> StepMemory.load(path).action_values(["s"])[0]["a"].q
        1.0
        """
        manifest = read_manifest(directory, kind=STEP_KIND)
        shape = validate_manifest(manifest, _StepManifest, Path(directory) / "manifest.json")
        saved = shape.embedder
        emb = embedder if embedder is not None else embedder_by_name(saved.name)
        mem = cls(emb, shape.config)
        rows = read_step_rows(Path(directory) / "states.jsonl")
        same = emb.name == saved.name and emb.dim == saved.dim
        vecs = _read_vectors(Path(directory) / "vectors.npy", len(rows), saved.dim) if same \
            else None  # another embedder: re-embed the context texts
        mem.merge_rows(rows, vecs)
        return mem


class StepAction(BaseModel):
    """One action's value in a stored step row (finite Q, visit count).

    >>> StepAction(q=0.5, visits=2).visits
    2
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    q: float
    visits: int = Field(ge=0)


class StepRow(BaseModel):
    """One stored state of a :class:`StepMemory` (a row of ``states.jsonl``).

    >>> StepRow.model_validate({"state": "s", "actions": {"a": {"q": 1, "visits": 1}}}).state
    's'
    """

    model_config = ConfigDict(extra="forbid")
    state: str
    actions: dict[str, StepAction]
    sources: dict[str, int] = Field(default_factory=dict)


class _StepManifest(BaseModel):
    model_config = ConfigDict(extra="allow")
    embedder: EmbedderRecord
    config: StepMemoryConfig


def read_step_rows(path: Path) -> list[dict[str, Any]]:
    """Read and validate ``states.jsonl``; MemoryStoreError names the file and line.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "states.jsonl"
    >>> _ = p.write_text('{"state": "s", "actions": {}}\\n')
    >>> read_step_rows(p)
    [{'state': 's', 'actions': {}, 'sources': {}}]
    """
    rows = []
    for line_no, line in enumerate(path.read_bytes().splitlines(), 1):
        try:
            rows.append(StepRow.model_validate_json(line).model_dump())
        except ValueError as exc:
            raise MemoryStoreError(f"{path}:{line_no} is not a valid step row ({exc}); fix "
                                   "that line or restore the directory") from None
    return rows


def _read_vectors(path: Path, n: int, dim: int) -> np.ndarray:
    try:
        vecs = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise MemoryStoreError(f"{path} is not a plain float array ({exc}); restore the "
                               "directory") from None
    if vecs.shape != (n, dim) or not np.isfinite(vecs).all():
        raise MemoryStoreError(f"{path} has shape {vecs.shape}, expected ({n}, {dim}) finite "
                               "values; restore the directory")
    return np.asarray(vecs, dtype=np.float32)
