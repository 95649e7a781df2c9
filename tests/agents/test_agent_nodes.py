"""Each node on its own: state in, partial update out."""

from __future__ import annotations

import math
from typing import Any

import pytest
from langgraph.runtime import Runtime

from memplay.agents import nodes
from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext
from memplay.agents.nodes import decision_of
from memplay.agents.policy import LLMView, scores_for
from memplay.agents.state import AgentState, Memory, Recall, Slot, StepRecord, initial_state
from memplay.llm.fake import ScriptedLLM, prompt_text
from memplay.memory.item import MemoryItem
from memplay.memory.step_memory import ActionValue
from memplay.types import Trajectory


def _rt(envs: list[Any], llm: Any = None, variant: str = "memrl", **kw: Any) -> Runtime:
    policy = {"calibrate": False, **kw.pop("policy", {})}  # a fixed LLM preference is the point
    cfg = AgentConfig(variant=variant, policy=policy, **kw)
    return Runtime(context=AgentContext(envs=envs, llm=llm or ScriptedLLM(), config=cfg))


def _apply(state: AgentState, update: dict[str, Any]) -> AgentState:
    return AgentState(**{**state, **update})  # type: ignore[typeddict-item]


def _started(corridor: Any, n: int = 1) -> tuple[AgentState, Runtime]:
    rt = _rt([corridor() for _ in range(n)])
    state = initial_state([Slot(i, episode=i, seed=10 + i) for i in range(n)])
    return _apply(state, nodes.observe(state, rt)), rt


def _with(state: AgentState, **changes: Any) -> AgentState:
    return AgentState(slots=[state["slots"][0].but(**changes)])


def test_observe_resets_with_the_slot_seed_and_records_goal(corridor: Any) -> None:
    state, rt = _started(corridor, 2)
    assert [e.resets for e in rt.context.envs.envs] == [[10], [11]]
    slot = state["slots"][1]
    assert slot.started and slot.goal == "walk right to the end"
    assert slot.admissible == ["left", "right"] and slot.observation == "A.."


def test_observe_does_not_reset_running_episodes(corridor: Any) -> None:
    state, rt = _started(corridor)
    nodes.observe(state, rt)
    assert rt.context.envs.envs[0].resets == [10]


def test_observe_isolates_a_crashing_reset(corridor: Any) -> None:
    class Broken:
        def reset(self, **kw: Any) -> Any:
            raise OSError("disk gone")

    rt = _rt([Broken(), corridor()])
    slots = nodes.observe(initial_state([Slot(0), Slot(1)]), rt)["slots"]
    assert slots[0].done and "disk gone" in (slots[0].error or "")
    assert slots[1].started and slots[1].error is None


def test_retrieve_quotes_task_memories_and_step_values(corridor: Any, task_memory: Any,
                                                       step_memory: Any) -> None:
    state, rt = _started(corridor)
    task_memory.items.append(MemoryItem(intent="x", experience="go right", q=0.4))
    step_memory.table["A.."] = {"right": [0.8, 3]}
    rt.context.task_memory, rt.context.step_memory = task_memory, step_memory
    slot = nodes.retrieve(state, rt)["slots"][0]
    assert slot.recall.memories == [Memory(task_memory.items[0].id, "go right", 0.4, 1.0)]
    assert slot.memories_used == [task_memory.items[0].id]
    assert slot.recall.values == {"right": ActionValue(0.8, 3, 1.0)}


def test_retrieve_asks_task_memory_once_per_episode(corridor: Any, task_memory: Any) -> None:
    state, rt = _started(corridor)
    rt.context.task_memory = task_memory
    state = _apply(state, nodes.retrieve(state, rt))
    state = _with(state, steps=[StepRecord("A..", "right")])
    nodes.retrieve(state, rt)
    assert [kind for kind, _ in task_memory.calls] == ["retrieve"]


class Lesson:
    """A reflection that says one thing per task seed and records what it learned from."""

    tag = "critique"

    def __init__(self) -> None:
        self.learned: list[list[Trajectory]] = []

    def learn(self, trajectories: Any, step_memory: Any = None) -> None:
        self.learned.append(list(trajectories))

    def prompt_text(self, goal: str, observation: str, seed: int | None = None) -> str:
        return f"lesson for task {seed}" if seed == 10 else ""


def test_retrieve_collects_each_reflections_lesson_for_the_task(corridor: Any) -> None:
    state, rt = _started(corridor, 2)
    rt.context.reflections = [Lesson()]
    first, second = nodes.retrieve(state, rt)["slots"]
    assert first.recall.lessons == [("critique", "lesson for task 10")]
    assert second.recall.lessons == []  # empty text: no block


