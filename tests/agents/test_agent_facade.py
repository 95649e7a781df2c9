"""The Agent facade with real memory components (HashEmbedder) and the scripted LLM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memplay.agents import Agent
from memplay.llm.fake import ScriptedLLM, prompt_text
from memplay.memory import HashEmbedder


def _agent(variant: str, llm: ScriptedLLM, **overrides: Any) -> Agent:
    return Agent("FrozenLake-4x4-v0", variant=variant, llm=llm, embedder=HashEmbedder(64),
                 max_steps=4, parallel_envs=2, **overrides)


def test_playbook_variant_rewrites_and_injects_the_playbook(tmp_path: Path) -> None:
    llm = ScriptedLLM(responses=["- Holes end the game.", "- Go down before going right."])
    agent = _agent("memrl+playbook", llm, reflection={"rewrite_every": 2})
    agent.run(epochs=2, tasks=[0, 1], run_dir=tmp_path, progress=False)
    agent.close()
    page = tmp_path / "memory" / "playbooks" / "FrozenLake.md"
    assert "Go down before going right" in page.read_text()
    last_prompt = prompt_text([p for kind, ps in llm.calls if kind == "score" for p in ps][-1])
    assert "<playbook>" in last_prompt and "Go down before going right" in last_prompt


def test_rag_injects_past_episodes_without_step_memory(tmp_path: Path) -> None:
    llm = ScriptedLLM()
    agent = _agent("rag", llm)
    agent.run(epochs=2, tasks=[0, 1], run_dir=tmp_path, progress=False)
    agent.close()
    prompts = [prompt_text(p) for kind, ps in llm.calls if kind == "score" for p in ps]
    assert "<memories>" not in prompts[0] and "<memories>" in prompts[-1]
    assert not (tmp_path / "memory" / "steps" / "states.jsonl").read_text().strip()
    # plain RAG ranks by similarity alone; MemRL weighs learned Q in (lambda 0.5)
    retrievers: list[Any] = [_agent(v, llm).context(tmp_path / v).task_memory
                             for v in ("rag", "memrl")]
    lams = [r.config.lam for r in retrievers]
    assert lams == [0.0, 0.5]


def test_memory_survives_a_new_agent_on_the_same_run_dir(tmp_path: Path) -> None:
    first = _agent("memrl", ScriptedLLM())
    first.run(epochs=1, tasks=[0, 1], run_dir=tmp_path, progress=False)
    first.close()
    llm = ScriptedLLM()
    second = _agent("memrl", llm)
    second.run(epochs=2, tasks=[0, 1], run_dir=tmp_path, progress=False)
    second.close()
    # The resumed run skipped epoch 0 and its very first prompt already quotes a memory
    # written by the first agent: the memory was reloaded from disk.
    first_prompt = prompt_text(next(ps[0] for kind, ps in llm.calls if kind == "score"))
    assert "<memories>" in first_prompt and "Q=" in first_prompt
