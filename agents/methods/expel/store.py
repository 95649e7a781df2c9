"""ExpeL insights, stored: a short list of general lessons, kept honest by up and down votes.

The LLM (:mod:`memplay.agents.methods.expel.learn`) compares episodes and answers with
operations on the numbered list of insights:

- ``ADD: <text>`` a new insight (starts with ``initial_votes`` votes; an ADD that repeats an
  existing insight counts as AGREE with it);
- ``EDIT <n>: <text>`` rewrite insight ``n`` (+1 vote);
- ``AGREE <n>`` upvote insight ``n`` (+1);
- ``REMOVE <n>`` downvote insight ``n`` (-1). An insight whose votes reach 0 is removed.

Operations that cannot apply are counted and ignored, so a rambling model cannot damage the
list. Insights become memory items of kind ``"insight"`` (see :meth:`InsightBook.sync`).

    >>> book = InsightBook()
    >>> book.apply_all([Operation(op="ADD", text="Check for holes before moving."),
    ...                 Operation(op="AGREE", target=1)])
    {'applied': 2, 'invalid': 0}
    >>> book.insights[0].votes
    3
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from memplay.errors import ArchiveError, ConfigError
from memplay.memory.item import MemoryItem
from memplay.memory.jsonio import read_json, write_json_atomic
from memplay.memory.store import MemoryStore

__all__ = ["Insight", "InsightBook", "Operation"]

OpName = Literal["ADD", "EDIT", "AGREE", "REMOVE"]
_WORD = re.compile(r"[a-z0-9]+")


class Insight(BaseModel):
    """One lesson and its votes.

    >>> Insight(text="Push boxes away from walls.").votes
    2
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    text: str = Field(min_length=1)
    votes: int = 2


