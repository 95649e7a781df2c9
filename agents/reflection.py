"""Adapting memplay's CEL playbook manager to the ``reflect`` node's Reflector signature.

    >>> from memplay.agents.llm.fake import ScriptedLLM
    >>> from memplay.memory.reflection.playbook import PlaybookManager
    >>> from memplay.types import Trajectory
    >>> llm = ScriptedLLM(responses=["- Holes end the game.", "- Walk around the holes."])
    >>> reflect = playbook_reflector(PlaybookManager(), llm)
    >>> "Walk around the holes" in reflect([Trajectory(env_id="FrozenLake-4x4-v0")], "")
    True
"""

from __future__ import annotations

from typing import Any

from memplay.agents.context import Reflector
from memplay.agents.llm.base import LLM
from memplay.types import Trajectory

__all__ = ["playbook_reflector"]


def playbook_reflector(manager: Any, llm: LLM) -> Reflector:
    """A Reflector that lets ``manager`` (a PlaybookManager) rewrite rules and playbook
    after each finished episode and returns the documents as prompt text."""

    def reflect(trajectories: list[Trajectory], playbook: str) -> str:
        from memplay.memory.reflection.transcript import env_family

        if not trajectories:
            return playbook
        for trajectory in trajectories:
            manager.after_episode(trajectory, llm)
        family = env_family(trajectories[0].env_id)
        if manager.directory is not None:
            manager.save(family)  # the documents survive a restart with the memory
        return str(manager.render_for_prompt(family)) or playbook

    return reflect
