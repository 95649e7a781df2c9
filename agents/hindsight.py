"""Hindsight in memory: every goal an episode achieved on the way is learned as a success.

After an episode (not frozen, not errored), each goal the environment said a step achieved
(``info["achieved_goals"]``) other than the episode's own becomes a trajectory that ends at
that step and succeeds (:mod:`memplay.environments.hindsight`, with the environment's
relabeller recomputing its views for the new goal). Memory learns it exactly as it learns
a demonstration: task memory writes it back and step memory moves toward its outcome
(no novelty reward: the exploration was credited once, in the episode itself), every write
with provenance ``"hindsight"``. So a failed episode still teaches the goals it did reach.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.agents.state import Slot, StepRecord
    >>> from memplay.memory import HashEmbedder
    >>> from memplay.memory.step_memory import StepMemory
    >>> memory = StepMemory(HashEmbedder(32))
    >>> slot = Slot(0, goal="find the key", steps=[
    ...     StepRecord("hall", "take lamp", state="hall", achieved=("hold a lamp",)),
    ...     StepRecord("lamp", "go north", state="lamp")])
    >>> learn_hindsight(slot, AgentConfig(env_id="FrozenLake-4x4-v0"), None, memory)
    1
    >>> memory.sources()
    {'hindsight': 1}
"""

from __future__ import annotations

from memplay.agents.config import AgentConfig
from memplay.agents.context import StepMemoryLike, TaskMemory
from memplay.agents.demos import demo_slot
from memplay.agents.learning import learn_from, outcome_only
from memplay.agents.state import Slot
from memplay.environments.hindsight import PROVENANCE, hindsight_trajectories, relabeller_for

__all__ = ["learn_hindsight"]


def learn_hindsight(slot: Slot, config: AgentConfig, task_memory: TaskMemory | None,
                    step_memory: StepMemoryLike | None) -> int:
    """Teach memory every goal ``slot``'s episode achieved besides its own; return how many
    (0 with ``memory.hindsight`` off or nothing achieved)."""
    if not config.memory.hindsight or not slot.steps:
        return 0
    relabelled = hindsight_trajectories(slot.to_trajectory(config.env_id),
                                        relabeller_for(config.env_id))
    use_view = config.memory.step_keys == "view"
    plain = outcome_only(config)
    for trajectory in relabelled:
        learn_from(demo_slot(trajectory, use_view), plain, task_memory, step_memory,
                   PROVENANCE)
    return len(relabelled)