def test_build_prompt_has_goal_memories_lessons_and_actions(corridor: Any) -> None:
    state, rt = _started(corridor)
    recall = Recall(memories=[Memory("m", "go right", 0.5, 0.9)],
                    lessons=[("playbook", "never step left at the start")])
    state = _with(state, recall=recall)
    text = prompt_text(nodes.build_prompt(state, rt)["slots"][0].prompt)
    for part in ("Goal: walk right", "<memories>", "Q=+0.50", "<playbook>", "never step left",
                 "Allowed actions: left, right", "A.."):
        assert part in text


def test_act_makes_one_batched_score_call_and_follows_the_llm(corridor: Any) -> None:
    state, rt = _started(corridor, 3)
    rt.context.llm = ScriptedLLM(scores={"right": -0.1, "left": -3.0})
    state = _apply(state, nodes.build_prompt(state, rt))
    slots = nodes.act(state, rt)["slots"]
    assert [s.action for s in slots] == ["right"] * 3
    assert len(rt.context.llm.calls) == 1 and len(rt.context.llm.calls[0][1]) == 3


def _act(state: AgentState, rt: Runtime, **recall: Any) -> str:
    state = _with(state, recall=Recall(**recall))
    state = _apply(state, nodes.build_prompt(state, rt))
    return nodes.act(state, rt)["slots"][0].action


def test_act_step_memory_prior_overrides_the_llm(corridor: Any, step_memory: Any) -> None:
    state, rt = _started(corridor)
    rt.context.llm = ScriptedLLM(scores={"left": -0.1, "right": -1.0})
    rt.context.step_memory = step_memory
    values = {"left": ActionValue(-1.0, 5, 1.0), "right": ActionValue(1.0, 5, 1.0)}
    assert _act(state, rt, values=values) == "right"


def test_act_novelty_bonus_tries_the_untried_action(corridor: Any, step_memory: Any) -> None:
    state, rt = _started(corridor)
    rt.context.llm = ScriptedLLM(scores={"left": -0.5, "right": -0.9})
    rt.context.step_memory = step_memory
    assert _act(state, rt, values={"left": ActionValue(0.0, 6, 1.0)}) == "right"


def test_act_llm_failure_marks_episodes_errored(corridor: Any) -> None:
    state, rt = _started(corridor, 2)
    rt.context.llm = ScriptedLLM(fail_on=0)
    state = _apply(state, nodes.build_prompt(state, rt))
    slots = nodes.act(state, rt)["slots"]
    assert all(s.done and s.llm_faults == 1 and "LLM failed" in (s.error or "") for s in slots)


def test_generate_method_parses_the_generated_text(corridor: Any) -> None:
    state, _ = _started(corridor)
    rt = _rt([corridor()], llm=ScriptedLLM(responses=["I will go right."]),
             policy={"method": "generate"})
    state = _apply(state, nodes.build_prompt(state, rt))
    assert nodes.act(state, rt)["slots"][0].action == "right"


def test_generate_method_keeps_a_think_turn_in_the_trajectory(corridor: Any) -> None:
    state, _ = _started(corridor)
    llm = ScriptedLLM(responses=["think: the end is to the right", "right"])
    rt = _rt([corridor()], llm=llm, policy={"method": "generate", "think": True})
    state = _apply(state, nodes.build_prompt(state, rt))
    state = _apply(state, nodes.act(state, rt))
    assert state["slots"][0].thought == "the end is to the right"
    step = nodes.env_step(state, rt)["slots"][0].steps[0]
    assert step.action == "right" and step.thought == "the end is to the right"
    second = prompt_text(llm.calls[1][1][0])
    assert "think: the end is to the right" in second and "OK. Your action:" in second


def test_env_step_records_the_step_and_detects_success(corridor: Any) -> None:
    state, rt = _started(corridor)
    for expected_done in (False, True):
        state = _with(state, action="right")
        state = _apply(state, nodes.env_step(state, rt))
        assert state["slots"][0].done is expected_done
    slot = state["slots"][0]
    assert slot.success and slot.reward == 1.0 and len(slot.steps) == 2
    assert slot.steps[0] == StepRecord("A..", "right", 0.0, ["left", "right"], "A..", 0,
                                       key=("right", "A.."))  # no view: (action, state)
    assert slot.to_trajectory("x").steps[0].info == {"state": "A..", "visits": 0,
                                                     "key": ["right", "A.."]}


def test_env_step_enforces_max_steps_and_isolates_crashes(corridor: Any) -> None:
    rt = _rt([corridor(length=9), corridor(crash_on_step=1)], max_steps=1)
    state = initial_state([Slot(0), Slot(1)])
    state = _apply(state, nodes.observe(state, rt))
    state = AgentState(slots=[s.but(action="right") for s in state["slots"]])
    first, second = nodes.env_step(state, rt)["slots"]
    assert first.done and not first.success and first.error is None
    assert second.done and "corridor exploded" in (second.error or "")


def _finished(success: bool, used: list[str]) -> AgentState:
    slot = Slot(0, seed=1, started=True, goal="g", done=True, success=success,
                reward=float(success), recall=Recall([Memory(i, "") for i in used]),
                steps=[StepRecord("You moved.\nA..", "right", float(success), state="A..")])
    return initial_state([slot])


