"""Each node on its own: state in, partial update out."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from memplay.agents import nodes
from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext
from memplay.agents.llm.fake import ScriptedLLM, prompt_text
from memplay.agents.state import AgentState, Slot, initial_state, new_slot
from memplay.memory.item import MemoryItem


def _rt(envs: list[Any], llm: Any = None, variant: str = "memrl", **kw: Any) -> Runtime:
    kw.setdefault("calibrate", False)  # these tests model a fixed LLM preference
    cfg = AgentConfig(variant=variant, **kw)  # type: ignore[arg-type]
    return Runtime(context=AgentContext(envs=envs, llm=llm or ScriptedLLM(), config=cfg))


def _apply(state: AgentState, update: dict[str, Any]) -> AgentState:
    return AgentState(**{**state, **update})  # type: ignore[typeddict-item]


def _started(corridor: Any, n: int = 1) -> tuple[AgentState, Runtime]:
    rt = _rt([corridor() for _ in range(n)])
    state = initial_state([new_slot(i, episode=i, seed=10 + i) for i in range(n)])
    return _apply(state, nodes.observe(state, rt)), rt


def test_observe_resets_with_the_slot_seed_and_records_goal(corridor: Any) -> None:
    state, rt = _started(corridor, 2)
    assert [e.resets for e in rt.context.envs] == [[10], [11]]
    slot = state["slots"][1]
    assert slot["started"] and slot["goal"] == "walk right to the end"
    assert slot["admissible"] == ["left", "right"] and slot["observation"] == "A.."


def test_observe_does_not_reset_running_episodes(corridor: Any) -> None:
    state, rt = _started(corridor)
    nodes.observe(state, rt)
    assert rt.context.envs[0].resets == [10]


def test_observe_isolates_a_crashing_reset(corridor: Any) -> None:
    class Broken:
        def reset(self, **kw: Any) -> Any:
            raise OSError("disk gone")

    rt = _rt([Broken(), corridor()])
    state = initial_state([new_slot(0), new_slot(1)])
    slots = nodes.observe(state, rt)["slots"]
    assert slots[0]["done"] and "disk gone" in slots[0]["error"]
    assert slots[1]["started"] and slots[1]["error"] is None


def test_retrieve_quotes_task_memories_and_step_values(corridor: Any, task_memory: Any,
                                                       step_memory: Any) -> None:
    state, rt = _started(corridor)
    task_memory.items.append(MemoryItem(intent="x", experience="go right", q=0.4))
    step_memory.table["A.."] = {"right": [0.8, 3]}
    rt.context.task_memory, rt.context.step_memory = task_memory, step_memory
    slot = nodes.retrieve(state, rt)["slots"][0]
    assert slot["retrieved"][0]["text"] == "go right" and slot["retrieved"][0]["q"] == 0.4
    assert slot["memories_used"] == [task_memory.items[0].id]
    assert slot["step_values"] == {"right": [0.8, 3.0, 1.0]}


def test_rag_variant_ranks_by_similarity_only(corridor: Any, task_memory: Any) -> None:
    state, _ = _started(corridor)
    rt = _rt([corridor()], variant="rag")
    rt.context.task_memory = task_memory
    nodes.retrieve(state, rt)
    assert task_memory.calls[0][1]["lam"] == 0.0


def test_build_prompt_has_goal_memories_playbook_and_actions(corridor: Any) -> None:
    state, rt = _started(corridor)
    slot = Slot(**{**state["slots"][0], "retrieved": [{"id": "m", "text": "go right",
                                                        "q": 0.5, "sim": 0.9}]})
    state = AgentState(slots=[slot], playbook="never step left at the start")
    text = prompt_text(nodes.build_prompt(state, rt)["slots"][0]["prompt"])
    for part in ("Goal: walk right", "<memories>", "Q=+0.50", "<playbook>", "never step left",
                 "Allowed actions: left, right", "A.."):
        assert part in text


def test_act_makes_one_batched_score_call_and_follows_the_llm(corridor: Any) -> None:
    state, rt = _started(corridor, 3)
    rt.context.llm = ScriptedLLM(scores={"right": -0.1, "left": -3.0})
    state = _apply(state, nodes.build_prompt(state, rt))
    slots = nodes.act(state, rt)["slots"]
    assert [s["action"] for s in slots] == ["right"] * 3
    assert len(rt.context.llm.calls) == 1 and len(rt.context.llm.calls[0][1]) == 3


def test_act_step_memory_prior_overrides_the_llm(corridor: Any) -> None:
    state, rt = _started(corridor)
    rt.context.llm = ScriptedLLM(scores={"left": -0.1, "right": -1.0})
    slot = Slot(**{**state["slots"][0], "step_values": {"left": [-1.0, 5, 1.0],
                                                       "right": [1.0, 5, 1.0]}})
    state = _apply(AgentState(slots=[slot], playbook=""), nodes.build_prompt(
        AgentState(slots=[slot], playbook=""), rt))
    assert nodes.act(state, rt)["slots"][0]["action"] == "right"


def test_act_novelty_bonus_tries_the_untried_action(corridor: Any) -> None:
    state, rt = _started(corridor)
    rt.context.llm = ScriptedLLM(scores={"left": -0.5, "right": -0.9})
    slot = Slot(**{**state["slots"][0], "step_values": {"left": [0.0, 6, 1.0]}})
    st = AgentState(slots=[slot], playbook="")
    st = _apply(st, nodes.build_prompt(st, rt))
    assert nodes.act(st, rt)["slots"][0]["action"] == "right"


def test_act_llm_failure_marks_episodes_errored(corridor: Any) -> None:
    state, rt = _started(corridor, 2)
    rt.context.llm = ScriptedLLM(fail_on=0)
    state = _apply(state, nodes.build_prompt(state, rt))
    slots = nodes.act(state, rt)["slots"]
    assert all(s["done"] and s["llm_faults"] == 1 and "LLM failed" in s["error"] for s in slots)


def test_generate_method_matches_the_generated_text(corridor: Any) -> None:
    state, _ = _started(corridor)
    rt = _rt([corridor()], llm=ScriptedLLM(responses=["I will go right."]),
             action_method="generate")
    state = _apply(state, nodes.build_prompt(state, rt))
    assert nodes.act(state, rt)["slots"][0]["action"] == "right"


def test_env_step_records_the_step_and_detects_success(corridor: Any) -> None:
    state, rt = _started(corridor)
    for expected_done in (False, True):
        state = _apply(state, {"slots": [Slot(**{**state["slots"][0], "action": "right"})]})
        state = _apply(state, nodes.env_step(state, rt))
        assert state["slots"][0]["done"] is expected_done
    slot = state["slots"][0]
    assert slot["success"] and slot["reward"] == 1.0 and len(slot["steps"]) == 2
    assert slot["steps"][0] == {"observation": "A..", "action": "right", "reward": 0.0,
                                "admissible_actions": ["left", "right"],
                                "info": {"state": "A..", "visits": 0}}


def test_env_step_enforces_max_steps_and_isolates_crashes(corridor: Any) -> None:
    rt = _rt([corridor(length=9), corridor(crash_on_step=1)], max_steps=1)
    state = initial_state([new_slot(0), new_slot(1)])
    state = _apply(state, nodes.observe(state, rt))
    state = _apply(state, {"slots": [Slot(**{**s, "action": "right"}) for s in state["slots"]]})
    first, second = nodes.env_step(state, rt)["slots"]
    assert first["done"] and not first["success"] and first["error"] is None
    assert second["done"] and "corridor exploded" in second["error"]


def _finished(success: bool, used: list[str]) -> AgentState:
    slot = new_slot(0, seed=1)
    slot.update(started=True, goal="g", done=True, success=success, reward=float(success),
                memories_used=used,
                steps=[{"observation": "You moved.\nA..", "action": "right",
                        "reward": float(success), "info": {"state": "A.."}}])
    return initial_state([slot])


def test_update_memory_updates_q_and_writes_back(task_memory: Any, step_memory: Any) -> None:
    old = MemoryItem(intent="g", experience="old", q=0.0)
    task_memory.items.append(old)
    rt = _rt([])
    rt.context.task_memory, rt.context.step_memory = task_memory, step_memory
    nodes.update_memory(_finished(False, [old.id]), rt)
    assert old.q == -0.3  # 0 + 0.3 * (-1 - 0)
    assert "failed in 1 steps" in task_memory.items[-1].experience
    assert step_memory.table == {"A..": {"right": [-1.0, 1]}}  # keyed by info["state"]


def test_update_memory_writes_nothing_when_frozen_or_errored(task_memory: Any) -> None:
    rt = _rt([], frozen=True)
    rt.context.task_memory = task_memory
    nodes.update_memory(_finished(True, []), rt)
    errored = _finished(True, [])
    errored["slots"][0]["error"] = "boom"
    rt2 = _rt([])
    rt2.context.task_memory = task_memory
    nodes.update_memory(errored, rt2)
    assert task_memory.items == []


def test_reflect_rewrites_the_playbook_only_in_the_playbook_variant() -> None:
    seen: list[int] = []

    def reflector(trajs: list[Any], book: str) -> str:
        seen.append(len(trajs))
        return book + "|rule"

    for variant, expected in (("memrl+playbook", "old|rule"), ("memrl", None)):
        rt = _rt([], variant=variant)
        rt.context.reflector = reflector
        state = AgentState(**{**_finished(True, []), "playbook": "old"})
        assert nodes.reflect(state, rt).get("playbook") == expected
    assert seen == [1]


def _episode(keys: str, visits: list[int], **outcome: Any) -> Slot:
    slot = new_slot(0)
    slot.update(steps=[{"info": {"state": k, "visits": n}} for k, n in zip(keys, visits)],
                **outcome)
    return slot


def test_step_returns_blame_only_the_fatal_move_of_a_failure() -> None:
    from memplay.agents.config import MemoryConfig

    cfg = MemoryConfig(novelty=0.0)
    returns = nodes.step_returns(_episode("abc", [0, 0, 0], success=False, truncated=False),
                                 cfg)
    assert returns == [0.0, 0.0, -1.0]
    timed_out = nodes.step_returns(_episode("abc", [0, 0, 0], success=False, truncated=True),
                                   cfg)
    assert timed_out == [0.0, 0.0, 0.0]


def test_step_returns_reward_first_visits_to_rare_states_not_loops() -> None:
    from memplay.agents.config import MemoryConfig

    cfg = MemoryConfig(novelty=1.0, gamma=1.0, noop_penalty=0.0)
    # a -> b (new, never seen) -> a (loop back) -> b (loop) ; time-out
    loop = nodes.step_returns(_episode("abab", [0, 0, 0, 0], success=False, truncated=True),
                              cfg)
    assert loop == [1.0, 0.0, 0.0, 0.0]
    # reaching a state seen 3 times before pays half as much as a brand-new one
    seen = nodes.step_returns(_episode("ab", [0, 3], success=False, truncated=True), cfg)
    assert seen[0] == 0.5


def test_calibration_removes_a_constant_llm_bias(corridor: Any) -> None:
    # The LLM always prefers "left" by 3 nats; calibrated, only context would count, and
    # the novelty bonus picks the move not tried yet from this state.
    llm = ScriptedLLM(scores={"left": -0.1, "right": -3.1})
    choices = []
    for calibrate in (False, True):
        state, _ = _started(corridor)
        rt = _rt([corridor()], llm=llm, calibrate=calibrate, temperature=0.0)
        slot = Slot(**{**state["slots"][0], "step_values": {"left": [0.0, 3, 1.0]}})
        st = AgentState(slots=[slot], playbook="")
        st = _apply(st, nodes.build_prompt(st, rt))
        choices.append(nodes.act(st, rt)["slots"][0]["action"])
    assert choices == ["left", "right"]
