"""FrozenLake: text rendering, optimum, replaying the shortest path, maps and slipping."""

from __future__ import annotations

import pytest

from memplay.environments import make
from memplay.environments.frozenlake.env import FrozenLakeEnv, grid_shortest_path
from memplay.errors import ConfigError


@pytest.mark.parametrize("env_id", ["FrozenLake-4x4-v0", "FrozenLake-8x8-v0"])
def test_replaying_shortest_path_wins_in_optimal_steps(env_id: str) -> None:
    env = make(env_id)
    _, info = env.reset(seed=0)
    path = env.shortest_path()
    assert path is not None and len(path) == info["optimal_steps"]
    for action in path:
        obs, reward, terminated, truncated, info = env.step(action)
    assert (reward, terminated, truncated, info["success"]) == (1.0, True, False, True)
    assert "reached the goal" in obs


def test_default_4x4_map_and_rendering() -> None:
    env = make("FrozenLake-4x4-v0")
    obs, info = env.reset(seed=0)
    assert info["optimal_steps"] == 6 and info["position"] == (0, 0)
    assert "0 A F F F" in obs and "3 H F F G" in obs
    assert obs.rstrip().endswith("You are at row 0, column 0.")
    obs, *_ = env.step("down")
    assert "You moved down." in obs and "You are at row 1, column 0." in obs


def test_falling_into_a_hole_ends_without_reward() -> None:
    env = make("FrozenLake-4x4-v0")
    env.reset(seed=0)
    env.step("right")
    obs, reward, terminated, _, info = env.step("down")
    assert (reward, terminated, info["success"]) == (0.0, True, False)
    assert "fell into a hole" in obs


def test_edge_move_is_valid_and_stays_put() -> None:
    env = make("FrozenLake-4x4-v0")
    env.reset(seed=0)
    obs, _, _, _, info = env.step("up")
    assert info["invalid_actions"] == 0 and info["position"] == (0, 0)
    assert "stayed in place" in obs


@pytest.mark.parametrize("seed", range(8))
def test_random_maps_follow_the_seed_and_are_winnable(seed: int) -> None:
    env = make("FrozenLake-random-v0", size=6)
    first, info = env.reset(seed=seed)
    again, _ = env.reset(seed=seed)
    assert first == again
    for action in env.shortest_path() or []:
        *_, info = env.step(action)
    assert info["success"] is True


def test_random_maps_differ_across_seeds() -> None:
    env = make("FrozenLake-random-v0", size=8)
    maps = {env.reset(seed=s)[0] for s in range(6)}
    assert len(maps) > 1


def _walk(env, moves: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    observations = []
    for move in moves:
        obs, _, terminated, truncated, _ = env.step(move)
        observations.append(obs)
        if terminated or truncated:
            break
    return observations


def test_slippery_lake_is_reproducible_and_sometimes_slips() -> None:
    env = make("FrozenLakeSlippery-4x4-v0")
    moves = ["right", "right", "down", "down", "right", "down"]
    env.reset(seed=11)
    first = _walk(env, moves)
    env.reset(seed=11)
    assert _walk(env, moves) == first
    outcomes = []
    for seed in range(30):
        env.reset(seed=seed)
        outcomes.append(env.step("right")[0].splitlines()[0])
    assert any("slipped" in o or "stayed" in o for o in outcomes)
    assert any(o == "You moved right." for o in outcomes)


def test_custom_map_and_unreachable_goal() -> None:
    env = FrozenLakeEnv(desc=["SH", "HG"])
    _, info = env.reset(seed=0)
    assert info["optimal_steps"] is None and env.shortest_path() is None
    assert grid_shortest_path(["SFF", "HHF", "GFF"], (0, 0)) == [
        "right", "right", "down", "down", "left", "left"]


@pytest.mark.parametrize("desc", [[], ["SF", "G"], ["SX", "FG"], ["FF", "FG"], ["SS", "FG"], "SFG"])
def test_bad_custom_maps_are_refused(desc: object) -> None:
    with pytest.raises(ConfigError, match="desc"):
        FrozenLakeEnv(desc=desc)  # type: ignore[arg-type]


def test_aliases_are_accepted() -> None:
    env = make("FrozenLake-4x4-v0")
    env.reset(seed=0)
    for alias in ("move down", "South", "d"):
        assert env.step(alias)[4]["invalid_actions"] == 0
    assert env.unwrapped.position == (3, 0)
