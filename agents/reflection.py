"""Adapting memplay's CEL playbook manager to the ``reflect`` node's Reflector signature.

Every finished episode is credited to the active documents (which may roll a worse version
back), but the LLM rewrites them at most once per batch and only after ``rewrite_every``
episodes: a rewrite is two generations, the slowest thing a small model on a CPU does. The
rewrite reads the batch's most informative episodes, a failure next to a success when the
batch has both.

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
from memplay.errors import ConfigError
from memplay.types import Trajectory

__all__ = ["informative", "playbook_reflector"]


def informative(trajectories: list[Trajectory]) -> list[Trajectory]:
    """The episodes a rewrite learns most from: the longest failure (it met the most of
    the game's rules), then the shortest success (the most direct way to win). The success
    comes last because small models attend most to the end of a prompt.

    >>> lose = Trajectory(env_id="x", success=False)
    >>> win = Trajectory(env_id="x", success=True)
    >>> [t.success for t in informative([win, lose, win])]
    [False, True]
    """
    failures = [t for t in trajectories if not t.success]
    successes = [t for t in trajectories if t.success]
    picked = []
    if failures:
        picked.append(max(failures, key=lambda t: len(t.steps)))
    if successes:
        picked.append(min(successes, key=lambda t: len(t.steps)))
    return picked


def playbook_reflector(manager: Any, llm: LLM, rewrite_every: int = 1) -> Reflector:
    """A Reflector that lets ``manager`` (a PlaybookManager) keep rules and playbook.

    Each call credits every finished episode to the active versions (rolling back a worse
    one), then rewrites both documents once, from :func:`informative` episodes, when at
    least ``rewrite_every`` episodes finished since the last rewrite. A rejected rewrite
    (empty, echo, loop...) keeps the old documents; the manager counts why. Returns the
    documents as prompt text (or the old ``playbook`` while both are empty).

    >>> from memplay.agents.llm.fake import ScriptedLLM
    >>> from memplay.memory.reflection.playbook import PlaybookManager
    >>> llm = ScriptedLLM(responses=["- Holes end the game.", "- Walk around the holes."])
    >>> reflect = playbook_reflector(PlaybookManager(), llm, rewrite_every=2)
    >>> reflect([Trajectory(env_id="FrozenLake-4x4-v0")], ""), len(llm.calls)
    ('', 0)
    """
    if rewrite_every < 1:
        raise ConfigError(f"rewrite_every={rewrite_every} must be >= 1; try 4")
    pending = 0  # finished episodes since the last rewrite (this run)

    def reflect(trajectories: list[Trajectory], playbook: str) -> str:
        from memplay.memory.reflection.transcript import env_family

        nonlocal pending
        if not trajectories:
            return playbook
        family = env_family(trajectories[0].env_id)
        for trajectory in trajectories:
            manager.record_episode(family, trajectory.success)  # saves, when on disk
        pending += len(trajectories)
        if pending >= rewrite_every:
            pending = 0
            manager.rewrite(informative(trajectories), llm, family)
        return str(manager.render_for_prompt(family)) or playbook

    return reflect
