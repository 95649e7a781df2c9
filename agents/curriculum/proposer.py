"""The proposer curriculum: a proposer sets the generator's knobs, a solver plays, a judge
rewards the proposer for tasks of intermediate success.

As in Absolute Zero, SPC or eva, task making is a role of its own. Each batch runs a small
LangGraph graph::

    propose -> solve -> judge

- ``propose`` picks, for every episode of the batch, an arm of the task space: a generator
  setting (Sokoban size, boxes and walls; FrozenLake size and hole density; TextWorld rooms,
  objects and quest length). The default proposer is a bandit over the arms (a 135M model
  cannot design levels); with ``options.llm`` the agent's LLM picks among the arms, shown
  with their knobs and recent success.
- ``solve`` plays the tasks: the agent's own episode graph, run by the runner.
- ``judge`` scores every arm played: ``reward = 1 - |2 p - 1|`` with ``p`` the arm's recent
  success rate (last ``window`` results, uniform prior), so tasks that are always solved or
  never solved earn nothing and the proposer drifts toward the learner's frontier. The
  arm's value moves toward the reward, ``V <- (1 - alpha) V + alpha reward``.

    >>> intermediate_reward(0.5), intermediate_reward(0.75), intermediate_reward(0.0)
    (1.0, 0.5, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from pydantic import Field

from memplay.agents.curriculum.base import (
    ArmBook,
    CurriculumSetup,
    Outcome,
    Planned,
    SamplerOptions,
    Solve,
    Task,
    TaskSampler,
    pick_arms,
)
from memplay.agents.policy import llm_scores, log_softmax
from memplay.errors import ConfigError

__all__ = ["ProposerOptions", "ProposerSampler", "build_proposer_graph", "intermediate_reward"]


class ProposerOptions(SamplerOptions):
    """The proposer's settings (``curriculum.options``)."""

    alpha: float = Field(default=0.5, gt=0.0, le=1.0, description="Step of arm values.")
    temperature: float = Field(default=0.15, gt=0.0, description="Boltzmann temperature.")
    explore: float = Field(default=0.1, ge=0.0, le=1.0, description="Uniform share of draws.")
    window: int = Field(default=8, ge=1, description="Recent results the judge rates by.")
    llm: bool = Field(default=False, description="The agent's LLM proposes (else a bandit).")


def intermediate_reward(rate: float) -> float:
    """The judge's reward for an arm solved at ``rate``: 1 at one half, 0 at 0 or 1.

    >>> intermediate_reward(0.25)
    0.5
    """
    return 1.0 - abs(2.0 * rate - 1.0)


class CurriculumState(TypedDict):
    """What flows through the proposer graph for one batch."""

    tasks: list[Task]
    outcomes: list[Outcome]
    rewards: dict[str, float]


@dataclass
class ProposerRun:
    """The live parts of one batch: the sampler, the planned episodes and the solver."""

    sampler: ProposerSampler
    batch: Sequence[Planned]
    solve: Solve


def _propose(state: CurriculumState, runtime: Runtime[ProposerRun]) -> dict[str, Any]:
    run = runtime.context
    return {"tasks": run.sampler.propose(run.batch)}


def _solve(state: CurriculumState, runtime: Runtime[ProposerRun]) -> dict[str, Any]:
    return {"outcomes": runtime.context.solve(state["tasks"])}


def _judge(state: CurriculumState, runtime: Runtime[ProposerRun]) -> dict[str, Any]:
    return {"rewards": runtime.context.sampler.judge(state["outcomes"])}


def build_proposer_graph() -> Any:
    """The compiled proposer -> solver -> judge graph (one invocation per batch).

    >>> sorted(build_proposer_graph().get_graph().nodes)
    ['__end__', '__start__', 'judge', 'propose', 'solve']
    """
    graph = StateGraph(CurriculumState, context_schema=ProposerRun)
    for name, node in (("propose", _propose), ("solve", _solve), ("judge", _judge)):
        graph.add_node(name, node)
    graph.add_edge(START, "propose")
    graph.add_edge("propose", "solve")
    graph.add_edge("solve", "judge")
    graph.add_edge("judge", END)
    return graph.compile()


