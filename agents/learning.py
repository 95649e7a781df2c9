"""What memory learns from a finished episode: MemRL's task-level update and step returns.

Task memory (MemRL): every memory shown in the episode's prompts moves toward the outcome,
``Q <- Q + alpha * (r - Q)`` with ``r = +1`` for a success and ``-1`` otherwise, and the
episode is written back as a new memory (merged into a near duplicate).

Step memory: each (state, action) of the episode moves toward its *return* (see
:func:`step_returns`), the learning signal that lets a frozen 135M model walk FrozenLake.

    >>> from memplay.memory.config import MemoryConfig
    >>> step_returns(["a", "b"], [0, 0], success=True, truncated=False,
    ...              cfg=MemoryConfig(gamma=0.5, novelty=0.0))
    [0.5, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence

from memplay.agents.config import AgentConfig
from memplay.agents.context import StepMemoryLike, TaskMemory
from memplay.agents.state import Slot
from memplay.memory.config import MemoryConfig
from memplay.memory.item import MemoryItem
from memplay.types import Trajectory

__all__ = ["experience_text", "learn_from", "learn_task", "outcome_only", "step_returns"]


def experience_text(trajectory: Trajectory, max_actions: int = 40) -> str:
    """The text a task-level memory stores: outcome and the action sequence.

    >>> from memplay.types import Step
    >>> t = Trajectory(env_id="x", goal="g", success=True,
    ...                steps=[Step(observation="o", action="up")])
    >>> experience_text(t)
    'succeeded in 1 steps with actions: up'
    """
    actions = trajectory.actions[:max_actions]
    more = " ..." if len(trajectory.actions) > max_actions else ""
    outcome = "succeeded" if trajectory.success else "failed"
    return f"{outcome} in {len(trajectory.steps)} steps with actions: {', '.join(actions)}{more}"


def _first_visit_novelty(keys: Sequence[str], seen_before: Sequence[int],
                         beta: float) -> list[float]:
    """Intrinsic reward per step: ``beta / sqrt(1 + N)`` when the step reached a state for
    the first time in this episode (``N``: its visits in memory), else 0. Loops earn nothing;
    paths to rarely seen states keep a high return, so exploration heads for the frontier."""
    out = [0.0] * len(keys)
    for i in range(len(keys) - 1):
        if keys[i + 1] not in keys[: i + 1]:
            out[i] = beta / (1 + seen_before[i + 1]) ** 0.5
    return out


def _credit_loop_free_path(keys: Sequence[str], returns: list[float], gamma: float) -> None:
    """Add a success's discounted +1 to the loop-erased path only: a move from a state the
    episode came back to later was part of a detour, and crediting it would teach the loop."""
    path: list[int] = []  # step indices of the path with every loop cut out
    for i, key in enumerate(keys):
        seen = [keys[p] for p in path]
        if key in seen:
            path = path[: seen.index(key)]
        path.append(i)
    for distance, i in enumerate(reversed(path)):
        returns[i] += gamma**distance


def step_returns(keys: Sequence[str], visits: Sequence[int], *, success: bool, truncated: bool,
                 cfg: MemoryConfig) -> list[float]:
    """The return step memory learns for each step of a finished episode.

    ``keys`` are the states acted from (step memory's keys) and ``visits`` how often memory
    had seen each before. Outcome: +1 on the last move of a success, -1 on the last move of
    a failure, 0 for a time-out; plus a novelty reward for each first visit to a rarely seen
    state. Returns are discounted sums (``gamma``): a success is credited to the path that
    led to it, and moves toward unexplored states keep a high value. Only the fatal move of a
    failure is blamed, so the safe moves before it do not look worse than useless ones. A
    move that left the state unchanged (a wall) gets at most ``-noop_penalty``.

    >>> cfg = MemoryConfig(gamma=0.5, noop_penalty=0.5, novelty=0.0)
    >>> step_returns("aab", [0, 0, 0], success=True, truncated=False, cfg=cfg)
    [-0.5, 0.5, 1.0]
    >>> cfg = MemoryConfig(gamma=0.5, noop_penalty=0.0, novelty=0.0)
    >>> step_returns("abac", [0] * 4, success=True, truncated=False, cfg=cfg)  # a-b-a: detour
    [0.0, 0.0, 0.5, 1.0]
    """
    rewards = _first_visit_novelty(keys, visits, cfg.novelty)
    returns, running = [0.0] * len(keys), 0.0
    for i in reversed(range(len(keys))):
        running = rewards[i] + cfg.gamma * running
        returns[i] = running
    if success:
        _credit_loop_free_path(keys, returns, cfg.gamma)
    if keys and not success and not truncated:
        returns[-1] = -1.0  # not discounted back: only the fatal move is to blame
    for i in range(len(keys) - 1):
        if keys[i] == keys[i + 1]:
            returns[i] = min(returns[i], -cfg.noop_penalty)
    return returns


def outcome_only(config: AgentConfig) -> AgentConfig:
    """``config`` without the novelty reward, for episodes the agent did not explore itself
    (demos, hindsight relabels): their value is their outcome alone, else the first steps,
    which led to the most new states, outrank the steps that finish the task.

    >>> outcome_only(AgentConfig()).memory.novelty
    0.0
    """
    return config.model_copy(update={"memory": config.memory.model_copy(
        update={"novelty": 0.0})})


def learn_from(slot: Slot, config: AgentConfig, task_memory: TaskMemory | None,
               step_memory: StepMemoryLike | None, provenance: str = "self") -> None:
    """Update task and step memory from one finished episode; ``provenance`` says whose
    experience it is ("self", or "demo"/"import" for episodes the agent did not play)."""
    learn_task(slot, config, task_memory, provenance)
    if step_memory is not None:
        # returns follow the exact states (loops are found there); values go to each key
        returns = step_returns([s.state for s in slot.steps], [s.visits for s in slot.steps],
                               success=slot.success, truncated=slot.truncated,
                               cfg=config.memory)
        keys = [s.memory_key for s in slot.steps]
        step_memory.update([c for _, c in keys], [k for k, _ in keys], returns,
                           source=provenance)


def learn_task(slot: Slot, config: AgentConfig, task_memory: TaskMemory | None,
               provenance: str = "self") -> None:
    """MemRL's task-level update from one finished episode (nothing without task memory or
    steps): the memories it was shown move toward its outcome, and it is written back."""
    if task_memory is None or not slot.steps:
        return
    trajectory = slot.to_trajectory(config.env_id)
    if slot.memories_used:  # alpha, q_init and the merge threshold are the retriever's
        task_memory.update_q(slot.memories_used, 1.0 if slot.success else -1.0)
    task_memory.write_back(MemoryItem(
        intent=f"{slot.goal}\n{slot.steps[0].observation}",
        experience=experience_text(trajectory), env_id=config.env_id,
        metadata={"provenance": provenance}))
