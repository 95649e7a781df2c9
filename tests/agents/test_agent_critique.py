"""The memrl+critique variant: critique trees for failed tasks, lessons in prompts, step
memory taught the winning paths (scripted LLM, HashEmbedder, real FrozenLake)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memplay.agents import Agent
from memplay.agents.config import AgentConfig
from memplay.agents.graph import build_agent_graph, default_pipelines
from memplay.agents.methods.critique.judges import ValueJudge
from memplay.agents.methods.critique.learn import AgentCritic, first_bad_step
from memplay.agents.methods.critique.mcts import MCTS, MCTSConfig
from memplay.agents.state import action_keys
from memplay.app.cli import main
from memplay.environments import make
from memplay.llm.fake import ScriptedLLM, prompt_text
from memplay.memory import HashEmbedder
from memplay.types import Step, Trajectory

ENV = "FrozenLake-4x4-v0"


def _walk_right(max_steps: int = 8) -> Agent:
    # The LLM strongly prefers 'right' and sampling is greedy: the agent walks along the top
    # row, which never reaches G in time (G is at the bottom right): every episode fails.
    llm = ScriptedLLM(scores={"right": -0.1}, default_score=-9.0)
    return Agent(ENV, variant="memrl+critique", llm=llm, embedder=HashEmbedder(64),
                 max_steps=max_steps, parallel_envs=1,
                 policy={"temperature": 0.0, "calibrate": False},
                 reflection={"critique_iterations": 300})


def test_only_variants_with_reflections_have_the_reflect_node() -> None:
    assert default_pipelines("memrl+critique")[1] == ["finish", "update_memory", "reflect"]
    assert "reflect" not in default_pipelines("memrl")[1]
    assert "reflect" in build_agent_graph("memrl+critique").get_graph().nodes


def test_failed_episode_stores_a_tree_and_a_revision_and_the_next_prompt_quotes_it(
        tmp_path: Path) -> None:
    agent = _walk_right()
    agent.run(epochs=2, tasks=[0], run_dir=tmp_path, progress=False)
    agent.close()
    rows = [json.loads(line) for line in (tmp_path / "episodes.jsonl").read_text().splitlines()]
    assert not rows[0]["success"]  # the premise: epoch 0 failed
    critiques = tmp_path / "memory" / "critiques"
    trees = sorted((critiques / "trees").glob("*.json"))
    assert len(trees) == 1 and trees[0].name.startswith("FrozenLake-4x4-v0-seed0-")
    tree = json.loads(trees[0].read_text())
    assert {"nodes", "edges", "graph"} <= set(tree) and len(tree["nodes"]) > 10
    revisions = [json.loads(line) for line in (critiques / "revisions.jsonl").read_text()
                 .splitlines()]
    assert len(revisions) == 1 and revisions[0]["seed"] == 0
    llm = agent.llm
    assert isinstance(llm, ScriptedLLM)
    prompts = [prompt_text(p) for kind, ps in llm.calls if kind == "score" for p in ps]
    first_epoch = prompts[: rows[0]["steps"]]
    assert not any("<critique>" in p for p in first_epoch)
    lesson = f"'{revisions[0]['bad_steps'][-1]['action']}' was the mistake"
    assert "<critique>" in prompts[rows[0]["steps"]] and lesson in prompts[rows[0]["steps"]]


def test_step_memory_learns_the_winning_path_of_a_revision(tmp_path: Path) -> None:
    agent = _walk_right()
    agent.run(epochs=1, tasks=[0], run_dir=tmp_path, progress=False)
    revision = json.loads((tmp_path / "memory" / "critiques" / "revisions.jsonl")
                          .read_text().splitlines()[0])
    assert agent.memory is not None
    steps: Any = agent.memory.step_memory
    winning = [t["action"] for t in revision["bad_steps"][:-1] + revision["good_steps"]]
    env = make(ENV)
    _, info = env.reset(seed=0)
    states, keys, obs = [env.render()], [], ""
    for action in winning:  # step memory files each move under the view's (kind, context)
        keys.append(action_keys(states[-1], info.get("view"), [action])[action])
        obs, _, _, _, info = env.step(action)
        states.append(env.render())
    assert "row 3, column 3" in obs  # the path really wins
    # Every move of it that is not a wall bump or part of a detour (a state visited again
    # later) now has a positive value; bumps and detours are not credited on purpose.
    credited = [i for i in range(len(winning))
                if states[i + 1] != states[i] and states[i] not in states[i + 1:]]
    assert credited and credited[-1] == len(winning) - 1
    for i in credited:
        q = steps.estimate([{winning[i]: keys[i]}])[0][winning[i]].q
        assert q > 0, (i, winning[i], q)
    agent.close()


def test_critic_skips_successes_and_tasks_with_a_tree_and_counts_env_faults() -> None:
    cfg = AgentConfig(variant="memrl+critique", max_steps=10)
    lost = Trajectory(env_id=ENV, seed=0, steps=[Step(observation="s", action="right")] * 3)
    won = Trajectory(env_id=ENV, seed=1, success=True, steps=[Step(observation="s", action="d")])
    critic = AgentCritic(None, cfg, lambda: make(ENV), refresh_after=3)
    critic.learn([lost, won])
    assert critic.store.tree_ids() == ["FrozenLake-4x4-v0-seed0-0000"]
    critic.learn([lost])  # the task has a tree: no new search until 3 more failures
    assert len(critic.store.tree_ids()) == 1
    critic.learn([lost, lost])
    assert len(critic.store.tree_ids()) == 2

    def broken() -> Any:
        raise RuntimeError("no environment today")

    faulty = AgentCritic(None, cfg, broken)
    assert faulty.learn([lost]) == [] and faulty.faults == 1


def test_frozen_runs_search_nothing(tmp_path: Path) -> None:
    agent = _walk_right()
    agent.run(epochs=1, tasks=[0], run_dir=tmp_path, progress=False, frozen=True)
    agent.close()
    assert not (tmp_path / "memory" / "critiques" / "trees").exists()


def test_first_bad_step_on_frozenlake_8x8_where_wins_are_sparse() -> None:
    # Random rollouts rarely reach G on 8x8, so even the winning branch's mean return is far
    # below the best return and the root-relative thresholds find nothing; comparing with
    # the winning sibling does.
    search = MCTS(make("FrozenLake-8x8-v0"), MCTSConfig(iterations=200, max_depth=100,
                                                        rollout_depth=100, seed=0))
    tree = search.search(seed=0)
    assert tree.terminals(success=True)
    path = tree.path(search.add_path(tree, ["up"] * 5))  # a failure: bumping into the wall
    assert ValueJudge()(tree, path) is None
    index = first_bad_step(tree, path)
    assert index is not None and tree.node(path[index])["value"] == 0.0


def test_critiques_are_inspected_exported_and_imported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent = _walk_right()
    agent.run(epochs=1, tasks=[0], run_dir=tmp_path / "run", progress=False)
    agent.close()
    capsys.readouterr()
    assert main(["inspect", str(tmp_path / "run")]) == 0
    assert "critiques: 1 trees, 1 revisions" in capsys.readouterr().out
    archive = tmp_path / "mem.tar.gz"
    assert main(["export", str(tmp_path / "run"), str(archive)]) == 0
    assert "2 reflection files" in capsys.readouterr().out
    assert main(["import", str(archive), str(tmp_path / "copy")]) == 0
    source, copy = tmp_path / "run" / "memory" / "critiques", tmp_path / "copy" / "critiques"
    assert sorted(p.name for p in (copy / "trees").iterdir()) == \
        sorted(p.name for p in (source / "trees").iterdir())
    assert (copy / "revisions.jsonl").read_text() == (source / "revisions.jsonl").read_text()
    assert main(["import", str(archive), str(tmp_path / "copy")]) == 0  # nothing doubled
    assert len((copy / "revisions.jsonl").read_text().splitlines()) == 1
