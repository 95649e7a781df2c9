"""The composed graph with the scripted LLM, custom nodes and SQLite checkpointing."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext
from memplay.agents.graph import build_agent_graph, default_pipelines
from memplay.agents.state import Slot, initial_state
from memplay.errors import ConfigError
from memplay.llm.fake import ScriptedLLM


def _ctx(envs: list[Any], llm: Any, **kw: Any) -> AgentContext:
    kw.setdefault("policy", {"calibrate": False})  # the scripted LLM's preference is the point
    return AgentContext(envs=envs, llm=llm, config=AgentConfig(**kw))


def _invoke(graph: Any, ctx: AgentContext, n: int, thread: str = "t") -> dict[str, Any]:
    slots = [Slot(i, episode=i, seed=i) for i in range(n)]
    config = {"recursion_limit": 200, "configurable": {"thread_id": thread}}
    return dict(graph.invoke(initial_state(slots), config, context=ctx))


def test_graph_runs_a_batch_in_lockstep_with_one_score_call_per_step(corridor: Any) -> None:
    llm = ScriptedLLM(scores={"right": -0.1, "left": -2.0})
    ctx = _ctx([corridor(length=4) for _ in range(3)], llm, variant="none")
    final = _invoke(build_agent_graph("none"), ctx, 3)
    assert all(s.success and len(s.steps) == 3 for s in final["slots"])
    assert [kind for kind, _ in llm.calls] == ["score"] * 3
    assert all(len(prompts) == 3 for _, prompts in llm.calls)


def test_memrl_graph_learns_from_failure_across_batches(corridor: Any, task_memory: Any,
                                                         step_memory: Any) -> None:
    # The LLM prefers 'left' (a hole at the start); only memory can fix that.
    llm = ScriptedLLM(scores={"left": -0.1, "right": -1.5})
    ctx = _ctx([corridor(length=3)], llm, variant="memrl")
    ctx.task_memory, ctx.step_memory = task_memory, step_memory
    graph = build_agent_graph("memrl")
    outcomes = [_invoke(graph, ctx, 1, thread=str(i))["slots"][0].success for i in range(3)]
    assert outcomes == [False, True, True]
    # The first memory was injected in episodes 2 and 3 (both won):
    # 0 -> 0 + 0.3 * (1 - 0) = 0.3 -> 0.3 + 0.3 * (1 - 0.3) = 0.51
    assert len(task_memory.items) == 3 and task_memory.items[0].q == pytest.approx(0.51)
    assert step_memory.table["A.."]["left"][0] == -1.0  # the hole is remembered


def test_no_memory_graph_keeps_failing_the_same_way(corridor: Any) -> None:
    llm = ScriptedLLM(scores={"left": -0.1, "right": -1.5})
    ctx = _ctx([corridor(length=3)], llm, variant="none")
    graph = build_agent_graph("none")
    assert not any(_invoke(graph, ctx, 1, str(i))["slots"][0].success for i in range(3))


def test_user_nodes_can_be_inserted_and_replaced(corridor: Any) -> None:
    seen: list[int] = []

    def count_prompts(state: Any, runtime: Any) -> dict[str, Any]:
        seen.append(len(state["slots"]))
        return {}

    def always_right(state: Any, runtime: Any) -> dict[str, Any]:
        return {"slots": [s.but(action="right") for s in state["slots"]]}

    graph = build_agent_graph(
        "none", nodes={"count": count_prompts, "act": always_right},
        step_pipeline=["observe", "build_prompt", "count", "act", "env_step"])
    llm = ScriptedLLM(scores={"left": 0.0})
    final = _invoke(graph, _ctx([corridor(length=3)], llm, variant="none"), 1)
    assert final["slots"][0].success and seen == [1, 1] and llm.calls == []


def test_unknown_variant_or_node_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="variant='memrll'"):
        default_pipelines("memrll")
    with pytest.raises(ConfigError, match="nope"):
        build_agent_graph("none", step_pipeline=["observe", "nope"])


def test_state_is_checkpointed_in_sqlite(corridor: Any, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Strict mode: LangGraph may only revive the record types the state schema declares.
    monkeypatch.setattr("langgraph._internal._serde.STRICT_MSGPACK_ENABLED", True)
    conn = sqlite3.connect(tmp_path / "ckpt.sqlite", check_same_thread=False)
    strict = JsonPlusSerializer(allowed_msgpack_modules=None)
    graph = build_agent_graph("memrl", checkpointer=SqliteSaver(conn, serde=strict))
    ctx = _ctx([corridor(length=3)], ScriptedLLM(scores={"right": 0.0}), variant="memrl")
    _invoke(graph, ctx, 1, thread="run-1")
    saved = graph.get_state({"configurable": {"thread_id": "run-1"}}).values
    slot = saved["slots"][0]
    assert isinstance(slot, Slot) and slot.success and slot.steps[-1].action == "right"
    conn.close()
