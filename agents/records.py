"""Turning a finished slot into the shared record types (Trajectory, EpisodeResult).

    >>> from memplay.agents.state import new_slot
    >>> s = new_slot(0, episode=2, task="5", seed=5)
    >>> s["steps"] = [{"observation": "S.G", "action": "right", "reward": 1.0}]
    >>> s.update(done=True, success=True, reward=1.0)
    >>> to_trajectory(s, "FrozenLake-4x4-v0").actions
    ['right']
    >>> to_episode_result(s, "FrozenLake-4x4-v0").steps
    1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from memplay.types import EpisodeResult, Step, Trajectory

__all__ = ["experience_text", "to_episode_result", "to_trajectory"]


def to_trajectory(slot: Mapping[str, Any], env_id: str) -> Trajectory:
    """The slot's episode as a :class:`~memplay.types.Trajectory`."""
    return Trajectory(
        env_id=env_id,
        goal=slot["goal"],
        seed=slot["seed"],
        steps=[Step.model_validate(s) for s in slot["steps"]],
        success=slot["success"],
        total_reward=slot["reward"],
    )


def to_episode_result(slot: Mapping[str, Any], env_id: str) -> EpisodeResult:
    """The slot's per-episode row for ``episodes.jsonl``."""
    return EpisodeResult(
        episode=slot["episode"], epoch=slot["epoch"], task=slot["task"], env_id=env_id,
        seed=slot["seed"], success=slot["success"], reward=slot["reward"],
        steps=len(slot["steps"]), invalid_actions=slot["invalid_actions"],
        memories_used=list(slot["memories_used"]), llm_faults=slot["llm_faults"],
        errored=slot["error"] is not None, error=slot["error"], seconds=slot["seconds"],
        llm_seconds=slot["llm_seconds"], env_seconds=slot["env_seconds"],
        memory_sims=[float(m["sim"]) for m in slot["retrieved"]],
    )


def experience_text(trajectory: Trajectory, max_actions: int = 40) -> str:
    """The text a task-level memory stores: outcome and the action sequence.

    >>> t = Trajectory(env_id="x", goal="g", success=True,
    ...                steps=[Step(observation="o", action="up")])
    >>> experience_text(t)
    'succeeded in 1 steps with actions: up'
    """
    actions = trajectory.actions[:max_actions]
    more = " ..." if len(trajectory.actions) > max_actions else ""
    outcome = "succeeded" if trajectory.success else "failed"
    return f"{outcome} in {len(trajectory.steps)} steps with actions: {', '.join(actions)}{more}"
