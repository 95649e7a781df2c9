"""Learning from demonstrations: solver paths, demo files and archives, with provenance."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from memplay.agents import Agent
from memplay.app.cli import main
from memplay.environments.demos import solver_demo_episodes
from memplay.llm.fake import ScriptedLLM
from memplay.memory import FaissMemoryStore, StepMemory

ENV = "FrozenLake-4x4-v0"


def _agent(**kw: object) -> Agent:
    return Agent(ENV, variant="memrl", memory={"embedder": "hash"}, **kw)  # type: ignore[arg-type]


def test_solver_demos_teach_an_agent_that_then_walks_the_path(tmp_path: Path) -> None:
    teacher = _agent()
    report = teacher.learn_from(solver_demo_episodes(ENV, [0]), tmp_path / "m")
    teacher.close()
    assert (report.episodes, report.steps, report.successes) == (1, 6, 1)
    steps = StepMemory.load(tmp_path / "m" / "steps")
    assert steps.sources() == {"demo": 6}
    items = list(FaissMemoryStore.load(tmp_path / "m" / "store").items())
    assert [i.metadata["provenance"] for i in items] == ["demo"]
    # An LLM that prefers "right" everywhere follows the demonstrated path instead.
    llm = ScriptedLLM(scores={"right": -0.1}, default_score=-2.0)
    student = _agent(llm=llm, max_steps=10, parallel_envs=1,
                     policy={"temperature": 0.0, "calibrate": False})
    result = student.run(epochs=1, tasks=[0], run_dir=tmp_path / "play", frozen=True,
                         memory_dir=tmp_path / "m", progress=False)
    student.close()
    assert result.success_per_epoch == [1.0]


def test_a_demo_with_a_bad_action_names_file_and_line_and_writes_nothing(tmp_path: Path,
                                                                           capsys) -> None:
    rows = [{"episode": 1, "env_id": ENV, "seed": 0, "goal": "g", "observation": "o",
             "action": a, "reward": 0.0} for a in ("down", "down", "fly")]
    demos = tmp_path / "demos.jsonl"
    demos.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code = main(["learn", "--env", ENV, "--memory-dir", str(tmp_path / "m"), "--embedder",
                 "hash", "--demos", str(demos)])
    err = capsys.readouterr().err
    assert code == 2 and "demos.jsonl:3" in err and "'fly'" in err
    assert not (tmp_path / "m").exists()


def test_learn_command_solver_seeds_and_inspect_show_provenance(tmp_path: Path,
                                                                 capsys) -> None:
    memory = tmp_path / "m"
    assert main(["learn", "--env", "FrozenLake-random-v0", "--memory-dir", str(memory),
                 "--embedder", "hash", "--solver-seeds", "0", "1", "2"]) == 0
    assert "learned 3 episodes" in capsys.readouterr().out
    assert main(["inspect", str(memory)]) == 0
    out = capsys.readouterr().out
    # three maps' episodes, merged into near-duplicate task memories, all from the solver
    assert re.search(r"task memories by provenance: demo \d+\n", out)
    assert "step-memory updates by provenance: demo" in out


def test_an_archive_learned_from_counts_as_import(tmp_path: Path, capsys) -> None:
    source = _agent()
    source.learn_from(solver_demo_episodes(ENV, [0]), tmp_path / "a")
    source.close()
    assert main(["export", str(tmp_path / "a"), str(tmp_path / "a.tar.gz")]) == 0
    assert main(["learn", "--env", ENV, "--memory-dir", str(tmp_path / "b"), "--embedder",
                 "hash", "--archive", str(tmp_path / "a.tar.gz")]) == 0
    steps = StepMemory.load(tmp_path / "b" / "steps")
    assert steps.sources() == {"import": 6}
    items = list(FaissMemoryStore.load(tmp_path / "b" / "store").items())
    assert {i.metadata["provenance"] for i in items} == {"import"}


def test_nothing_to_learn_from_or_another_env_is_a_config_error(tmp_path: Path,
                                                                 capsys) -> None:
    from memplay.errors import ConfigError

    assert main(["learn", "--env", ENV, "--memory-dir", str(tmp_path)]) == 2
    assert "nothing to learn from" in capsys.readouterr().err
    agent = _agent()
    with pytest.raises(ConfigError, match="cannot teach an agent on"):
        agent.learn_from(solver_demo_episodes("Sokoban-v0", [0]), tmp_path / "m")
    agent.close()


def test_a_demo_is_worth_its_outcome_so_later_steps_value_more(tmp_path: Path) -> None:
    from memplay.agents.demos import demo_slot

    demos = solver_demo_episodes(ENV, [0])
    agent = _agent()
    agent.learn_from(demos, tmp_path / "m")
    agent.close()
    steps = StepMemory.load(tmp_path / "m" / "steps")
    keys = [s.key for s in demo_slot(demos[0].trajectory).steps]
    values = [steps.estimate([{"a": key}])[0]["a"].q for key in keys]
    # no novelty reward on demos: the discounted outcome rises toward the goal (with it, the
    # first steps, which met the most new states, would outrank the winning move)
    assert values == sorted(values) and values[-1] == pytest.approx(1.0), values
    assert values[0] == pytest.approx(0.95 ** (len(keys) - 1), abs=1e-6), values
