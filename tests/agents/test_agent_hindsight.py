"""Hindsight relabelling in the agent: goals an episode achieved on the way reach memory as
successes with provenance "hindsight", counted per episode and per run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memplay.agents import Agent
from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext
from memplay.agents.graph import build_agent_graph
from memplay.agents.hindsight import learn_hindsight
from memplay.agents.state import Slot, StepRecord, initial_state
from memplay.environments.core import Outcome, TextEnv
from memplay.environments.registry import register, registry
from memplay.llm.fake import ScriptedLLM
from memplay.memory import HashEmbedder
from memplay.memory.step_memory import StepMemory

from .conftest import Corridor, DictStepMemory


class MarkedCorridor(Corridor):
    """The corridor, saying which "reach cell N" goals each step achieved (the task is the
    last cell: every cell before it is a goal achieved on the way)."""

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        obs, reward, done, truncated, info = super().step(action)
        info["achieved_goals"] = [f"reach cell {self.pos}"] if self.pos > 0 else []
        return obs, reward, done, truncated, info


class SourceSteps(DictStepMemory):
    """Exact step memory that also records the provenance of every update."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def update(self, states: Sequence[str], actions: Sequence[str], returns: Sequence[float],
               alpha: float | None = None, source: str = "self") -> None:
        self.sources += [source] * len(states)
        super().update(states, actions, returns, alpha, source)


def _slot(goal: str, achieved: list[tuple[str, ...]]) -> Slot:
    steps = [StepRecord(f"cell {i}", "right", state=f"cell {i}", achieved=a)
             for i, a in enumerate(achieved)]
    return Slot(0, goal=goal, started=True, done=True, steps=steps)


def test_every_other_goal_achieved_teaches_memory_a_success(task_memory: Any) -> None:
    memory = StepMemory(HashEmbedder(32))
    slot = _slot("reach cell 3", [(), ("reach cell 2",), ("reach cell 3", "ring the bell")])
    config = AgentConfig(env_id="FrozenLake-4x4-v0")
    assert learn_hindsight(slot, config, task_memory, memory) == 2
    assert memory.sources() == {"hindsight": 5}  # 2 steps up to the first goal, 3 to the bell
    # each relabelled episode credits its path with its success (discounted by gamma 0.95)
    values = [memory.action_values([f"cell {i}"], [["right"]])[0]["right"] for i in range(3)]
    assert [(round(v.q, 4), v.visits) for v in values] == [(0.9263, 2), (0.975, 2), (1.0, 1)]
    written = [(i.intent.splitlines()[0], i.metadata["provenance"], i.experience)
               for i in task_memory.items]
    assert written == [("reach cell 2", "hindsight", "succeeded in 2 steps with actions: "
                                                     "right, right"),
                       ("ring the bell", "hindsight", "succeeded in 3 steps with actions: "
                                                      "right, right, right")]


def test_nothing_is_relabelled_when_hindsight_is_off_or_nothing_was_achieved(
        task_memory: Any) -> None:
    memory = StepMemory(HashEmbedder(32))
    off = AgentConfig(env_id="FrozenLake-4x4-v0", memory={"hindsight": False})
    assert learn_hindsight(_slot("g", [("other",)]), off, task_memory, memory) == 0
    on = AgentConfig(env_id="FrozenLake-4x4-v0")
    assert learn_hindsight(_slot("g", [(), ()]), on, task_memory, memory) == 0
    assert len(memory) == 0 and task_memory.items == []


def _run_batch(ctx: AgentContext) -> Slot:
    slots = [Slot(0, episode=0, seed=0)]
    config = {"recursion_limit": 200, "configurable": {"thread_id": "t"}}
    graph = build_agent_graph("memrl")
    return graph.invoke(initial_state(slots), config, context=ctx)["slots"][0]


def test_the_graph_relabels_a_failed_episode_and_counts_it(task_memory: Any) -> None:
    # the LLM walks right but the episode is cut at 2 steps: reaching cells 1 and 2 were
    # achieved, the task (cell 4) was not
    steps = SourceSteps()
    ctx = AgentContext(envs=[MarkedCorridor(length=5)], llm=ScriptedLLM(
        scores={"right": 0.0, "left": -9.0}), config=AgentConfig(
        variant="memrl", max_steps=2, policy={"calibrate": False, "temperature": 0.0}),
        task_memory=task_memory, step_memory=steps)
    slot = _run_batch(ctx)
    assert (slot.success, slot.hindsight) == (False, 2)
    assert [s.achieved for s in slot.steps] == [("reach cell 1",), ("reach cell 2",)]
    assert steps.sources == ["self"] * 2 + ["hindsight"] * 3
    assert [i.metadata["provenance"] for i in task_memory.items] == ["self", "hindsight",
                                                                     "hindsight"]
    frozen = ctx.config.model_copy(update={"frozen": True})
    ctx.config, before = frozen, list(steps.sources)
    assert _run_batch(ctx).hindsight == 0 and steps.sources == before


class MarkedLine(TextEnv):
    """A registered env that walks right to cell 4 and reports each cell reached on the way
    in ``info["achieved_goals"]`` (through ``Outcome.extra``)."""

    def _reset_game(self, options: dict[str, Any]) -> str:
        self.pos = 0
        return self._observe()

    def _observe(self) -> str:
        return f"at cell {self.pos}"

    def _goal(self) -> str:
        return "reach cell 4"

    def _admissible(self) -> list[str]:
        return ["left", "right"]

    def _apply(self, action: Any) -> Outcome:
        self.pos = max(0, self.pos + (1 if action == "right" else -1))
        won = self.pos == 4
        return Outcome("", float(won), won, won, extra={"achieved_goals": [
            f"reach cell {self.pos}"]})


def test_a_run_records_hindsight_per_episode_and_in_its_metrics(tmp_path: Path) -> None:
    if "MarkedLine-v0" not in registry:
        register("MarkedLine-v0", f"{__name__}:MarkedLine")
    agent = Agent("MarkedLine-v0", variant="memrl", llm=ScriptedLLM(
        scores={"right": 0.0, "left": -9.0}), memory={"embedder": "hash"}, max_steps=2,
        parallel_envs=1, policy={"calibrate": False, "temperature": 0.0})
    result = agent.run(epochs=1, tasks=[0, 1], run_dir=tmp_path / "run", progress=False)
    agent.close()
    rows = [json.loads(line) for line in
            (tmp_path / "run" / "episodes.jsonl").read_text().splitlines()]
    assert [r["hindsight"] for r in rows] == [2, 2]
    assert result.metrics["hindsight_successes"] == 4
    trajectory = json.loads((tmp_path / "run" / "trajectories.jsonl").read_text().splitlines()[0])
    assert trajectory["steps"][0]["info"]["achieved"] == ["reach cell 1"]
