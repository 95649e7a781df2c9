"""ALFWorld adapter: walkthrough replays win, game selection, goal parsing, missing data."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memplay.environments import make
from memplay.environments.alfworld.env import (
    TASK_TYPES,
    ALFWorldEnv,
    alfworld_data_dir,
    fast_textworld,
    read_walkthrough,
)
from memplay.errors import ConfigError, DataNotFound


@pytest.fixture(scope="module")
def env(alfworld_data: str) -> Iterator[ALFWorldEnv]:
    environment = ALFWorldEnv(split="eval_in_distribution", data_dir=alfworld_data)
    yield environment
    environment.close()


def test_missing_data_folder_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DataNotFound, match="alfworld-download"):
        make("ALFWorld-v0", data_dir=str(tmp_path))
    with pytest.raises(DataNotFound, match="ALFWORLD_DATA"):
        alfworld_data_dir(str(tmp_path / "nothing"), "train")
    with pytest.raises(ConfigError, match="split"):
        alfworld_data_dir(str(tmp_path), "test_unseen")
    with pytest.raises(DataNotFound):
        read_walkthrough(tmp_path / "game.tw-pddl")


def test_unset_alfworld_data_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALFWORLD_DATA", raising=False)
    with pytest.raises(DataNotFound, match="ALFWORLD_DATA is not set"):
        alfworld_data_dir(None, "train")


@pytest.mark.alfworld
def test_twenty_valid_seen_walkthroughs_win(env: ALFWorldEnv) -> None:
    assert len(env.games) >= 20
    seen_types = set()
    for index in range(0, len(env.games), len(env.games) // 20)[:20]:
        obs, info = env.reset(options={"game": index})
        assert info["goal"] and info["goal"].lower() in obs.lower()
        seen_types.add(info["task_type"])
        for action in env.walkthrough():
            assert action in info["admissible_actions"], (index, action)
            obs, reward, terminated, _, info = env.step(action)
        assert (reward, terminated, info["success"], info["won"]) == (1.0, True, True, True)
    assert seen_types <= set(TASK_TYPES) and len(seen_types) >= 4


@pytest.mark.alfworld
def test_game_selection_by_seed_task_type_and_path(env: ALFWorldEnv) -> None:
    _, first = env.reset(seed=3)
    _, again = env.reset(seed=3)
    assert first["game_file"] == again["game_file"]
    _, info = env.reset(seed=0, options={"task_type": "pick_two_obj_and_place"})
    assert info["task_type"] == "pick_two_obj_and_place"
    _, info = env.reset(options={"game": env.games[5]})
    assert info["game_file"] == env.games[5]
    with pytest.raises(ConfigError, match="task_type"):
        env.reset(options={"task_type": "juggle"})
    with pytest.raises(ConfigError, match="game"):
        env.reset(options={"game": 10_000})


@pytest.mark.alfworld
def test_invalid_command_changes_nothing(env: ALFWorldEnv) -> None:
    obs, info = env.reset(options={"game": 0})
    obs, reward, terminated, _, info = env.step("fly to the moon")
    assert obs.startswith("Nothing happens") and not terminated and reward == 0.0
    assert info["invalid_actions"] == 1 and info["admissible_actions"]


@pytest.mark.alfworld
def test_task_type_filter(alfworld_data: str) -> None:
    env = ALFWorldEnv(task_types=["look_at_obj_in_light"], data_dir=alfworld_data)
    assert env.games and all("look_at_obj_in_light" in g for g in env.games)
    with pytest.raises(ConfigError, match="task_types"):
        ALFWorldEnv(task_types=["dance"], data_dir=alfworld_data)


@pytest.mark.alfworld
def test_cached_loading_plays_exactly_like_plain_textworld(alfworld_data: str,
                                                           env: ALFWorldEnv) -> None:
    plain = ALFWorldEnv(split="eval_in_distribution", data_dir=alfworld_data,
                        fast_load=False)
    for game in (2, 77, 2):  # switching games reuses the cached env's TextWorld instance
        assert env.reset(options={"game": game}) == plain.reset(options={"game": game})
        for action in env.walkthrough():
            assert env.step(action) == plain.step(action)
    assert plain.timings["loads"] == 3 and env.timings["steps"] >= plain.timings["steps"] > 0
    plain.close()


@pytest.mark.alfworld
def test_cached_stepping_matches_plain_textworld_on_random_actions(alfworld_data: str,
                                                                   env: ALFWorldEnv) -> None:
    # random admissible actions reach texts no walkthrough does (failed opens, wrong rooms),
    # where the memoised queries and the shallow context copies derive every command
    plain = ALFWorldEnv(split="eval_in_distribution", data_dir=alfworld_data,
                        fast_load=False)
    for game in (5, 60):
        rng = random.Random(game)
        fast_out = env.reset(options={"game": game})
        assert fast_out == plain.reset(options={"game": game})
        for _ in range(20):
            action = rng.choice(sorted(fast_out[-1]["admissible_actions"]))
            fast_out = env.step(action)
            assert fast_out == plain.step(action), (game, action)
    plain.close()


def test_fast_textworld_nests_and_restores_the_originals() -> None:
    if importlib.util.find_spec("fast_downward") is None:
        pytest.skip("textworld's fast_downward is not installed")
    import fast_downward
    import textworld.envs.pddl.textgen as textgen
    from textworld.logic import Rule

    def installed() -> tuple[Any, ...]:
        return (fast_downward.pddl2sas, textgen._parse_and_convert, textgen.copy_context,
                Rule.__dict__["parse_conjunctive_query"])

    originals = installed()
    with fast_textworld():
        with fast_textworld():
            patched = installed()
            assert all(new is not old for new, old in zip(patched, originals))
        assert installed() == patched
    assert installed() == originals


def test_games_by_seed_makes_task_seeds_game_indices(alfworld_data: str) -> None:
    data = alfworld_data
    env = ALFWorldEnv(split="eval_in_distribution", games_by_seed=True, data_dir=data)
    count = len(env.games)
    assert env.reset(seed=3)[1]["game_file"] == env.games[3]
    assert env.reset(seed=count + 5)[1]["game_file"] == env.games[5]  # modulo the count
    assert env.reset(seed=3, options={"game": 7})[1]["game_file"] == env.games[7]  # options win
    drawn = ALFWorldEnv(split="eval_in_distribution", data_dir=data)  # the seed draws a game
    assert {drawn.reset(seed=s)[1]["game_file"] for s in range(6)} != set(env.games[:6])
