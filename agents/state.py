"""The graph state: small typed records that LangGraph checkpoints and nodes copy.

One state carries a *batch* of episodes stepped in lockstep; each episode is a :class:`Slot`.
A slot holds what the episode has done (:class:`StepRecord` per step), what memory recalled
for the current decision (:class:`Recall`) and the decision itself. Records render
themselves into the shared types (:meth:`Slot.to_trajectory`, :meth:`StepRecord.to_step`),
so no other module needs to know their fields. Environments, the LLM and memory stores are
not state: they live in :class:`~memplay.agents.context.AgentContext`.

Nodes never mutate a slot: they return copies (``slot.but(done=True)``), so a checkpointed
state is never altered behind LangGraph's back.

    >>> state = initial_state([Slot(0, task="3", seed=3)])
    >>> state["slots"][0].done, active(state["slots"])[0].seed
    (False, 3)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from memplay.environments.hindsight import ACHIEVED
from memplay.llm.base import Prompt
from memplay.memory.outcome_sampling import Decision
from memplay.memory.step_memory import ActionValue
from memplay.types import DecisionStats, EpisodeResult, Step, Trajectory

__all__ = ["AgentState", "Key", "Memory", "Recall", "Slot", "StepRecord", "action_keys", "active",
           "initial_state", "replace_slots"]


# The keys step memory files experience under: ``(kind, context)`` per admissible action.
# With ``memory.step_keys="view"`` and an environment that gives a portable view
# (``info["view"]``, docs/CONTRACTS.md "Portable views"), each action is keyed by the view's
# map-independent ``(kind, context)``, so a value learned on one map is found on another.
# Without a view (or with ``step_keys="state"``) the key is ``(action text, state text)``:
# the whole-state table, which only ever matches the same board.

Key = tuple[str, str]


def action_keys(state: str, view: Mapping[str, Any] | None, admissible: Sequence[str],
                use_view: bool = True) -> dict[str, Key]:
    """Each admissible action's key; an action the view does not describe falls back to
    ``(action, state)``.

    >>> action_keys("board", None, ["up"])
    {'up': ('up', 'board')}
    """
    entries = view.get("actions", {}) if use_view and isinstance(view, Mapping) else {}
    keys = {}
    for action in admissible:
        entry = entries.get(action)
        if isinstance(entry, Mapping):
            keys[action] = (str(entry["kind"]), str(entry["context"]))
        else:
            keys[action] = (action, state)
    return keys


@dataclass(frozen=True)
class StepRecord:
    """One step an episode took: what was seen, what was done and what came of it.

    ``state`` is the exact state text (loops and detours are found with it), ``key`` the
    ``(kind, context)`` step memory files the action under (see
    :func:`~memplay.agents.nodes.action_keys`), ``visits`` how often memory had seen that
    situation before this step (the novelty reward uses it), ``seat`` the player who moved
    in a two-player game (None otherwise), ``view`` the environment's portable view of the
    state, when it gives one (stored with the step, so a trainer can rebuild the view prompt
    and memory's choice for every action offered there) and ``achieved`` the goals the
    environment said this step achieved (``info["achieved_goals"]``; hindsight relabelling
    learns from them).

    >>> r = StepRecord(observation="S.G", action="right", reward=1.0, state="S.G")
    >>> r.to_step().info
    {'state': 'S.G', 'visits': 0, 'key': ['right', 'S.G']}
    """

    observation: str
    action: str
    reward: float = 0.0
    admissible: list[str] = field(default_factory=list)
    state: str = ""
    visits: int = 0
    thought: str | None = None
    key: tuple[str, str] | None = None
    seat: int | None = None
    view: dict[str, Any] | None = None
    achieved: tuple[str, ...] = ()

    @property
    def memory_key(self) -> tuple[str, str]:
        """The step memory key of the action taken (``(action, state)`` without a view)."""
        return self.key if self.key is not None else (self.action, self.state)

    def to_step(self) -> Step:
        """This step as the shared :class:`~memplay.types.Step` (what trajectories store)."""
        info: dict[str, Any] = {"state": self.state, "visits": self.visits,
                                "key": list(self.memory_key)}
        if self.seat is not None:
            info["seat"] = self.seat
        if self.view is not None:
            info["view"] = self.view
        if self.achieved:
            info[ACHIEVED] = list(self.achieved)
        return Step(observation=self.observation, action=self.action, reward=self.reward,
                    admissible_actions=list(self.admissible), thought=self.thought, info=info)


@dataclass(frozen=True)
class Memory:
    """A task-level memory shown in the prompt: its text, learned Q and similarity.

    >>> Memory("m1", "went down twice", q=0.5, sim=0.9).q
    0.5
    """

    id: str
    text: str
    q: float = 0.0
    sim: float = 0.0


@dataclass(frozen=True)
class Recall:
    """What memory offers for the current decision.

    Attributes:
        memories: Task-level memories (retrieved once, at the episode's first step).
        values: Step memory's estimate for each admissible action in the current state.
        lessons: ``(tag, text)`` blocks from reflections (playbook, critique...).

    >>> Recall().values
    {}
    """

    memories: list[Memory] = field(default_factory=list)
    values: dict[str, ActionValue] = field(default_factory=dict)
    lessons: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Slot:
    """One episode in flight. ``index`` is the environment it runs in; in a two-player
    game ``seat`` is the player to move now (the env's ``info["to_play"]``) and, when a
    strategy memory plays, ``decisions`` are the episode's moves as it learns from them.

    >>> s = Slot(1, episode=7)
    >>> s.episode, s.but(done=True).done, s.done
    (7, True, False)
    """

    index: int
    episode: int = 0
    epoch: int = 0
    task: str = ""
    seed: int | None = None
    started: bool = False
    goal: str = ""
    observation: str = ""
    state: str = ""
    view: dict[str, Any] | None = None
    admissible: list[str] = field(default_factory=list)
    seat: int | None = None
    steps: list[StepRecord] = field(default_factory=list)
    decisions: tuple[Decision, ...] = ()
    recall: Recall = field(default_factory=Recall)
    prompt: Prompt = ""
    action: str = ""
    thought: str | None = None
    done: bool = False
    truncated: bool = False
    success: bool = False
    reward: float = 0.0
    invalid_actions: int = 0
    llm_faults: int = 0
    error: str | None = None
    seconds: float = 0.0
    llm_seconds: float = 0.0  # this episode's share of the batched LLM calls
    env_seconds: float = 0.0  # time in env.step
    decision_stats: DecisionStats = field(default_factory=DecisionStats)  # model calls...
    hindsight: int = 0  # goals achieved on the way that memory learned as successes

    def but(self, **changes: Any) -> Slot:
        """A copy with ``changes`` applied (slots are immutable).

        >>> Slot(0).but(goal="reach G").goal
        'reach G'
        """
        return dataclasses.replace(self, **changes)

    def failed(self, error: str) -> Slot:
        """This episode, ended by a fault (it counts as errored, not as a failure).

        >>> Slot(0).failed("reset failed").error
        'reset failed'
        """
        return self.but(done=True, success=False, error=error)

    @property
    def session(self) -> str:
        """The key a backend caches this episode's prompt states under (between steps).

        >>> Slot(2, episode=17).session
        'episode-17'
        """
        return f"episode-{self.episode}"

    @property
    def memories_used(self) -> list[str]:
        """Ids of the task memories shown in this episode's prompts."""
        return [m.id for m in self.recall.memories]

    def to_trajectory(self, env_id: str) -> Trajectory:
        """The episode as a :class:`~memplay.types.Trajectory`.

        >>> s = Slot(0, seed=5, steps=[StepRecord("S.G", "right", 1.0)], success=True)
        >>> s.to_trajectory("FrozenLake-4x4-v0").actions
        ['right']
        """
        return Trajectory(env_id=env_id, goal=self.goal, seed=self.seed,
                          steps=[s.to_step() for s in self.steps], success=self.success,
                          total_reward=self.reward)

    def to_result(self, env_id: str) -> EpisodeResult:
        """The episode's row of ``episodes.jsonl``.

        >>> Slot(0, episode=2, steps=[StepRecord("o", "a")]).to_result("x").steps
        1
        """
        return EpisodeResult(
            episode=self.episode, epoch=self.epoch, task=self.task, env_id=env_id,
            seed=self.seed, success=self.success, reward=self.reward, steps=len(self.steps),
            invalid_actions=self.invalid_actions, memories_used=self.memories_used,
            llm_faults=self.llm_faults, errored=self.error is not None, error=self.error,
            seconds=self.seconds, llm_seconds=self.llm_seconds, env_seconds=self.env_seconds,
            memory_sims=[m.sim for m in self.recall.memories],
            decision_stats=self.decision_stats, hindsight=self.hindsight)


class AgentState(TypedDict):
    """What flows between nodes: the batch of slots."""

    slots: list[Slot]


def initial_state(slots: list[Slot]) -> AgentState:
    """Wrap slots into a graph input.

    >>> len(initial_state([Slot(0), Slot(1)])["slots"])
    2
    """
    return AgentState(slots=slots)


def active(slots: list[Slot]) -> list[Slot]:
    """Slots whose episode is still running.

    >>> active([Slot(0, done=True), Slot(1)])[0].index
    1
    """
    return [s for s in slots if not s.done]


def replace_slots(slots: list[Slot], updated: list[Slot]) -> list[Slot]:
    """Return ``slots`` with the ones in ``updated`` (matched by index) swapped in.

    >>> a, b = Slot(0), Slot(1)
    >>> [s.done for s in replace_slots([a, b], [b.but(done=True)])]
    [False, True]
    """
    by_index = {s.index: s for s in updated}
    return [by_index.get(s.index, s) for s in slots]
