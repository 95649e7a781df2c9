"""Step memory keyed by portable views: what is learned on one map is found on another."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memplay.agents import Agent
from memplay.llm.fake import ScriptedLLM
from memplay.memory import HashEmbedder

HOLE_RIGHT = ["SHFF", "FFFF", "FFFF", "FFFG"]
# Another map: the start's neighbourhood is the same (a hole to the right, ice below) and the
# goal lies the same way (3+ down, 3+ right); everything else differs.
HOLE_RIGHT_TOO = ["SHFH", "FFHF", "HFFF", "FHFG"]


def _agent(desc: list[str], keys: str, llm: Any, **kw: Any) -> Agent:
    return Agent("FrozenLake-4x4-v0", variant="memrl", llm=llm, embedder=HashEmbedder(64),
                 env_kwargs={"desc": desc}, max_steps=1, parallel_envs=1,
                 memory={"step_keys": keys, "steps": {"threshold": 1.0}},  # exact keys only
                 policy={"temperature": 0.0, "calibrate": False},
                 **kw)


def _first_move_on_the_other_map(tmp_path: Path, keys: str) -> str:
    # The LLM loves "right": on the first map it walks into the hole once and memory learns.
    learner = _agent(HOLE_RIGHT, keys, ScriptedLLM(scores={"right": -0.1}, default_score=-3.0))
    learner.run(epochs=1, tasks=[0], run_dir=tmp_path / "learn", progress=False)
    learner.close()
    llm = ScriptedLLM(scores={"right": -0.1}, default_score=-3.0)
    player = _agent(HOLE_RIGHT_TOO, keys, llm)
    player.run(epochs=1, tasks=[0], run_dir=tmp_path / "play", frozen=True,
               memory_dir=tmp_path / "learn" / "memory", progress=False)
    player.close()
    rows = (tmp_path / "play" / "trajectories.jsonl").read_text()
    return "right" if '"action":"right"' in rows.replace(" ", "") else "other"


def test_a_hole_learned_on_one_map_is_avoided_on_another(tmp_path: Path) -> None:
    assert _first_move_on_the_other_map(tmp_path / "view", "view") == "other"
    # keyed by the whole board (memplay < 0.2) the new map is all new: into the hole again
    assert _first_move_on_the_other_map(tmp_path / "state", "state") == "right"


def test_step_memory_files_moves_under_the_views_context(tmp_path: Path) -> None:
    agent = _agent(HOLE_RIGHT, "view", ScriptedLLM(scores={"right": -0.1}))
    agent.run(epochs=1, tasks=[0], run_dir=tmp_path, progress=False)
    assert agent.memory is not None
    rows = agent.memory.step_memory.to_rows()  # type: ignore[attr-defined]
    assert [r["state"] for r in rows] == ["window ###|#AH|#FF; goal 3+ down, 3+ right"]
    assert rows[0]["actions"] == {"right to hole": {"q": -1.0, "visits": 1}}
    agent.close()
