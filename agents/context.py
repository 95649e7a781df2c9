"""AgentContext: the live objects nodes need but the graph state must not hold.

Environments, the LLM and memory stores are not serialisable, so they travel as LangGraph's
run-time *context* (``graph.invoke(state, context=ctx)``), never as checkpointed state.
The protocols below name exactly what the nodes call, so any object with these methods
(memplay's own MemRL retriever, step memory and reflections, or a user's) plugs in.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.llm.fake import ScriptedLLM
    >>> ctx = AgentContext(envs=[], llm=ScriptedLLM(), config=AgentConfig(variant="none"))
    >>> ctx.task_memory is None, ctx.reflections
    (True, [])
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast, runtime_checkable

from memplay.agents.config import AgentConfig
from memplay.agents.score_memo import ScoreMemo
from memplay.environments.executors.workers import EnvWorkers, LocalEnvs
from memplay.llm.base import LLM
from memplay.types import Trajectory

__all__ = [
    "AgentContext",
    "Env",
    "Reflection",
    "RetrievedLike",
    "StateKey",
    "StepMemoryLike",
    "TaskMemory",
    "default_state_key",
]


class Env(Protocol):
    """The text-environment contract (Gymnasium-like) the nodes use."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[str, dict[str, Any]]:
        """Start an episode; return (observation, info)."""
        ...

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Apply one action; return (obs, reward, terminated, truncated, info)."""
        ...


class RetrievedLike(Protocol):
    """One retrieved memory: the item (with ``id``, ``experience``, ``q``) and its similarity."""

    item: Any
    sim: float


class TaskMemory(Protocol):
    """Task-level MemRL memory: retrieve by intent, update Q, write episodes back."""

    def retrieve(self, intent: str, **kwargs: Any) -> Sequence[RetrievedLike]:
        """Two-phase retrieval (similarity then Q) for one intent."""
        ...

    def update_q(self, ids: Sequence[str], reward: float) -> Any:
        """Monte Carlo update Q <- Q + alpha * (reward - Q) of the used memories."""
        ...

    def write_back(self, item: Any) -> Any:
        """Store a new episode memory, merging it into a near duplicate."""
        ...


class StepMemoryLike(Protocol):
    """Step-level memory: a value per ``(kind, context)`` key (see
    :func:`~memplay.agents.nodes.action_keys` and
    :class:`~memplay.memory.step_memory.StepMemory`)."""

    def estimate(self, queries: Sequence[Mapping[str, tuple[str, str]]]
                 ) -> Sequence[Mapping[str, Any]]:
        """For each decision, action -> :class:`~memplay.memory.step_memory.ActionValue`,
        each action given as its (kind, context) key."""
        ...

    def update(self, states: Sequence[str], actions: Sequence[str],
               returns: Sequence[float], alpha: float | None = None,
               source: str = "self") -> Any:
        """Move Q(context, kind) toward each return and count the visit (contexts first);
        ``source`` is the provenance of the experience."""
        ...


@runtime_checkable
class Reflection(Protocol):
    """Memory the agent writes about itself: it learns from finished episodes and speaks
    in prompts. CEL playbooks, Agent-R critiques, Reflexion reflections and ExpeL insights
    all have this shape (see :mod:`memplay.agents.methods`).

    ``tag`` names the prompt block (``<playbook>``, ``<critique>``...).
    """

    tag: str

    def learn(self, trajectories: Sequence[Trajectory],
              step_memory: StepMemoryLike | None = None) -> Any:
        """Learn from a batch's finished (not errored) episodes, successes and failures."""
        ...

    def prompt_text(self, goal: str, observation: str, seed: int | None = None) -> str:
        """What to show for this task and state (``""`` when nothing)."""
        ...


EnvFactory = Callable[[], Env]

StateKey = Callable[[Any, str, dict[str, Any]], str]
"""``(env, observation, info) -> text`` that step memory files a state under."""


def default_state_key(env: Any, observation: str, info: dict[str, Any]) -> str:
    """The canonical text of the current state, without transient messages such as
    "You moved right." that would split one state into many.

    ``info["state"]`` when the environment gives it; else ``env.render()`` for memplay's
    text environments (it renders the state the observation ends with); else the
    observation itself.

    >>> default_state_key(None, "You moved.\\nA..", {"state": "A.."})
    'A..'
    >>> default_state_key(None, "A..", {})
    'A..'
    """
    from memplay.environments.core import TextEnv

    key = info.get("state")
    if isinstance(key, str) and key:
        return key
    if isinstance(env, TextEnv):
        return env.render()
    return observation


@dataclass
class AgentContext:
    """Everything live a graph run needs. One environment per lockstep slot.

    Attributes:
        envs: The environments, addressed by slot index: an
            :class:`~memplay.environments.executors.workers.EnvWorkers` (in this process, in worker
            processes, on Ray) or a plain list of env objects (wrapped in
            :class:`~memplay.environments.executors.workers.LocalEnvs`).
        llm: Any backend implementing the LLM protocol.
        config: The run's :class:`AgentConfig`.
        task_memory: MemRL retriever (None: no task-level memory).
        step_memory: Step-level memory (None: no action prior and no novelty bonus).
        reflections: Self-written memories (playbook, critique, reflexion, expel...), asked
            for prompt text at every decision and taught after every batch.
        env_factory: Builds a fresh environment to replace one that crashed.
        rng: The agent's own randomness (action sampling), seeded from ``config.seed``.
        state_key: Maps (env, observation, info) to the text step memory keys a state by.
        llm_bias: Running (sum, count) of the LLM's normalised score per action text, for
            calibration (see :func:`memplay.agents.policy.calibrate`).
        strategy_memory: Regrets and average strategy per information state (variants
            with ``strategy_memory``; a :class:`~memplay.memory.strategy_memory.StrategyMemory`).
        score_memo: The model's scores kept per episode for ``policy.reuse_scores``.
    """

    envs: list[Env] | EnvWorkers
    llm: LLM
    config: AgentConfig
    task_memory: TaskMemory | None = None
    step_memory: StepMemoryLike | None = None
    reflections: list[Reflection] = field(default_factory=list)
    env_factory: EnvFactory | None = None
    rng: random.Random = field(default_factory=random.Random)
    state_key: StateKey = default_state_key
    llm_bias: dict[str, list[float]] = field(default_factory=dict)
    strategy_memory: Any = None
    score_memo: ScoreMemo = field(default_factory=ScoreMemo)

    def __post_init__(self) -> None:
        self.rng.seed(self.config.seed)
        if isinstance(self.envs, list):
            self.envs = LocalEnvs.from_envs(self.envs, self.env_factory)

    @property
    def workers(self) -> EnvWorkers:
        """The environments as a batch interface (``reset_many``, ``step_many``, ``renew``)."""
        return cast(EnvWorkers, self.envs)

    def env_at(self, index: int) -> Any:
        """The env object of slot ``index`` when it lives in this process, else None (a
        state key then reads ``info`` alone).

        >>> from memplay.llm.fake import ScriptedLLM
        >>> AgentContext(envs=[], llm=ScriptedLLM(), config=AgentConfig()).env_at(0) is None
        True
        """
        envs = self.envs.envs if isinstance(self.envs, LocalEnvs) else []
        return envs[index] if 0 <= index < len(envs) else None
