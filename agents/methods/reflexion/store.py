"""Reflexion reflections, stored: a short verbal lesson per failed attempt at a task.

A :class:`ReflectionStore` keeps them in ``<directory>/reflections.jsonl`` (one row per
reflection, appended) keyed by environment and task seed, so the next try of a task sees
what went wrong on the last ones. The LLM that writes them lives with the agent
(:mod:`memplay.agents.methods.reflexion.learn`).

    >>> store = ReflectionStore()
    >>> store.add(Reflection("Avoid the hole right of the start.", "reach G",
    ...                      "FrozenLake-4x4-v0", "template"), seed=3)
    >>> [r.text for r in store.for_task("FrozenLake-4x4-v0", 3)]
    ['Avoid the hole right of the start.']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from memplay.errors import ArchiveError
from memplay.memory.item import MemoryItem
from memplay.memory.jsonio import append_jsonl, read_jsonl

__all__ = ["Reflection", "ReflectionStore"]


@dataclass(frozen=True)
class Reflection:
    """A reflection on one episode.

    Attributes:
        text: The advice.
        goal: Goal of the episode (the memory's intent).
        env_id: Environment it came from.
        source: ``"llm"`` or ``"template"``.
        success: Outcome of the episode reflected on.
        seed: Task seed of the episode (None when the task has none).

    >>> Reflection("Avoid H.", "reach G", "FrozenLake-4x4-v0", "llm").to_memory_item().intent
    'reach G'
    """

    text: str
    goal: str
    env_id: str
    source: str
    success: bool = False
    seed: int | None = None

    def to_memory_item(self) -> MemoryItem:
        """This reflection as a memory item of kind ``"reflection"`` (Q starts at 0)."""
        return MemoryItem(
            intent=self.goal or self.env_id, experience=self.text, kind="reflection",
            env_id=self.env_id, metadata={"source": self.source, "success": self.success},
        )


class ReflectionStore:
    """Reflections per (environment, task seed), in memory or appended to a JSONL file.

    Args:
        directory: Where ``reflections.jsonl`` lives; None keeps them in memory.

    >>> ReflectionStore().counts()
    {'llm': 0, 'template': 0}
    """

    FILE = "reflections.jsonl"

    def __init__(self, directory: Path | str | None = None) -> None:
        self.path = None if directory is None else Path(directory) / self.FILE
        self._rows: list[Reflection] = []
        if self.path is not None:
            try:
                self._rows = [Reflection(**row) for row in read_jsonl(self.path)]
            except TypeError as exc:
                raise ArchiveError(f"{self.path} holds a row that is not a reflection ({exc}); "
                                   "fix or remove that line") from None

    def add(self, reflection: Reflection, seed: int | None = None) -> None:
        """Keep ``reflection`` (for task ``seed`` when given) and append it to the file."""
        if seed is not None:
            reflection = Reflection(**{**asdict(reflection), "seed": seed})
        self._rows.append(reflection)
        if self.path is not None:
            append_jsonl(self.path, [asdict(reflection)])

    def for_task(self, env_id: str, seed: int | None, last: int = 3) -> list[Reflection]:
        """The newest ``last`` reflections on this task, oldest first."""
        found = [r for r in self._rows if r.env_id == env_id and r.seed == seed]
        return found[-last:]

    def newest(self, n: int) -> list[Reflection]:
        """The ``n`` newest reflections of every task, oldest first."""
        return self._rows[-n:] if n > 0 else []

    def counts(self) -> dict[str, int]:
        """How many reflections the LLM wrote and how many fell back to the template."""
        return {source: sum(r.source == source for r in self._rows)
                for source in ("llm", "template")}

    def __len__(self) -> int:
        return len(self._rows)