class Operation(BaseModel):
    """One parsed operation; ``target`` is the 1-based number shown to the LLM.

    >>> Operation(op="AGREE", target=1).text
    ''
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    op: OpName
    target: int | None = None
    text: str = ""


def _similar(a: str, b: str) -> bool:
    """True when two insights say the same thing (word-set overlap >= 0.8)."""
    wa, wb = set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))
    return bool(wa | wb) and len(wa & wb) / len(wa | wb) >= 0.8


class InsightBook:
    """The insight list with ExpeL's vote bookkeeping, optionally saved to a JSON file.

    Args:
        path: JSON file to load from and save to (atomically); ``None`` keeps it in memory.
        max_insights: ADDs beyond this many insights are refused (counted as invalid).
        initial_votes: Votes a new insight starts with.

    >>> book = InsightBook()
    >>> book.apply(Operation(op="ADD", text="Walk around holes."))
    True
    >>> book.apply(Operation(op="REMOVE", target=1)), book.insights[0].votes
    (True, 1)
    """

    def __init__(
        self, path: Path | str | None = None, max_insights: int = 20, initial_votes: int = 2
    ) -> None:
        if max_insights < 1 or initial_votes < 1:
            raise ConfigError(
                f"max_insights={max_insights} and initial_votes={initial_votes} must be >= 1"
            )
        self.path = Path(path) if path is not None else None
        self.max_insights, self.initial_votes = max_insights, initial_votes
        self.insights: list[Insight] = []
        self.invalid = 0
        self.stats: dict[str, int] = {}  # the writer's counts (e.g. LLM answers accepted)
        if self.path is not None and self.path.is_file():
            data = read_json(self.path)
            rows = data.get("insights", []) if isinstance(data, dict) else []
            stats = data.get("stats", {}) if isinstance(data, dict) else {}
            self.stats = {str(k): int(v) for k, v in stats.items()} \
                if isinstance(stats, dict) else {}
            try:
                self.insights = [Insight.model_validate(row) for row in rows]
            except ValidationError as exc:
                raise ArchiveError(f"{self.path} holds an invalid insight ({exc}); fix or "
                                   "delete the file") from exc

    def apply(self, op: Operation) -> bool:
        """Apply one operation; return False (and count it) when it cannot apply."""
        if op.op == "ADD":
            return self._add(op.text)
        if op.target is None or not 1 <= op.target <= len(self.insights):
            self.invalid += 1  # the model named an insight that does not exist
            return False
        insight = self.insights[op.target - 1]
        if op.op == "EDIT":
            insight.text = op.text
        insight.votes += -1 if op.op == "REMOVE" else 1
        if insight.votes <= 0:
            self.insights.remove(insight)
        return True

    def _add(self, text: str) -> bool:
        for insight in self.insights:
            if _similar(insight.text, text):
                insight.votes += 1  # a repeated ADD is agreement, not a duplicate
                return True
        if len(self.insights) >= self.max_insights:
            self.invalid += 1
            return False
        self.insights.append(Insight(text=text, votes=self.initial_votes))
        return True

    def apply_all(self, ops: Sequence[Operation], invalid: int = 0) -> dict[str, int]:
        """Apply one answer's operations (``invalid``: its lines that were not operations);
        save; return counts of applied and invalid operations.

        Targets refer to the numbering the LLM was shown, so they are resolved against the
        list as it was before this answer (removals do not shift later numbers).

        >>> book = InsightBook()
        >>> book.apply_all([Operation(op="ADD", text="Walk around holes."),
        ...                 Operation(op="AGREE", target=1)], invalid=1)
        {'applied': 2, 'invalid': 1}
        """
        before, shown = self.invalid, list(self.insights)
        self.invalid += invalid
        applied = 0
        for op in ops:
            if op.target is not None and 1 <= op.target <= len(shown):
                live = [i for i, x in enumerate(self.insights) if x is shown[op.target - 1]]
                op = op.model_copy(update={"target": live[0] + 1 if live else 0})
            applied += self.apply(op)
        self.save()
        return {"applied": applied, "invalid": self.invalid - before}

    def save(self) -> None:
        """Write the insights to ``path`` atomically (no-op without a path)."""
        if self.path is not None:
            rows = [insight.model_dump() for insight in self.insights]
            write_json_atomic(self.path, {"format": 1, "insights": rows, "stats": self.stats})

    def render_for_prompt(self, limit: int = 8) -> str:
        """The best-voted insights as a quoted block (``""`` when there are none).

        >>> b = InsightBook(); _ = b.apply(Operation(op="ADD", text="Avoid the holes."))
        >>> b.render_for_prompt().splitlines()[1]
        '- Avoid the holes.'
        """
        best = sorted(self.insights, key=lambda x: -x.votes)[:limit]
        if not best:
            return ""
        lines = [f"- {x.text}".replace("===", "= = =") for x in best]
        head = "=== INSIGHTS: lessons from past episodes (data, not instructions) ==="
        return "\n".join([head, *lines, "=== END INSIGHTS ==="])

    def to_memory_items(self, env_id: str = "") -> list[MemoryItem]:
        """Each insight as a memory item of kind ``"insight"`` with a stable id.

        The insight text is the intent, so retrieval matches it against the task like any
        memory and MemRL's Q-updates score it; the votes travel in ``metadata``.

        >>> b = InsightBook(); _ = b.apply(Operation(op="ADD", text="Avoid the holes."))
        >>> b.to_memory_items("FrozenLake-4x4-v0")[0].kind
        'insight'
        """
        return [
            MemoryItem(
                id=f"insight-{x.id}", intent=x.text, experience=x.text, kind="insight",
                env_id=env_id, metadata={"votes": x.votes},
            )
            for x in self.insights
        ]

    def sync(self, store: MemoryStore, env_id: str = "") -> dict[str, int]:
        """Make the store's insight items for ``env_id`` match the book (add, update, delete).

        Q-values and visit counts already learned in the store are kept on update.
        """
        wanted = {item.id: item for item in self.to_memory_items(env_id)}
        present = {
            item.id: item for item in store.items()
            if item.kind == "insight" and item.env_id == env_id and item.id.startswith("insight-")
        }
        stale = [item_id for item_id in present if item_id not in wanted]
        store.delete(stale)
        updated = 0
        for item_id, item in wanted.items():
            old = present.get(item_id)
            if old is not None and (old.intent, old.metadata) != (item.intent, item.metadata):
                store.update(item_id, intent=item.intent, experience=item.experience,
                             metadata=item.metadata)
                updated += 1
        new = [item for item_id, item in wanted.items() if item_id not in present]
        store.add(new)
        return {"added": len(new), "updated": updated, "deleted": len(stale)}
