"""The unit of episodic memory: one :class:`MemoryItem`.

An item answers an *intent* (the task or state it is about) with an *experience* (a procedure,
a trajectory summary, a rule...). Its learned utility lives next to it: the Q-value and the
visit/success/failure counts that MemRL-style updates maintain::

    >>> from memplay.memory.item import MemoryItem
    >>> item = MemoryItem(intent="put a clean mug on the desk", experience="go to sink, ...")
    >>> item.kind, item.q, item.visits
    ('experience', 0.0, 0)
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MemoryItem", "MemoryKind", "new_item_id", "utc_now"]

MemoryKind = Literal["experience", "reflection", "critique", "rule", "insight", "step"]


def new_item_id() -> str:
    """Return a fresh random item id (32 hex characters).

    >>> len(new_item_id())
    32
    """
    return uuid.uuid4().hex


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC (what items store).

    >>> utc_now().tzinfo is not None
    True
    """
    return datetime.now(timezone.utc)


class MemoryItem(BaseModel):
    """One memory: intent text (what is embedded), experience text, and its learned value.

    >>> MemoryItem(intent="reach the goal", q=0.5).model_dump()["q"]
    0.5
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str = Field(default_factory=new_item_id, min_length=1, description="Stable user id.")
    intent: str = Field(description="Task, goal or state this memory answers; it is embedded.")
    experience: str = Field(default="", description="Procedure, trajectory summary or rule.")
    kind: MemoryKind = Field(default="experience", description="What sort of memory this is.")
    q: float = Field(default=0.0, description="Learned utility (Monte Carlo estimate of reward).")
    visits: int = Field(default=0, ge=0, description="How many times it was used and scored.")
    successes: int = Field(default=0, ge=0, description="Uses that ended in positive reward.")
    failures: int = Field(default=0, ge=0, description="Uses that ended in non-positive reward.")
    env_id: str = Field(default="", description="Environment the experience comes from.")
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free JSON extras.")