class ProposerSampler(TaskSampler):
    """Proposer (bandit, or the LLM), solver and judge; see the module docstring."""

    name = "proposer"
    Options = ProposerOptions

    def __init__(self, setup: CurriculumSetup) -> None:
        super().__init__(setup)
        if self.options.llm and setup.llm is None:
            raise ConfigError("curriculum proposer: options.llm=true needs the agent's LLM; "
                              "build the sampler with CurriculumSetup(llm=...)")
        self.book = ArmBook(self.space.arms)
        self.values = dict.fromkeys(self.space.arms, 0.0)
        self.last_rewards: dict[str, float] = {}
        self._graph = build_proposer_graph()

    def run_batch(self, batch: Sequence[Planned], solve: Solve) -> list[Outcome]:
        """One pass of the proposer graph."""
        empty: CurriculumState = {"tasks": [], "outcomes": [], "rewards": {}}
        final = self._graph.invoke(empty, context=ProposerRun(self, batch, solve))
        return list(final["outcomes"])

    def choose(self, batch: Sequence[Planned]) -> list[Task]:
        """The proposer's tasks (what the ``propose`` node returns)."""
        return self.propose(batch)

    def observe(self, outcomes: Sequence[Outcome]) -> None:
        """The judge's update (also how a resumed run rebuilds the proposer)."""
        self.judge(outcomes)

    def propose(self, batch: Sequence[Planned]) -> list[Task]:
        """An arm per episode: untried arms first, then the bandit's (or the LLM's) draws."""
        rng = self.rng(batch)
        if self.options.llm and not self.book.untried():
            picks = self._llm_picks(len(batch), rng)
        else:
            opts = self.options
            picks = pick_arms(self.book, self.values, len(batch), opts.temperature,
                              opts.explore, rng)
        return self.book.tasks(self.space, picks)

    def judge(self, outcomes: Sequence[Outcome]) -> dict[str, float]:
        """Reward every arm played by its intermediate success; return the rewards."""
        self.book.record(outcomes)
        rewards = {}
        for arm in dict.fromkeys(o.task.category for o in outcomes):
            if arm in self.values:
                rewards[arm] = intermediate_reward(self.book.rate(arm, self.options.window))
                self.values[arm] += self.options.alpha * (rewards[arm] - self.values[arm])
        self.last_rewards = rewards
        return rewards

    def prompt(self) -> str:
        """What the LLM proposer reads: each arm's knobs and recent success."""
        lines = ["You choose practice tasks for a learner. Tasks it solves about half of the "
                 "time teach it most. Reply with the name of one task family."]
        for arm in self.space.arms:
            recent = self.book.results[arm][-self.options.window:]
            shown = f"{int(sum(recent))} of {len(recent)} solved" if recent else "never tried"
            lines.append(f"- {arm} ({self.space.details.get(arm, 'generated')}): {shown}")
        return "\n".join([*lines, "Task family:"])

    def _llm_picks(self, count: int, rng: Any) -> list[str]:
        llm = self.setup.llm
        if llm is None:
            raise ConfigError("curriculum proposer: options.llm=true needs the agent's LLM")
        (view,) = llm_scores(llm, [self.prompt()], [self.space.arms], self.config.policy)
        probs = log_softmax(view.scores)
        weights = [math.exp(probs[a]) for a in self.space.arms]
        return [rng.choices(self.space.arms, weights=weights)[0] for _ in range(count)]

    def summary(self) -> dict[str, Any]:
        """Arm values, the last rewards and the tasks drawn per arm."""
        return {"values": dict(self.values), "rewards": dict(self.last_rewards),
                "drawn": dict(self.book.drawn)}
