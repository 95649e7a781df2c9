"""Memory the agent writes about itself: playbooks, rules, reflections, critique trees.

- :class:`PlaybookManager` (CEL): per game family, a ``rules`` and a ``playbook`` document
  rewritten by the LLM after episodes, versioned, rolled back when a version does worse.
- :class:`Reflector` (Reflexion) and :class:`InsightBook` (ExpeL): verbal reflections after
  failures and voted insights, both exported as memory items.
- :class:`MCTS`, :class:`CritiqueTree`, :class:`CritiqueStore` (Agent-R): search trees over
  actions, revision trajectories spliced at the first bad step, training data export.
- :mod:`~memplay.memory.reflection.archive_files`: these files inside memory archives.

The agents use them through ``memplay.agents.reflection`` (variant ``memrl+playbook``) and
``memplay.agents.critique`` (variant ``memrl+critique``).

    >>> from memplay.memory.reflection import PlaybookManager
    >>> PlaybookManager().render_for_prompt("FrozenLake")
    ''
"""

from memplay.memory.reflection.budget import SizeBudget
from memplay.memory.reflection.bundle import ReflectionMemory
from memplay.memory.reflection.critique import CritiqueStore, critique_item
from memplay.memory.reflection.documents import Document, DocumentHistory, RollbackPolicy
from memplay.memory.reflection.insights import Insight, InsightBook, Operation
from memplay.memory.reflection.mcts import MCTS, MCTSConfig, random_policy
from memplay.memory.reflection.playbook import PlaybookConfig, PlaybookManager, RewriteOutcome
from memplay.memory.reflection.reflections import Reflection, Reflector
from memplay.memory.reflection.revision import (
    LLMJudge,
    RevisionTrajectory,
    ThoughtWriter,
    ValueJudge,
    build_revision,
    revisions_from_tree,
)
from memplay.memory.reflection.training_data import preference_pairs, revision_record
from memplay.memory.reflection.transcript import env_family
from memplay.memory.reflection.tree import CritiqueTree

__all__ = [
    "MCTS",
    "CritiqueStore",
    "CritiqueTree",
    "Document",
    "DocumentHistory",
    "Insight",
    "InsightBook",
    "LLMJudge",
    "MCTSConfig",
    "Operation",
    "PlaybookConfig",
    "PlaybookManager",
    "Reflection",
    "ReflectionMemory",
    "Reflector",
    "RevisionTrajectory",
    "RewriteOutcome",
    "RollbackPolicy",
    "SizeBudget",
    "ThoughtWriter",
    "ValueJudge",
    "build_revision",
    "critique_item",
    "env_family",
    "preference_pairs",
    "random_policy",
    "revision_record",
    "revisions_from_tree",
]
