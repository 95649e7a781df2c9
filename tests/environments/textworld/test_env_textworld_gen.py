"""TextWorld-gen-v0: games made by TextWorld's own generator, offline, cached, solvable."""

from __future__ import annotations

from pathlib import Path

import pytest

from memplay.environments import check_env, make
from memplay.environments.task_space import TaskSpaceEnv
from memplay.errors import ConfigError

pytest.importorskip("textworld")


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MEMPLAY_CACHE", str(tmp_path))
    return tmp_path / "textworld"


def test_a_generated_game_passes_check_env_and_its_walkthrough_wins(cache: Path) -> None:
    env = make("TextWorld-gen-v0", rooms=2, objects=2, quest_length=2)
    check_env(env, rollout_steps=10)
    obs, info = env.reset(seed=0)
    assert info["goal"] in obs and info["admissible_actions"] == sorted(
        info["admissible_actions"])
    total, done = 0.0, False
    for action in env.unwrapped.walkthrough():
        assert action in info["admissible_actions"]
        obs, reward, done, _, info = env.step(action)
        total += reward
    assert done and info["success"] and total == 1.0
    assert "The End" not in obs  # the banner is trimmed from the feedback
    assert len(list(cache.rglob("*.z8"))) == 1  # one game, cached


def test_the_knobs_shape_the_game_and_games_are_reused(cache: Path) -> None:
    short = make("TextWorld-gen-v0", rooms=1, objects=1, quest_length=1)
    _, info = short.reset(seed=3)
    assert len(short.unwrapped.walkthrough()) == 1 and info["knobs"]["quest_length"] == 1
    game = next(cache.rglob("*.z8"))
    stamp = game.stat().st_mtime_ns
    again = make("TextWorld-gen-v0", rooms=1, objects=1, quest_length=1)
    obs_again, _ = again.reset(seed=3)
    assert game.stat().st_mtime_ns == stamp  # read from the cache, not generated again
    assert obs_again == short.reset(seed=3)[0]


def test_a_failed_quest_is_not_a_success_and_bad_actions_change_nothing(cache: Path) -> None:
    env = make("TextWorld-gen-v0", rooms=2, objects=2, quest_length=2, max_episode_steps=3)
    _, info = env.reset(seed=1)
    before = env.render()
    obs, reward, done, truncated, info = env.step("dance wildly")
    assert obs.startswith("Nothing happens") and env.render() == before and reward == 0.0
    while not (done or truncated):
        _, _, done, truncated, info = env.step("look")
    assert truncated and not info["success"]


def test_bad_knobs_are_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="quest_length=0"):
        make("TextWorld-gen-v0", quest_length=0)
    with pytest.raises(ConfigError, match="rooms="):
        make("TextWorld-gen-v0", rooms="2")


def test_a_task_space_can_turn_textworld_knobs(cache: Path) -> None:
    env = TaskSpaceEnv(arms=[
        {"name": "tw-short", "env_id": "TextWorld-gen-v0",
         "kwargs": {"rooms": 1, "objects": 1, "quest_length": 1}},
        {"name": "tw-long", "env_id": "TextWorld-gen-v0",
         "kwargs": {"rooms": 3, "objects": 2, "quest_length": 3}}])
    _, info = env.reset(seed=env.task_id("tw-long", 0))
    assert info["category"] == "tw-long" and info["knobs"]["quest_length"] == 3
    assert len(env.current.unwrapped.walkthrough()) == 3
