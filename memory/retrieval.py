"""MemRL two-phase retrieval, Monte Carlo Q-updates and write-back with near-duplicate merge.

Phase A keeps the stored memories whose intent similarity to the query is at least ``delta``
(top ``k1`` by similarity). Phase B z-scores similarity and Q within that pool and ranks by
``(1 - lam) * z_sim + lam * z_q``; the top ``k2`` are injected. After the episode every
injected memory moves toward the reward, ``Q <- Q + alpha * (r - Q)``, and the episode is
written back as a new memory (or merged into a near-duplicate). Defaults are the MemRL paper's
ALFWorld settings.

    >>> from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem
    >>> store = FaissMemoryStore(HashEmbedder(64))
    >>> retriever = MemRLRetriever(store)
    >>> _ = store.add([MemoryItem(id="a", intent="heat an egg"),
    ...                MemoryItem(id="b", intent="heat the egg")])
    >>> _ = retriever.update_q(["a"], reward=1.0)
    >>> [r.item.id for r in retriever.retrieve("heat the egg", k2=1, lam=0.8)]
    ['a']
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from memplay.errors import ConfigError
from memplay.memory.item import MemoryItem, MemoryKind
from memplay.memory.store import Hit, MemoryStore

__all__ = ["MemRLRetriever", "RetrievalConfig", "Retrieved", "RewardShaper", "WriteBack",
           "zscores"]

RewardShaper = Callable[[float, MemoryItem], float]


class RetrievalConfig(BaseModel):
    """Every MemRL knob, with the paper's ALFWorld values as defaults.

    >>> RetrievalConfig(k1=10, k2=4).lam
    0.5
    >>> RetrievalConfig(k1=2, k2=3)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for RetrievalConfig
    ...
    """

    model_config = ConfigDict(extra="forbid")

    k1: int = Field(default=5, ge=1, description="Phase A: candidates kept by similarity.")
    k2: int = Field(default=3, ge=1, description="Phase B: memories injected (k2 <= k1).")
    delta: float = Field(default=0.5, ge=-1.0, le=1.0,
                         description="Phase A similarity gate: cosine below it is dropped.")
    lam: float = Field(default=0.5, ge=0.0, le=1.0,
                       description="Phase B weight of z(Q) against z(similarity).")
    alpha: float = Field(default=0.3, gt=0.0, le=1.0, description="Q-update step size.")
    q_init: float = Field(default=0.0, description="Q of a newly written memory.")
    merge_threshold: float = Field(default=0.9, ge=-1.0, le=1.0,
                                   description="Write-back merges above this similarity.")
    epsilon: float = Field(default=0.0, ge=0.0, le=1.0,
                           description="Chance to inject a random k2 of the pool instead.")
    seed: int | None = Field(default=None, description="Seed of the epsilon draws.")
    kinds: tuple[MemoryKind, ...] | None = Field(
        default=None, description="Retrieve only these kinds (None = all).")

    @model_validator(mode="after")
    def _k2_within_k1(self) -> RetrievalConfig:
        if self.k2 > self.k1:
            raise ValueError(f"k2={self.k2} is larger than k1={self.k1}: phase B picks from the "
                             f"phase A pool, so set k2 <= k1 (e.g. k1={self.k2}) ")
        return self


@dataclass(frozen=True)
class Retrieved:
    """One injected memory and why: similarity, the two z-scores and the final score.

    >>> r = Retrieved(MemoryItem(intent="x"), similarity=0.8, z_sim=1.0, z_q=-1.0, score=0.0)
    >>> r.sim, r.explored
    (0.8, False)
    """

    item: MemoryItem
    similarity: float
    z_sim: float
    z_q: float
    score: float
    explored: bool = False

    @property
    def sim(self) -> float:
        """Alias of ``similarity`` (the name docs/CONTRACTS.md uses)."""
        return self.similarity


@dataclass(frozen=True)
class WriteBack:
    """Outcome of :meth:`MemRLRetriever.write_back`: the id kept and whether it merged.

    >>> WriteBack("a", merged=True, similarity=0.95).merged
    True
    """

    id: str
    merged: bool
    similarity: float


def zscores(values: Sequence[float]) -> np.ndarray:
    """Standardise within the pool; a constant pool gives all zeros.

    >>> zscores([1.0, 3.0]).tolist()
    [-1.0, 1.0]
    >>> zscores([2.0, 2.0]).tolist()
    [0.0, 0.0]
    """
    arr = np.asarray(values, dtype=np.float64)
    std = arr.std() if len(arr) else 0.0
    return (arr - arr.mean()) / std if std > 1e-12 else np.zeros_like(arr)


class MemRLRetriever:
    """Two-phase retrieval, Q-updates and write-back over any :class:`MemoryStore`.

    ``reward_shaping(reward, item) -> reward`` (optional) rewrites the reward each memory is
    updated with, e.g. to discount memories that were injected but long ago.

    >>> from memplay.memory import FaissMemoryStore, HashEmbedder
    >>> halve = lambda reward, item: reward / 2
    >>> r = MemRLRetriever(FaissMemoryStore(HashEmbedder(16)), RetrievalConfig(alpha=1.0),
    ...                    reward_shaping=halve)
    >>> _ = r.store.add([MemoryItem(id="a", intent="x")])
    >>> r.update_q(["a"], reward=1.0)[0].q
    0.5
    """

    def __init__(self, store: MemoryStore, config: RetrievalConfig | None = None, *,
                 reward_shaping: RewardShaper | None = None) -> None:
        self.store = store
        self.config = config or RetrievalConfig()
        self.reward_shaping = reward_shaping
        self._rng = random.Random(self.config.seed)

    def _settings(self, **overrides: float | int | None) -> RetrievalConfig:
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self.config
        try:
            return RetrievalConfig.model_validate({**self.config.model_dump(), **given})
        except ValueError as exc:
            raise ConfigError(f"invalid retrieve() arguments {given}: {exc}") from None

    def retrieve(self, intent: str, *, k1: int | None = None, k2: int | None = None,
                 delta: float | None = None, lam: float | None = None,
                 epsilon: float | None = None) -> list[Retrieved]:
        """Memories to inject for ``intent``, best first (arguments override the config).

        >>> from memplay.memory import FaissMemoryStore, HashEmbedder
        >>> r = MemRLRetriever(FaissMemoryStore(HashEmbedder(64)))
        >>> _ = r.store.add([MemoryItem(id="a", intent="heat an egg")])
        >>> [(x.item.id, round(x.similarity, 2)) for x in r.retrieve("heat an egg")]
        [('a', 1.0)]
        >>> r.retrieve("something else entirely", delta=0.9)
        []
        """
        return self.retrieve_many([intent], k1=k1, k2=k2, delta=delta, lam=lam,
                                  epsilon=epsilon)[0]

    def retrieve_many(self, intents: Sequence[str], *, k1: int | None = None,
                      k2: int | None = None, delta: float | None = None,
                      lam: float | None = None, epsilon: float | None = None
                      ) -> list[list[Retrieved]]:
        """Batched :meth:`retrieve`: one embedding call and one index search for all intents.

        >>> from memplay.memory import FaissMemoryStore, HashEmbedder
        >>> r = MemRLRetriever(FaissMemoryStore(HashEmbedder(64)))
        >>> _ = r.store.add([MemoryItem(id="a", intent="heat an egg")])
        >>> [len(x) for x in r.retrieve_many(["heat an egg", "zzz"], delta=0.9)]
        [1, 0]
        """
        cfg = self._settings(k1=k1, k2=k2, delta=delta, lam=lam, epsilon=epsilon)
        kinds = cfg.kinds
        where = None if kinds is None else (lambda item: item.kind in kinds)
        pools = self.store.search(list(intents), k=cfg.k1, min_similarity=cfg.delta, where=where)
        return [self._rank(pool, cfg) for pool in pools]

    def _rank(self, pool: list[Hit], cfg: RetrievalConfig) -> list[Retrieved]:
        if not pool:
            return []
        z_sim = zscores([h.similarity for h in pool])
        z_q = zscores([h.item.q for h in pool])
        scored = [
            Retrieved(h.item, h.similarity, float(zs), float(zq),
                      float((1 - cfg.lam) * zs + cfg.lam * zq))
            for h, zs, zq in zip(pool, z_sim, z_q)
        ]
        if cfg.epsilon > 0 and self._rng.random() < cfg.epsilon:
            # Exploration: inject a random subset so low-Q memories get re-tested.
            picked = self._rng.sample(scored, min(cfg.k2, len(scored)))
            return [Retrieved(r.item, r.similarity, r.z_sim, r.z_q, r.score, True)
                    for r in picked]
        # Ties (equal score) fall back to similarity, then to the store's order.
        ranked = sorted(scored, key=lambda r: (-r.score, -r.similarity))
        return ranked[: cfg.k2]

    def update_q(self, ids: Sequence[str], reward: float, alpha: float | None = None
                 ) -> list[MemoryItem]:
        """Monte Carlo update of every injected memory: ``Q <- Q + alpha * (r - Q)``.

        Also counts the visit and a success (reward > 0) or failure. Repeated ids count once.

        >>> from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem
        >>> store = FaissMemoryStore(HashEmbedder(16))
        >>> _ = store.add([MemoryItem(id="a", intent="x")])
        >>> MemRLRetriever(store).update_q(["a"], reward=1.0)[0].q
        0.3
        """
        rate = self.config.alpha if alpha is None else alpha
        if not 0.0 < rate <= 1.0:
            raise ConfigError(f"alpha={rate} must be in (0, 1]; the MemRL default is 0.3")
        updated = []
        for item in self.store.get(list(dict.fromkeys(ids))):
            r = self.reward_shaping(reward, item) if self.reward_shaping else reward
            updated.append(self.store.update(
                item.id, q=item.q + rate * (float(r) - item.q), visits=item.visits + 1,
                successes=item.successes + (reward > 0), failures=item.failures + (reward <= 0)))
        return updated

    def write_back(self, item: MemoryItem, merge_threshold: float | None = None) -> WriteBack:
        """Store a new experience, or merge it into a same-kind memory above the threshold.

        A merge keeps the existing id and its learned Q (the slot's utility), takes the new
        experience text (the freshest), adds the success/failure counts and merges metadata.
        A new item whose ``visits`` is 0 starts at ``q_init``.

        >>> from memplay.memory import FaissMemoryStore, HashEmbedder
        >>> r = MemRLRetriever(FaissMemoryStore(HashEmbedder(64)))
        >>> r.write_back(MemoryItem(id="a", intent="heat an egg")).merged
        False
        >>> wb = r.write_back(MemoryItem(id="b", intent="heat an egg", experience="v2"))
        >>> wb.id, wb.merged, len(r.store)
        ('a', True, 1)
        """
        threshold = self.config.merge_threshold if merge_threshold is None else merge_threshold
        vec = self.store.embedder.embed([item.intent])
        hits = self.store.search(vec, k=1, where=lambda other: other.kind == item.kind)[0]
        if hits and hits[0].similarity >= threshold:
            old = hits[0].item
            merged = int(old.metadata.get("merged", 0)) + 1
            self.store.update(
                old.id, experience=item.experience or old.experience,
                successes=old.successes + item.successes, failures=old.failures + item.failures,
                metadata={**old.metadata, **item.metadata, "merged": merged})
            return WriteBack(old.id, True, hits[0].similarity)
        if item.visits == 0:
            item = item.model_copy(update={"q": self.config.q_init})
        self.store.add([item], vectors=vec)
        return WriteBack(item.id, False, hits[0].similarity if hits else 0.0)
