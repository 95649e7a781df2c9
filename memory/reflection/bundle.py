"""All reflection memory of a run in one directory, and one prompt block built from it.

Layout under ``directory`` (inside a run directory this is ``<run>/memory/reflection``):

- ``playbooks/<family>.json`` and ``.md``: rules and playbook documents with history;
- ``critiques/trees/*.json`` and ``critiques/revisions.jsonl``: Agent-R critique memory;
- ``insights/<family>.json``: ExpeL insights of each environment family.

    >>> import tempfile
    >>> memory = ReflectionMemory(tempfile.mkdtemp())
    >>> _ = memory.playbooks.seed("FrozenLake", "rules", "- H is a hole.")
    >>> "H is a hole" in memory.prompt_context("FrozenLake-4x4-v0", goal="reach G")
    True
"""

from __future__ import annotations

from pathlib import Path

from memplay.memory.reflection.critique import CritiqueStore
from memplay.memory.reflection.insights import InsightBook
from memplay.memory.reflection.playbook import PlaybookConfig, PlaybookManager
from memplay.memory.reflection.transcript import env_family

__all__ = ["ReflectionMemory"]


class ReflectionMemory:
    """Playbooks, critiques and insights of one run (see the module docstring for the layout).

    Args:
        directory: Root folder; ``None`` keeps everything in memory.
        playbook_config: Settings of the playbook manager.

    >>> ReflectionMemory().prompt_context("Sokoban-v0", goal="push the box")
    ''
    """

    def __init__(
        self, directory: Path | str | None = None, playbook_config: PlaybookConfig | None = None
    ) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.playbooks = PlaybookManager(self._sub("playbooks"), playbook_config)
        self.critiques = CritiqueStore(self._sub("critiques"))
        self._insights: dict[str, InsightBook] = {}

    def _sub(self, name: str) -> Path | None:
        return None if self.directory is None else self.directory / name

    def insights(self, family: str) -> InsightBook:
        """The insight book of an environment family (loaded on first use).

        >>> ReflectionMemory().insights("FrozenLake").insights
        []
        """
        if family not in self._insights:
            folder = self._sub("insights")
            path = None if folder is None else folder / f"{family}.json"
            self._insights[family] = InsightBook(path)
        return self._insights[family]

    def prompt_context(self, env_id: str, goal: str, observation: str | None = None) -> str:
        """Playbook, insights and the most relevant critique, as quoted blocks ('' if none).

        Each block is delimited and labelled as data, so the prompt node can append it to a
        system or user message without it reading as instructions.
        """
        family = env_family(env_id)
        blocks = [
            self.playbooks.render_for_prompt(family),
            self.insights(family).render_for_prompt(),
            self.critiques.critique_for_prompt(goal, observation, env_id=env_id),
        ]
        return "\n\n".join(block for block in blocks if block)