def test_update_memory_updates_q_and_writes_back(task_memory: Any, step_memory: Any) -> None:
    old = MemoryItem(intent="g", experience="old", q=0.0)
    task_memory.items.append(old)
    rt = _rt([])
    rt.context.task_memory, rt.context.step_memory = task_memory, step_memory
    nodes.update_memory(_finished(False, [old.id]), rt)
    assert old.q == -0.3  # 0 + 0.3 * (-1 - 0)
    assert "failed in 1 steps" in task_memory.items[-1].experience
    assert step_memory.table == {"A..": {"right": [-1.0, 1]}}  # keyed by the step's state


def test_update_memory_writes_nothing_when_frozen_or_errored(task_memory: Any) -> None:
    rt = _rt([], frozen=True)
    rt.context.task_memory = task_memory
    nodes.update_memory(_finished(True, []), rt)
    errored = AgentState(slots=[_finished(True, [])["slots"][0].but(error="boom")])
    rt2 = _rt([])
    rt2.context.task_memory = task_memory
    nodes.update_memory(errored, rt2)
    assert task_memory.items == []


def test_finish_stamps_wall_time_of_every_episode() -> None:
    started = Slot(0, started=True, seconds=0.0)
    slots = nodes.finish(initial_state([started, Slot(1)]), _rt([]))["slots"]
    assert slots[0].seconds > 0 and slots[1].seconds == 0.0


def test_reflect_teaches_every_reflection_unless_frozen() -> None:
    lesson = Lesson()
    for frozen in (False, True):
        rt = _rt([], frozen=frozen)
        rt.context.reflections = [lesson]
        nodes.reflect(_finished(True, []), rt)
    assert len(lesson.learned) == 1 and lesson.learned[0][0].success


def test_calibration_removes_a_constant_llm_bias(corridor: Any, step_memory: Any) -> None:
    # The LLM always prefers "left" by 3 nats; calibrated, only context would count, and
    # the novelty bonus picks the move not tried yet from this state.
    llm = ScriptedLLM(scores={"left": -0.1, "right": -3.1})
    choices = []
    for calibrate in (False, True):
        state, _ = _started(corridor)
        rt = _rt([corridor()], llm=llm, policy={"calibrate": calibrate, "temperature": 0.0})
        rt.context.step_memory = step_memory
        choices.append(_act(state, rt, values={"left": ActionValue(0.0, 3, 1.0)}))
    assert choices == ["left", "right"]


class SessionLLM(ScriptedLLM):
    """The scripted LLM plus the session interface: records keys scored and released."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.sessions: list[list[str | None]] = []
        self.released: list[str] = []

    def score(self, prompts: Any, candidates: Any, *, sessions: Any = None) -> Any:
        self.sessions.append(list(sessions) if sessions is not None else [])
        return super().score(prompts, candidates)

    def release(self, sessions: Any) -> None:
        self.released.extend(sessions)

    def cache_stats(self) -> Any:
        return None


def test_each_episode_is_scored_in_its_own_session_freed_at_the_end(corridor: Any) -> None:
    from memplay.agents.graph import build_agent_graph

    llm = SessionLLM(scores={"right": -0.1, "left": -3.0})
    rt = _rt([corridor(), corridor()], llm=llm, variant="none")
    slots = [Slot(0, episode=4, seed=1), Slot(1, episode=5, seed=2)]
    build_agent_graph("none").invoke(initial_state(slots), {"recursion_limit": 100},
                                     context=rt.context)
    assert llm.sessions == [["episode-4", "episode-5"]] * 2  # two steps down the corridor
    assert sorted(llm.released) == ["episode-4", "episode-5"]


def test_tries_count_per_memory_key_when_the_state_text_never_repeats(step_memory: Any) -> None:
    # ALFWorld's state text changes every step: going back to a searched desk from two
    # different places is still the same decision to memory, and counts as tried twice.
    rt = _rt([], memory={"step_keys": "view"})
    rt.context.step_memory = step_memory
    view = {"actions": {"go to desk 1": {"kind": "go to desk", "context": "searched"},
                        "go to bed 1": {"kind": "go to bed", "context": "unvisited"}}}
    earlier = [StepRecord(f"at place {i}", "go to desk 1", state=f"state {i}",
                          key=("go to desk", "searched")) for i in range(2)]
    slot = Slot(0, state="state 9", view=view, admissible=["go to desk 1", "go to bed 1"],
                steps=earlier)
    decision = decision_of(slot, rt.context)
    scores = scores_for(decision, LLMView({"go to desk 1": 0.0, "go to bed 1": 0.0}),
                        rt.context.config.policy, rt.context.llm_bias)
    assert scores["go to bed 1"] - scores["go to desk 1"] == pytest.approx(2 - 2 / math.sqrt(3))
