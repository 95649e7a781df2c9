"""Sokoban: bundled levels and generated levels are solvable, and replaying the solver wins."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from memplay.environments import TextEnv, make
from memplay.environments.sokoban.env import SokobanEnv
from memplay.environments.sokoban.files import load_levels
from memplay.environments.sokoban.gen import generate_level
from memplay.environments.sokoban.level import SokobanLevel
from memplay.environments.sokoban.solver import is_corner_deadlock
from memplay.errors import ConfigError, DataNotFound, EnvironmentFault


def _replay(env: TextEnv, moves: list[str]) -> tuple[float, bool, dict]:
    total, terminated, info = 0.0, False, {}
    for move in moves:
        _, reward, terminated, _, info = env.step(move)
        total += reward
    return total, terminated, info


@pytest.mark.parametrize("index", range(len(load_levels())))
def test_every_bundled_level_is_won_by_its_solver_solution(index: int) -> None:
    env = make("Sokoban-v0", level=index)
    _, info = env.reset(seed=0)
    moves = env.solution()
    assert moves is not None and len(moves) == info["optimal_steps"]
    total, terminated, info = _replay(env, moves)
    assert terminated and info["success"]
    assert total >= 1.0


@pytest.mark.parametrize("seed", range(10))
def test_generated_levels_are_reproducible_and_solvable(seed: int) -> None:
    env = make("Sokoban-gen-v0")
    obs, info = env.reset(seed=seed)
    assert env.reset(seed=seed)[0] == obs
    moves = env.solution()
    assert moves is not None and len(moves) >= 4
    _, terminated, info = _replay(env, moves)
    assert terminated and info["success"]


def test_generator_respects_settings_and_varies() -> None:
    levels = [generate_level(np.random.default_rng(s), height=6, width=8, num_boxes=3)
              for s in range(4)]
    assert all(len(lv.boxes) == 3 and (lv.height, lv.width) == (6, 8) for lv in levels)
    assert len({lv.render() for lv in levels}) > 1
    with pytest.raises(ConfigError, match="do not fit"):
        generate_level(np.random.default_rng(0), height=4, width=4, num_boxes=2, max_walls=2)
    with pytest.raises(EnvironmentFault, match="no solvable"):
        generate_level(np.random.default_rng(0), num_boxes=2, min_moves=500, tries=3)


def test_reward_shaping_and_blocked_moves() -> None:
    env = SokobanEnv(levels_file=None, level=3)  # "two-in-a-row": two boxes
    obs, _ = env.reset(seed=0)
    assert "Boxes on targets: 0 of 2" in obs
    rewards = []
    for move in env.solution() or []:
        rewards.append(env.step(move)[1])
    assert rewards[-1] == 1.0
    assert pytest.approx(0.1) in rewards  # the first box landing on its target


def test_walking_into_a_wall_is_invalid_and_changes_nothing() -> None:
    env = SokobanEnv(level=0)  # "#@$.#": only right is possible
    _, info = env.reset(seed=0)
    assert info["admissible_actions"] == ["right"]
    before = env.render()
    obs, _, _, _, info = env.step("left")
    assert obs.startswith("Nothing happens") and env.render() == before
    assert info["invalid_actions"] == 1


def test_corner_deadlock_ends_the_episode(tmp_path: Path) -> None:
    rows = ["######", "#    #", "# $@ #", "#   .#", "######"]
    path = tmp_path / "corner.json"
    path.write_text(json.dumps({"levels": [{"name": "corner", "rows": rows}]}))
    env = SokobanEnv(levels_file=str(path))
    env.reset(seed=0)
    env.step("up")
    env.step("left")
    _, _, terminated, _, info = env.step("down")  # box to (3, 2): along a wall with a target
    assert not terminated and not info["deadlock"]
    env.step("right")
    env.step("down")
    obs, _, terminated, _, info = env.step("left")  # box to (3, 1): a corner, off target
    assert terminated and info["deadlock"] and not info["success"]
    assert "stuck in a corner" in obs
    env.reset(seed=0)
    obs, _, terminated, _, info = env.step("left")  # box to (2, 1): a wall with no target
    assert terminated and info["deadlock"] and "stuck along a wall" in obs
    level = SokobanLevel.from_rows(rows)
    assert is_corner_deadlock(level, frozenset({(3, 1)}))
    assert not is_corner_deadlock(level, frozenset({(3, 4)}))  # corner, but on the target


def test_deadlock_can_be_left_to_the_agent(tmp_path: Path) -> None:
    rows = ["######", "#    #", "# $@ #", "#   .#", "######"]
    path = tmp_path / "corner.json"
    path.write_text(json.dumps({"levels": [{"name": "corner", "rows": rows}]}))
    env = SokobanEnv(levels_file=str(path), end_on_deadlock=False)
    env.reset(seed=0)
    for move in ("left", "up", "left"):
        env.step(move)
    _, _, terminated, _, info = env.step("down")
    assert not terminated and info["deadlock"] and env.solution() is None


def test_bad_levels_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="exactly one player"):
        SokobanLevel.from_rows(["#####", "# $.#", "#####"])
    with pytest.raises(ConfigError, match="boxes"):
        SokobanLevel.from_rows(["#####", "#@$ #", "#####"])
    with pytest.raises(ConfigError, match="unknown character"):
        SokobanLevel.from_rows(["#####", "#@$x#", "#####"])
    with pytest.raises(DataNotFound):
        SokobanEnv(levels_file=str(tmp_path / "none.json"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"lvls": []}))
    with pytest.raises(ConfigError, match="malformed"):
        SokobanEnv(levels_file=str(bad))


def test_custom_levels_file_and_seeded_level_choice(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"levels": [{"name": "a", "rows": ["#####", "#@$.#", "#####"]},
                                           {"name": "b", "rows": ["######", "#@$ .#",
                                                                  "######"]}]}))
    env = SokobanEnv(levels_file=str(path))
    names = {env.reset(seed=s)[1]["level"] for s in range(12)}
    assert names == {"a", "b"}
    with pytest.raises(ConfigError, match="level"):
        env.reset(seed=0, options={"level": 5})
