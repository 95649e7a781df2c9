"""ALFWorld demos: played walkthroughs and expert runs, the resumable cache, statistics."""

from __future__ import annotations

from pathlib import Path

import pytest

from memplay.environments.alfworld import demos as demos_module
from memplay.environments.alfworld.demos import (
    DemoCache,
    alfworld_demos,
    demo_games,
    demo_statistics,
    revise_views,
)
from memplay.environments.alfworld.env import TASK_TYPES, task_type_of
from memplay.environments.alfworld.view import VIEW_VERSION
from memplay.errors import ConfigError
from memplay.types import Step, Trajectory


def _demo(game: str, success: bool = True) -> Trajectory:
    return Trajectory(env_id="ALFWorld-v0", success=success,
                      steps=[Step(observation="o", action="look")],
                      metadata={"source": "walkthrough", "game": game, "view_version":
                                VIEW_VERSION, "task_type": "pick_and_place_simple"})


def test_cache_resumes_after_a_truncated_last_line(tmp_path: Path) -> None:
    path = tmp_path / "demos.jsonl"
    cache = DemoCache(path)
    cache.append(_demo("a"))
    cache.append(_demo("b"))
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"env_id": "ALFWorld-v0", "go')  # a crash mid-append
    resumed = DemoCache(path)
    assert len(resumed) == 2 and path.read_bytes() == whole  # partial tail dropped
    resumed.append(_demo("c"))
    assert [DemoCache.key(t)[1] for t in DemoCache(path).items.values()] == ["a", "b", "c"]


def test_cache_names_a_corrupt_line(tmp_path: Path) -> None:
    path = tmp_path / "demos.jsonl"
    DemoCache(path).append(_demo("a"))
    with path.open("a") as handle:
        handle.write("not json\n")
    with pytest.raises(ConfigError, match=r"demos.jsonl:2"):
        DemoCache(path)


def test_cache_recomputes_views_of_demos_recorded_with_an_older_view(tmp_path: Path) -> None:
    path = tmp_path / "demos.jsonl"
    old = _demo("a")
    old.goal = "put a apple in fridge"
    old.metadata["view_version"] = VIEW_VERSION - 1
    old.steps[0].admissible_actions = ["look", "inventory"]
    old.steps[0].info = {"view": {"state": "stale", "actions": {}}, "state": "stale"}
    DemoCache(path).append(old)
    revised = DemoCache(path).current(("walkthrough", "a"))
    assert revised is not None and revised.metadata["view_version"] == VIEW_VERSION
    assert revised.steps[0].info["view"]["actions"]["look"]["kind"] == "look"
    assert revised.steps[0].info["state"].startswith("Task: put a apple in fridge")


def test_statistics_count_per_task_type() -> None:
    look = _demo("x")
    look.metadata["task_type"] = "look_at_obj_in_light"
    stats = demo_statistics([_demo("a"), _demo("b", success=False), look])
    assert stats["games"] == 3 and stats["success_rate"] == pytest.approx(2 / 3)
    assert stats["per_task_type"]["pick_and_place_simple"]["success_rate"] == 0.5
    assert stats["per_task_type"]["look_at_obj_in_light"]["mean_steps"] == 1.0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ConfigError, match="source"):
        next(alfworld_demos(source="oracle"))
    with pytest.raises(ConfigError, match="workers"):
        next(alfworld_demos(workers=0))


@pytest.mark.alfworld
def test_subset_takes_games_of_every_task_type(alfworld_data: str) -> None:
    games = demo_games("eval_in_distribution", per_task_type=2, data_dir=alfworld_data)
    assert len(games) == 12 and {task_type_of(g) for g in games} == set(TASK_TYPES)


@pytest.mark.alfworld
def test_walkthrough_demo_wins_carries_views_and_is_cached(alfworld_data: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "demos.jsonl"
    [demo] = alfworld_demos("train", games=[0], cache=cache, data_dir=alfworld_data)
    assert demo.success and demo.total_reward == 1.0 and demo.steps[-1].reward == 1.0
    assert demo.metadata["provenance"] == "demo" and demo.metadata["source"] == "walkthrough"
    assert demo.metadata["game"].startswith("json_2.1.1/train/")
    for step in demo.steps:
        view = step.info["view"]
        assert step.action in view["actions"] and step.info["state"] == view["state"]
        assert list(view["actions"]) == step.admissible_actions
    assert demo.goal and demo.goal in demo.steps[0].observation

    def no_playing(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached demo was played again")

    monkeypatch.setattr(demos_module, "_played", no_playing)
    [again] = alfworld_demos("train", games=[0], cache=cache, data_dir=alfworld_data)
    assert again == demo and len(cache.read_text().splitlines()) == 1


@pytest.mark.alfworld
def test_expert_demo_is_played_by_alfworlds_handcoded_expert(alfworld_data: str) -> None:
    games = demo_games("eval_in_distribution", per_task_type=1, data_dir=alfworld_data,
                       task_types=["pick_and_place_simple"])
    [demo] = alfworld_demos("eval_in_distribution", games=games, source="expert",
                            data_dir=alfworld_data)
    assert demo.metadata["source"] == "expert" and demo.success
    assert demo.steps[0].action != "look"  # the expert's opening look is not recorded
    assert all(s.action in s.admissible_actions for s in demo.steps)


@pytest.mark.alfworld
def test_revised_views_equal_the_views_of_a_fresh_play(alfworld_data: str) -> None:
    [demo] = alfworld_demos("eval_in_distribution", games=[5], data_dir=alfworld_data)
    blank = [s.model_copy(update={"info": {"view": {}, "state": ""}}) for s in demo.steps]
    old = demo.model_copy(update={"steps": blank, "metadata": {**demo.metadata,
                                                               "view_version": 0}})
    assert revise_views(old) == demo


def test_walkthrough_demos_replay_by_game_file_into_an_agents_memory(
        alfworld_data: str, tmp_path: Path) -> None:
    from memplay.agents import Agent
    from memplay.llm.fake import ScriptedLLM
    from memplay.memory.step_memory import StepMemory

    data = alfworld_data
    demos = list(alfworld_demos("train", games=[0, 1], data_dir=data, workers=1))
    agent = Agent("ALFWorld-v0", variant="memrl", llm=ScriptedLLM(),
                  env_kwargs={"split": "train", "data_dir": data}, memory={"embedder": "hash"})
    report = agent.learn_from(demos, tmp_path / "memory")  # replays each in its own game
    agent.close()
    assert report.episodes == 2 and report.steps == sum(len(d.steps) for d in demos)
    steps = StepMemory.load(tmp_path / "memory" / "steps")
    assert steps.sources() == {"demo": report.steps} and len(steps) > 0
    wrong = Agent("ALFWorld-v0", variant="memrl", llm=ScriptedLLM(),
                  env_kwargs={"split": "eval_in_distribution", "data_dir": data},
                  memory={"embedder": "hash"})
    with pytest.raises(ConfigError, match="is not a game file of split"):
        wrong.learn_from(demos[:1], tmp_path / "other")  # the game is not in that split
    wrong.close()
    assert not (tmp_path / "other" / "steps").exists()  # all or nothing
