"""Curricula: each sampler's choices, its state surviving a resume, the proposer's graph."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from memplay.agents import Agent
from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext
from memplay.agents.curriculum.base import ArmBook, CurriculumSetup, Outcome, Task
from memplay.agents.curriculum.log import Curriculum, read_outcomes
from memplay.agents.curriculum.proposer import ProposerSampler, intermediate_reward
from memplay.agents.curriculum.replay import ReplaySampler, StartFrom
from memplay.agents.curriculum.sec import SECSampler, learning_progress
from memplay.agents.runner import Planned
from memplay.app.cli import main
from memplay.environments import make
from memplay.errors import ConfigError
from memplay.llm.fake import ScriptedLLM

ARMS = [{"name": "lake-3", "env_id": "FrozenLake-random-v0", "kwargs": {"size": 3}},
        {"name": "lake-4", "env_id": "FrozenLake-random-v0", "kwargs": {"size": 4}},
        {"name": "soko-5", "env_id": "Sokoban-gen-v0",
         "kwargs": {"height": 5, "width": 5, "num_boxes": 1, "max_walls": 0}}]


def _agent(curriculum: str, env_id: str = "TaskSpace-v0", **options: Any) -> Agent:
    kwargs = {"arms": ARMS} if env_id == "TaskSpace-v0" else {}
    return Agent(env_id, variant="memrl", llm=ScriptedLLM(), memory={"embedder": "hash"},
                 env_kwargs=kwargs, parallel_envs=2, max_steps=6, seed=0,
                 # deterministic (no sampling, no calibration statistics, which a resumed
                 # run starts afresh), so a resumed run can be compared with a straight one
                 policy={"temperature": 0.0, "calibrate": False},
                 curriculum={"name": curriculum, "options": options})


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _planned(first: int, n: int) -> list[Planned]:
    return [Planned(first + i, 0, i) for i in range(n)]


def _setup(name: str, **options: Any) -> CurriculumSetup:
    cfg = AgentConfig(curriculum={"name": name, "options": options})
    return CurriculumSetup(cfg, make("TaskSpace-v0", arms=ARMS))


def test_uniform_is_the_fixed_schedule_and_keeps_no_record(tmp_path: Path) -> None:
    agent = _agent("uniform", env_id="FrozenLake-4x4-v0")
    agent.run(epochs=2, tasks=[3, 1, 2], run_dir=tmp_path, progress=False)
    agent.close()
    rows = _rows(tmp_path / "episodes.jsonl")
    assert [(r["episode"], r["epoch"], r["seed"], r["task"]) for r in rows] == [
        (e, e // 3, s, str(s)) for e, s in enumerate([3, 1, 2, 3, 1, 2])]
    assert not (tmp_path / "curriculum.jsonl").exists()


@pytest.mark.parametrize("name", ["sec", "proposer", "replay"])
def test_a_sampler_makes_the_same_choices_after_a_resume(tmp_path: Path, name: str) -> None:
    straight = _agent(name)
    straight.run(epochs=3, tasks=range(4), run_dir=tmp_path / "straight", progress=False)
    straight.close()
    resumed = _agent(name)
    for epochs in (1, 2, 3):  # stop after every epoch and start again from the files
        resumed.run(epochs=epochs, tasks=range(4), run_dir=tmp_path / "resumed",
                    progress=False)
        resumed.close()
    one, two = (_rows(tmp_path / d / "curriculum.jsonl") for d in ("straight", "resumed"))
    assert one == two and len(one) == 12
    episodes = _rows(tmp_path / "resumed" / "episodes.jsonl")
    assert [e["task"] for e in episodes] == [
        f"{r['seed']}@{len(r['prefix'])}" if r["prefix"] else str(r["seed"]) for r in one]


def test_the_record_groups_batches_and_the_last_row_of_an_episode_wins(tmp_path: Path
                                                                         ) -> None:
    agent = _agent("sec")
    agent.run(epochs=2, tasks=range(4), run_dir=tmp_path, progress=False)
    agent.close()
    path = tmp_path / "curriculum.jsonl"
    batches = read_outcomes(path, set(range(8)))
    assert [[o.episode for o in b] for b in batches] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert read_outcomes(path, {0, 1, 2, 3})[1][0].episode == 2  # only recorded episodes
    rerun = Outcome(batches[0][0].task, 0, 0, success=True)  # a batch re-run after a crash
    with path.open("a") as fh:
        fh.write(json.dumps(rerun.to_row()) + "\n")
    assert read_outcomes(path, {0, 1})[0][0].success


def test_sec_tries_every_arm_then_follows_learning_progress() -> None:
    sec = SECSampler(_setup("sec", temperature=0.05, explore=0.0))
    first = sec.choose(_planned(0, 3))
    assert [t.category for t in first] == ["lake-3", "lake-4", "soko-5"]
    assert len({t.seed for t in first}) == 3
    for _ in range(14):  # lake-3 is mastered at once, soko-5 never solved
        sec.observe([Outcome(Task(0, "lake-3"), 0, 0, True),
                     Outcome(Task(0, "soko-5"), 0, 0, False)])
    assert sec.q["lake-3"] < 0.05 and sec.q["soko-5"] == 0.0  # no progress: values fade
    for success in (False, False, True, True):  # lake-4 is being learned
        sec.observe([Outcome(Task(0, "lake-4"), 0, 0, success)])
    assert sec.q["lake-4"] > 0.3
    picks = [t.category for t in sec.choose(_planned(100, 20))]
    assert picks.count("lake-4") >= 15
    assert learning_progress([0.0, 0.0, 1.0, 1.0], 2) == 1.0


def test_arm_tasks_cycle_through_each_arm_s_instances() -> None:
    sec = SECSampler(_setup("sec", instances=2))
    book = ArmBook(["lake-3"])
    tasks = book.tasks(sec.space, ["lake-3"] * 3)
    env = make("TaskSpace-v0", arms=ARMS).unwrapped
    assert [env.arm_of(t.seed) for t in tasks] == [("lake-3", 0), ("lake-3", 1),
                                                   ("lake-3", 0)]


def test_the_judge_rewards_intermediate_success() -> None:
    proposer = ProposerSampler(_setup("proposer", window=4, alpha=1.0))
    half = [Outcome(Task(0, "lake-4"), 0, 0, s) for s in (True, False, True, False)]
    always = [Outcome(Task(0, "lake-3"), 0, 0, True) for _ in range(4)]
    never = [Outcome(Task(0, "soko-5"), 0, 0, False) for _ in range(4)]
    rewards = proposer.judge([*half, *always, *never])
    assert rewards["lake-4"] == pytest.approx(1.0)  # (2+1)/(4+2) = 0.5
    assert rewards["lake-3"] == pytest.approx(intermediate_reward(5 / 6))
    assert rewards["soko-5"] == pytest.approx(intermediate_reward(1 / 6))
    assert proposer.values["lake-4"] > proposer.values["lake-3"]


def test_the_proposer_runs_propose_solve_judge_as_one_graph() -> None:
    proposer = ProposerSampler(_setup("proposer"))
    solved: list[list[Task]] = []

    def solve(tasks: list[Task]) -> list[Outcome]:
        solved.append(tasks)
        return [Outcome(t, i, 0, t.category == "lake-4") for i, t in enumerate(tasks)]

    outcomes = proposer.run_batch(_planned(0, 3), solve)
    assert len(solved) == 1 and [o.task for o in outcomes] == solved[0]
    assert [t.category for t in solved[0]] == ["lake-3", "lake-4", "soko-5"]
    assert proposer.last_rewards.keys() == {"lake-3", "lake-4", "soko-5"}
    assert proposer.book.drawn == {"lake-3": 1, "lake-4": 1, "soko-5": 1}
    nodes = set(proposer._graph.get_graph().nodes)
    assert {"propose", "solve", "judge"} <= nodes


def test_an_llm_proposer_picks_the_arm_the_llm_scores_best() -> None:
    cfg = AgentConfig(curriculum={"name": "proposer", "options": {"llm": True}})
    llm = ScriptedLLM(scores={"soko-5": -0.01})  # every other arm: -5
    proposer = ProposerSampler(CurriculumSetup(cfg, make("TaskSpace-v0", arms=ARMS), llm))
    proposer.judge([Outcome(Task(0, arm), 0, 0, False) for arm in ("lake-3", "lake-4",
                                                                   "soko-5")])
    picks = [t.category for t in proposer.propose(_planned(10, 10))]
    assert picks.count("soko-5") >= 9
    prompt = str(llm.calls[-1][1][0])
    assert "lake-3 (FrozenLake-random-v0 size=3)" in prompt and "0 of 1 solved" in prompt
    with pytest.raises(ConfigError, match="needs the agent's LLM"):
        ProposerSampler(CurriculumSetup(cfg, make("TaskSpace-v0", arms=ARMS)))


def test_replay_restarts_from_the_state_before_a_failure(tmp_path: Path) -> None:
    replay = ReplaySampler(_setup("replay", back=1, share=1.0, max_uses=1))
    replay.observe([Outcome(Task(5, "lake-4"), 0, 0, False, actions=("down", "right", "up"))])
    (task,) = replay.choose(_planned(1, 1))
    assert task.prefix == ("down", "right") and task.label == "5@2"
    replay.observe([Outcome(task, 1, 1, True, actions=("down",))])  # solved from there
    assert replay.book == []
    env = StartFrom(make("FrozenLake-4x4-v0"), ("down", "down"))
    obs, info = env.reset(seed=0)
    assert info["replayed"] == 2 and "row 2, column 0" in obs
    env.prefix = ("right", "down", "down")  # FrozenLake 4x4: down from (1, 1) is a hole
    obs, info = env.reset(seed=0)
    assert info["replayed"] == 1 and "row 0, column 1" in obs


def test_replayed_episodes_start_where_the_prefix_leads(tmp_path: Path) -> None:
    agent = _agent("replay", env_id="FrozenLake-4x4-v0", back=1)
    agent.run(epochs=3, tasks=range(4), run_dir=tmp_path, progress=False)
    agent.close()
    rows = _rows(tmp_path / "curriculum.jsonl")
    trajectories = _rows(tmp_path / "trajectories.jsonl")
    replayed = [(r, t) for r, t in zip(rows, trajectories) if r["prefix"]]
    assert replayed, "failed episodes should have been replayed"
    for row, trajectory in replayed:
        env = make("FrozenLake-4x4-v0")
        env.reset(seed=row["seed"])
        for action in row["prefix"]:
            env.step(action)
        assert trajectory["steps"][0]["info"]["state"] == env.render()


class _RemoteEnvs:
    """Env workers in other processes, as far as a curriculum can tell (none live here)."""

    num_envs = 1

    def close(self) -> None:
        pass


def test_envs_in_worker_processes_get_a_task_space_but_no_replayed_starts() -> None:
    cfg = AgentConfig(env_id="TaskSpace-v0", env_kwargs={"arms": ARMS}, env_workers="process",
                      curriculum={"name": "replay", "options": {"back": 1, "share": 1.0}})
    ctx = AgentContext(envs=_RemoteEnvs(), llm=ScriptedLLM(), config=cfg)  # type: ignore[arg-type]
    curriculum = Curriculum(ctx, None, set())
    assert curriculum.sampler.space.arms == ["lake-3", "lake-4", "soko-5"]  # an env made here
    curriculum.sampler.observe([Outcome(Task(5, "lake-4"), 0, 0, False, actions=("down", "up"))])
    played: list[Any] = []
    with pytest.raises(ConfigError, match="env_workers='local'"):
        curriculum.play(_planned(1, 1), played.append)
    assert played == []  # refused before anything ran


def test_bad_curricula_are_one_clear_error(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="did you mean 'sec'"):
        AgentConfig.from_source({"curriculum": "sek"})
    with pytest.raises(ConfigError, match="temprature"):
        SECSampler(_setup("sec", temprature=1.0))
    assert main(["run", "--env", "TaskSpace-v0", "--curriculum", "nope", "--llm", "scripted",
                 "--run-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "nope" in err and "\n" not in err


def test_cli_curriculum_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["run", "--env", "TaskSpace-v0", "--curriculum", "proposer", "--llm",
                 "scripted", "--embedder", "hash", "--epochs", "2", "--tasks", "3",
                 "--max-steps", "4", "--run-dir", str(run), "--no-progress"]) == 0
    rows = _rows(run / "curriculum.jsonl")
    assert len(rows) == 6 and len({r["category"] for r in rows}) >= 3
    assert "name: proposer" in (run / "config.yaml").read_text()


def test_boltzmann_draws_follow_the_values() -> None:
    from memplay.agents.curriculum.base import boltzmann

    rng = random.Random(1)
    draws = [boltzmann({"a": 0.0, "b": 1.0}, 1.0, 0.0, rng) for _ in range(2000)]
    share = draws.count("b") / len(draws)
    assert share == pytest.approx(2.718281828 / (1 + 2.718281828), abs=0.04)
