"""Versioned documents with per-version success statistics and automatic rollback.

Each accepted rewrite becomes a new :class:`Document` version whose ``parent`` is the version
it was written from. Every episode played while a version is active is recorded against it,
so its success rate is known; when a version does clearly worse than its parent over enough
episodes, :meth:`DocumentHistory.roll_back` makes the parent active again. Nothing is ever
deleted: the full history stays inspectable.

    >>> h = DocumentHistory.start("rules", "Holes end the game.")
    >>> _ = h.record(success=True)
    >>> h.propose("Holes end the game. Walls block.").version
    1
    >>> for _ in range(3): _ = h.record(success=False)
    >>> h.should_roll_back(RollbackPolicy(min_episodes=3, margin=0.2))
    True
    >>> h.roll_back().version
    0
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from memplay.errors import ConfigError, MemoryStoreError

__all__ = ["Document", "DocumentHistory", "RollbackPolicy"]


@dataclass(frozen=True)
class RollbackPolicy:
    """When to undo a rewrite.

    Roll back when the active version has been used for at least ``min_episodes`` episodes,
    its parent was used at least once, and ``rate(active) < rate(parent) - margin``.

    >>> RollbackPolicy(min_episodes=5, margin=0.2).min_episodes
    5
    """

    min_episodes: int = 3
    margin: float = 0.25

    def __post_init__(self) -> None:
        if self.min_episodes < 1:
            raise ConfigError(f"min_episodes={self.min_episodes} must be >= 1; try 3")
        if not 0.0 <= self.margin <= 1.0:
            raise ConfigError(f"margin={self.margin} must be in [0, 1]; try 0.25")


class Document(BaseModel):
    """One version of one document (``"rules"`` or ``"playbook"``) and how it has fared.

    >>> d = Document(name="rules", text="Holes end the game.", episodes=4, successes=1)
    >>> d.success_rate
    0.25
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    text: str = ""
    version: int = Field(default=0, ge=0)
    parent: int | None = None
    source: Literal["initial", "seed", "rewrite"] = "initial"
    created_at: float = Field(default_factory=time.time)
    episodes: int = Field(default=0, ge=0)
    successes: int = Field(default=0, ge=0)
    episode_ids: list[str] = Field(default_factory=list)
    rolled_back: bool = False

    @property
    def success_rate(self) -> float | None:
        """Successes over episodes played with this version; ``None`` before the first one."""
        return self.successes / self.episodes if self.episodes else None


class DocumentHistory(BaseModel):
    """Every version of one document, the active one, and counters of rejected rewrites.

    >>> DocumentHistory.start("playbook").current.text
    ''
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    versions: list[Document]
    active: int = 0
    rejections: dict[str, int] = Field(default_factory=dict)
    rollbacks: int = 0

    @field_validator("versions")
    @classmethod
    def _numbered(cls, versions: list[Document]) -> list[Document]:
        # Version numbers double as list indices; a hand-edited file could break that.
        for index, doc in enumerate(versions):
            if doc.version != index:
                raise ValueError(f"version at position {index} is numbered {doc.version}")
        if not versions:
            raise ValueError("a document history needs at least one version")
        return versions

    @classmethod
    def start(cls, name: str, text: str = "") -> DocumentHistory:
        """A history whose only version is ``text`` (``source="seed"`` when given).

        >>> DocumentHistory.start("rules", "x").current.source
        'seed'
        """
        source: Literal["initial", "seed"] = "seed" if text else "initial"
        return cls(name=name, versions=[Document(name=name, text=text, source=source)])

    @property
    def current(self) -> Document:
        """The active version (the one prompts use)."""
        if not 0 <= self.active < len(self.versions):
            raise MemoryStoreError(
                f"document {self.name!r} points at version {self.active} but has "
                f"{len(self.versions)}; repair 'active' in its JSON file"
            )
        return self.versions[self.active]

    @property
    def failures(self) -> int:
        """Total rejected rewrites, all reasons together."""
        return sum(self.rejections.values())

    def record(self, success: bool, episode_id: str | None = None) -> Document:
        """Count one episode played with the active version; return that version.

        >>> DocumentHistory.start("rules").record(True, "ep-1").successes
        1
        """
        doc = self.current
        doc.episodes += 1
        doc.successes += int(success)
        if episode_id is not None:
            doc.episode_ids.append(episode_id)
        return doc

    def propose(self, text: str) -> Document:
        """Add an accepted rewrite of the active version and make it active.

        >>> DocumentHistory.start("rules").propose("Walls block moves.").parent
        0
        """
        if not text.strip():
            raise ConfigError(f"refusing an empty rewrite of {self.name!r}; validate it first")
        doc = Document(
            name=self.name, text=text, version=len(self.versions), parent=self.active,
            source="rewrite",
        )
        self.versions.append(doc)
        self.active = doc.version
        return doc

    def reject(self, reason: str) -> int:
        """Count a rejected rewrite under ``reason``; return that reason's new count.

        >>> DocumentHistory.start("rules").reject("empty")
        1
        """
        self.rejections[reason] = self.rejections.get(reason, 0) + 1
        return self.rejections[reason]

    def should_roll_back(self, policy: RollbackPolicy) -> bool:
        """True when the active version did worse than its parent by the policy's margin.

        >>> DocumentHistory.start("rules").should_roll_back(RollbackPolicy())
        False
        """
        doc = self.current
        if doc.parent is None or doc.episodes < policy.min_episodes:
            return False
        parent_rate = self.versions[doc.parent].success_rate
        if parent_rate is None or doc.success_rate is None:
            return False
        return doc.success_rate < parent_rate - policy.margin

    def roll_back(self) -> Document:
        """Make the active version's parent active again; return it.

        >>> h = DocumentHistory.start("rules", "a rule")
        >>> _ = h.propose("another rule"); h.roll_back().text
        'a rule'
        """
        doc = self.current
        if doc.parent is None:
            raise MemoryStoreError(
                f"version {doc.version} of {self.name!r} has no parent to roll back to"
            )
        doc.rolled_back = True
        self.active = doc.parent
        self.rollbacks += 1
        return self.current
