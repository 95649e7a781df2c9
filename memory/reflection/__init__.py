"""Memory the agent writes about itself, as stored records: playbooks, reflections,
insights, critique trees and revision trajectories.

Only storage lives here (versioned documents, JSON/JSONL files, rollback, votes, archive
members); the LLM-driven writing, the critique search and the variants that use them are
agent behaviour, in :mod:`memplay.agents.reflection`.

- :class:`PlaybookStore` (CEL): per game family, a ``rules`` and a ``playbook`` document,
  versioned, rolled back when a version does worse.
- :class:`ReflectionStore` (Reflexion): verbal reflections per task.
- :class:`InsightBook` (ExpeL): insights with votes.
- :class:`CritiqueTree`, :class:`CritiqueStore`, :class:`RevisionTrajectory` (Agent-R):
  search trees and revision trajectories spliced at the first bad step.
- :mod:`~memplay.memory.reflection.archive_files`: these files inside memory archives.

    >>> from memplay.memory.reflection import PlaybookStore
    >>> PlaybookStore().render_for_prompt("FrozenLake")
    ''
"""

from memplay.memory.reflection.budget import SizeBudget
from memplay.memory.reflection.critique import CritiqueStore, critique_item
from memplay.memory.reflection.documents import Document, DocumentHistory, RollbackPolicy
from memplay.memory.reflection.insights import Insight, InsightBook, Operation
from memplay.memory.reflection.playbook import PlaybookStore
from memplay.memory.reflection.reflections import Reflection, ReflectionStore
from memplay.memory.reflection.revision import RevisionTrajectory, Turn
from memplay.memory.reflection.tree import CritiqueTree

__all__ = [
    "CritiqueStore",
    "CritiqueTree",
    "Document",
    "DocumentHistory",
    "Insight",
    "InsightBook",
    "Operation",
    "PlaybookStore",
    "Reflection",
    "ReflectionStore",
    "RevisionTrajectory",
    "RollbackPolicy",
    "SizeBudget",
    "Turn",
    "critique_item",
]
