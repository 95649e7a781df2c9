"""Tiny stand-ins for the agent tests: a corridor env and in-memory task/step memories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from memplay.memory.item import MemoryItem
from memplay.memory.step_memory import ActionValue


class Corridor:
    """Positions 0..length-1; start at 0; 'right' at the end wins, 'left' at 0 falls in a hole.

    ``crash_on_step`` makes step number N raise (fault injection).
    """

    def __init__(self, length: int = 3, crash_on_step: int | None = None) -> None:
        self.length = length
        self.crash_on_step = crash_on_step
        self.pos = 0
        self.count = 0
        self.resets: list[int | None] = []

    def _obs(self) -> str:
        return "".join("A" if i == self.pos else "." for i in range(self.length))

    def _info(self, **extra: Any) -> dict[str, Any]:
        return {"goal": "walk right to the end", "admissible_actions": ["left", "right"],
                "invalid_actions": 0, **extra}

    def close(self) -> None:
        """Nothing to release."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[str, dict[str, Any]]:
        self.pos, self.count = 0, 0
        self.resets.append(seed)
        return self._obs(), self._info()

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self.count += 1
        if self.crash_on_step is not None and self.count == self.crash_on_step:
            raise RuntimeError("corridor exploded")
        if action == "left" and self.pos == 0:
            return self._obs(), 0.0, True, False, self._info(success=False)
        self.pos += 1 if action == "right" else -1
        won = self.pos == self.length - 1
        return self._obs(), float(won), won, False, self._info(success=won)


@dataclass
class FakeHit:
    item: MemoryItem
    sim: float
    score: float = 0.0


@dataclass
class ListTaskMemory:
    """Every stored item matches with similarity 1; ranked by Q."""

    items: list[MemoryItem] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def retrieve(self, intent: str, **kwargs: Any) -> list[FakeHit]:
        self.calls.append(("retrieve", kwargs))
        ranked = sorted(self.items, key=lambda i: -i.q)[: kwargs.get("k2", 3)]
        return [FakeHit(i, 1.0) for i in ranked]

    def update_q(self, ids: Sequence[str], reward: float, alpha: float = 0.3) -> None:
        # the real retriever takes alpha from its own config (MemRL's 0.3 by default)
        self.calls.append(("update_q", (list(ids), reward)))
        for item in self.items:
            if item.id in ids:
                item.q = item.q + alpha * (reward - item.q)

    def write_back(self, item: MemoryItem, merge_threshold: float = 0.9) -> str:
        self.calls.append(("write_back", item.experience))
        self.items.append(item)
        return item.id


@dataclass
class DictStepMemory:
    """Exact-match states; Monte Carlo Q per (state, action)."""

    table: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def estimate(self, queries: Sequence[Mapping[str, tuple[str, str]]]
                 ) -> list[dict[str, ActionValue]]:
        out = []
        for query in queries:
            values = {}
            for action, (kind, context) in query.items():
                row = self.table.get(context, {})
                if kind in row:
                    values[action] = ActionValue(row[kind][0], int(row[kind][1]), 1.0)
            out.append(values)
        return out

    def update(self, states: Sequence[str], actions: Sequence[str],
               returns: Sequence[float], alpha: float | None = None,
               source: str = "self") -> None:
        for state, action, ret in zip(states, actions, returns):
            q, n = self.table.setdefault(state, {}).get(action, [0.0, 0])
            self.table[state][action] = [q + (ret - q) / (n + 1), n + 1]


@pytest.fixture
def corridor() -> type[Corridor]:
    return Corridor


@pytest.fixture
def task_memory() -> ListTaskMemory:
    return ListTaskMemory()


@pytest.fixture
def step_memory() -> DictStepMemory:
    return DictStepMemory()
