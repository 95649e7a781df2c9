"""Agent-R critiques: MCTS trees over a failed task, revision trajectories spliced at the
first bad step; the winning paths teach step memory.

==============  ===================================================================
what            where
==============  ===================================================================
writes          :mod:`.learn` (:class:`AgentCritic`) with :mod:`.mcts` (the search) and
                :mod:`.judges` (first bad step, revision thoughts, splicing)
stores          :mod:`.store` (``<memory>/critiques/``) and :mod:`.tree` (node-link JSON);
                the revision record itself is :mod:`memplay.trainers.revisions` (the
                trainers read it, and they sit below agents)
shows           :func:`.learn.lesson_text`: the ``<critique>`` block
exports         :mod:`.export` (SFT records and preference pairs, ``export_critiques``) and
                :mod:`.files` (trees and revisions in memory archives)
==============  ===================================================================

    >>> from memplay.agents.methods.critique import CritiqueStore
    >>> CritiqueStore().tree_ids()
    []
"""

from __future__ import annotations

from memplay._lazy import lazy_exports
from memplay.agents.methods.critique import files as files  # registers the archive files
from memplay.agents.methods.critique.store import CritiqueStore, critique_item
from memplay.agents.methods.critique.tree import ROOT, CritiqueTree

_LAZY: dict[str, str] = {
    "AgentCritic": "memplay.agents.methods.critique.learn:AgentCritic",
    "build_critique": "memplay.agents.methods.critique.learn:build_critique",
    "lesson_text": "memplay.agents.methods.critique.learn:lesson_text",
    "export_critiques": "memplay.agents.methods.critique.export:export_critiques",
    "tree_pairs": "memplay.agents.methods.critique.export:tree_pairs",
}

__all__ = [
    "ROOT",
    "AgentCritic",
    "CritiqueStore",
    "CritiqueTree",
    "build_critique",
    "critique_item",
    "export_critiques",
    "lesson_text",
    "tree_pairs",
]

__getattr__, __dir__ = lazy_exports("memplay.agents.methods.critique", _LAZY, globals(), __all__)
