"""Step-level episodic control: state text -> per-action Q-values and visit counts.

Small models cannot use a whole past plan, but they follow a step-level hint ("from this
same position the move was: right") most of the time, and the values can also drive action
choice directly as an additive prior. :class:`StepMemory` keeps, for every state text seen,
the Monte Carlo return estimate ``q`` and the visit count of each action taken there. Lookups
use the exact state when it is stored (it dominates); otherwise they average the stored
states whose embedding similarity passes ``threshold``. The agent's policy
(:mod:`memplay.agents.policy`) adds the values to the LLM's scores and turns the visit
counts into a novelty bonus, so exploration goes to untried actions.

    >>> from memplay.memory import HashEmbedder
    >>> mem = StepMemory(HashEmbedder(64))
    >>> mem.update(["at A"], ["right"], [1.0])
    >>> mem.action_values(["at A"], [["left", "right"]])[0]["right"]
    ActionValue(q=1.0, visits=1, sim=1.0)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from memplay.errors import ConfigError, MemoryStoreError
from memplay.memory.embedders import CachingEmbedder, Embedder, embedder_by_name
from memplay.memory.persistence import (
    EmbedderRecord,
    WriterLock,
    commit_directory,
    read_manifest,
    validate_manifest,
)

__all__ = [
    "STEP_KIND",
    "ActionValue",
    "StepAction",
    "StepMemory",
    "StepMemoryConfig",
    "StepRow",
    "read_step_rows",
]

STEP_KIND = "memplay.memory.step"


@dataclass(frozen=True)
class ActionValue:
    """What memory knows about one action in one state: value, visits, similarity of source.

    >>> ActionValue(q=0.5, visits=2, sim=1.0).visits
    2
    """

    q: float
    visits: int
    sim: float


class StepMemoryConfig(BaseModel):
    """Settings of :class:`StepMemory`.

    >>> StepMemoryConfig(threshold=0.95).k_neighbors
    5
    """

    model_config = ConfigDict(extra="forbid")

    # Grid states that differ in one cell embed very close together (MiniLM cosine > 0.9), so
    # for grid games threshold=1.0 (exact states only) is often the better choice.
    threshold: float = Field(default=0.9, ge=-1.0, le=1.0,
                             description="Least cosine similarity for a neighbour state.")
    k_neighbors: int = Field(default=5, ge=1, description="Neighbour states averaged.")
    q_init: float = Field(default=0.0, description="Value of an action never tried.")
    alpha: float | None = Field(default=None, gt=0.0, le=1.0,
                                description="Step size; None = running mean (1/visits).")

    @model_validator(mode="before")
    @classmethod
    def _drop_retired_fields(cls, data: Any) -> Any:
        # "c" (the exploration constant of the retired prior()) is in older manifests.
        return {k: v for k, v in data.items() if k != "c"} if isinstance(data, dict) else data


@dataclass
class _Stats:
    q: float
    visits: int


class StepMemory(WriterLock):
    """State -> action values with nearest-state lookup; see the module docstring.

    >>> from memplay.memory import HashEmbedder
    >>> mem = StepMemory(HashEmbedder(64), StepMemoryConfig(threshold=0.95))
    >>> mem.update(["row 0 col 0"], ["right"], [1.0])
    >>> len(mem), mem.action_values(["row 3 col 3"])[0]  # too far: no neighbour
    (1, {})
    """

    def __init__(self, embedder: Embedder, config: StepMemoryConfig | None = None) -> None:
        self.config = config or StepMemoryConfig()
        # States repeat constantly within and across episodes: embed each text once.
        self.embedder = embedder if isinstance(embedder, CachingEmbedder) else CachingEmbedder(
            embedder)
        self._index = faiss.IndexFlatIP(self.embedder.dim)
        self._states: list[str] = []
        self._row: dict[str, int] = {}
        self._table: list[dict[str, _Stats]] = []

    def __len__(self) -> int:
        return len(self._states)

    def _add_states(self, states: Sequence[str]) -> None:
        new = [s for s in dict.fromkeys(states) if s not in self._row]
        if new:
            self._index.add(self.embedder.embed(new))
            for state in new:
                self._row[state] = len(self._states)
                self._states.append(state)
                self._table.append({})

    # ------------------------------------------------------------------ learning
    def update(self, states: Sequence[str], actions: Sequence[str], returns: Sequence[float],
               alpha: float | None = None) -> None:
        """Move Q(state, action) toward each observed return and count the visit.

        ``alpha`` (or the config's) is a constant step size; None uses the running mean.

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
        self._add_states(states)
        for state, action, ret in zip(states, actions, returns):
            stats = self._table[self._row[state]].setdefault(
                action, _Stats(self.config.q_init, 0))
            stats.visits += 1
            rate = step if step is not None else 1.0 / stats.visits
            stats.q += rate * (float(ret) - stats.q)

    # ------------------------------------------------------------------ lookup
    def action_values(self, states: Sequence[str],
                      admissible: Sequence[Sequence[str]] | None = None,
                      ) -> list[dict[str, ActionValue]]:
        """For each state, the value of each admissible action (or of every known action).

        An exact stored state answers alone (untried actions get ``q_init``, 0 visits);
        otherwise neighbour states with similarity >= threshold are averaged, weighted by
        similarity, and their visits summed. Unknown actions get ``(q_init, 0, 0.0)``.

        >>> from memplay.memory import HashEmbedder
        >>> mem = StepMemory(HashEmbedder(64))
        >>> mem.update(["s"], ["up"], [1.0])
        >>> mem.action_values(["s"], [["up", "down"]])[0]["down"]
        ActionValue(q=0.0, visits=0, sim=1.0)
        """
        if admissible is not None and len(admissible) != len(states):
            raise ConfigError(f"action_values() got {len(states)} states but {len(admissible)} "
                              "admissible lists; pass one list per state")
        neighbours = self._neighbours(states)
        out = []
        for i, state in enumerate(states):
            values = self._aggregate(neighbours[i])
            wanted = list(admissible[i]) if admissible is not None else list(values)
            init = ActionValue(self.config.q_init, 0, 1.0 if state in self._row else 0.0)
            out.append({a: values.get(a, init) for a in wanted})
        return out

    def _neighbours(self, states: Sequence[str]) -> list[list[tuple[int, float]]]:
        result: list[list[tuple[int, float]]] = [[] for _ in states]
        todo = [i for i, s in enumerate(states) if s not in self._row]
        for i, state in enumerate(states):
            if state in self._row:
                result[i] = [(self._row[state], 1.0)]
        if todo and len(self._states):
            vecs = self.embedder.embed([states[i] for i in todo])
            k = min(self.config.k_neighbors, len(self._states))
            sims, rows = self._index.search(vecs, k)
            for i, srow, rrow in zip(todo, sims, rows):
                result[i] = [(int(r), float(s)) for r, s in zip(rrow, srow)
                             if r >= 0 and s >= self.config.threshold]
        return result

    def _aggregate(self, neighbours: list[tuple[int, float]]) -> dict[str, ActionValue]:
        sums: dict[str, list[float]] = {}
        for row, sim in neighbours:
            for action, st in self._table[row].items():
                acc = sums.setdefault(action, [0.0, 0.0, 0.0, 0.0])  # w*q, w, visits, max sim
                weight = max(sim, 1e-6)
                acc[0] += weight * st.q
                acc[1] += weight
                acc[2] += st.visits
                acc[3] = max(acc[3], sim)
        return {a: ActionValue(acc[0] / acc[1], int(acc[2]), acc[3]) for a, acc in sums.items()}

    # ------------------------------------------------------------------ rows (export/merge)
    def to_rows(self) -> list[dict[str, Any]]:
        """All states as plain JSON rows ``{"state", "actions": {a: {"q", "visits"}}}``.

        >>> from memplay.memory import HashEmbedder
        >>> mem = StepMemory(HashEmbedder(16)); mem.update(["s"], ["a"], [1.0])
        >>> mem.to_rows()
        [{'state': 's', 'actions': {'a': {'q': 1.0, 'visits': 1}}}]
        """
        return [{"state": state, "actions": {a: {"q": st.q, "visits": st.visits}
                                             for a, st in table.items()}}
                for state, table in zip(self._states, self._table)]

    def merge_rows(self, rows: Sequence[dict[str, Any]]) -> int:
        """Fold rows from :meth:`to_rows` (another run) in; shared actions get a visit-weighted
        mean Q and summed visits. Returns how many states were new.

        >>> from memplay.memory import HashEmbedder
        >>> mem = StepMemory(HashEmbedder(16)); mem.update(["s"], ["a"], [1.0])
        >>> mem.merge_rows([{"state": "s", "actions": {"a": {"q": 0.0, "visits": 3}}}])
        0
        >>> mem.action_values(["s"])[0]["a"]
        ActionValue(q=0.25, visits=4, sim=1.0)
        """
        before = len(self)
        self._add_states([str(r["state"]) for r in rows])
        for row in rows:
            table = self._table[self._row[str(row["state"])]]
            for action, v in row["actions"].items():
                q, visits = float(v["q"]), int(v["visits"])
                old = table.get(action)
                if old is None or old.visits + visits == 0:
                    table[action] = _Stats(q, visits)
                else:
                    total = old.visits + visits
                    table[action] = _Stats((old.q * old.visits + q * visits) / total, total)
        return len(self) - before

    # ------------------------------------------------------------------ files
    def save(self, directory: str | Path) -> Path:
        """Write ``states.jsonl`` + ``vectors.npy`` + manifest atomically; keeps a write lock.

        Use its own directory (e.g. ``<run>/step_memory``): a save replaces the directory.

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
        vecs = np.zeros((len(self), self.embedder.dim), np.float32)
        if len(self):
            vecs = self._index.reconstruct_n(0, len(self))
        np.save(tmp / "vectors.npy", vecs, allow_pickle=False)

    @classmethod
    def load(cls, directory: str | Path, embedder: Embedder | None = None) -> StepMemory:
        """Read a directory written by :meth:`save`; another embedder re-embeds the states.

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
            else None
        mem._restore(rows, vecs)
        return mem

    def _restore(self, rows: list[dict[str, Any]], vecs: np.ndarray | None) -> None:
        if vecs is None or len(vecs) != len(rows):
            self.merge_rows(rows)  # another embedder: re-embed the state texts
            return
        self._index.add(np.ascontiguousarray(vecs, dtype=np.float32))
        for row in rows:
            self._row[str(row["state"])] = len(self._states)
            self._states.append(str(row["state"]))
            self._table.append({a: _Stats(float(v["q"]), int(v["visits"]))
                                for a, v in row["actions"].items()})


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
    [{'state': 's', 'actions': {}}]
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
