"""Solver demos played in real envs, demo replay with file:line errors, and train/held-out
task sets whose maps never overlap."""

from __future__ import annotations

import doctest
import json
from pathlib import Path
from typing import Any

import pytest

from memplay.demos import DemoEpisode, read_demos, write_demos
from memplay.environments import demos as demos_module
from memplay.environments import make
from memplay.environments import task_sets as task_sets_module
from memplay.environments.demos import (
    replay_demo,
    replay_demos,
    solver_demo_episodes,
    solver_demos,
)
from memplay.environments.task_sets import benchmark_split, distinct_seeds, task_layouts
from memplay.errors import ConfigError
from memplay.types import Step, Trajectory


def assert_matches_a_fresh_env(trajectory: Trajectory) -> None:
    """Every recorded step is what a fresh env shows at that point."""
    env = make(trajectory.env_id)
    obs, info = env.reset(seed=trajectory.seed)
    assert trajectory.goal == info["goal"]
    total = 0.0
    for step in trajectory.steps:
        assert (step.observation, step.admissible_actions) == (obs, info["admissible_actions"])
        assert step.info["state"] == env.render()
        assert step.info["view"] == info["view"]
        obs, reward, _, _, info = env.step(step.action)
        assert step.reward == reward
        total += reward
    assert (trajectory.success, trajectory.total_reward) == (info["success"], total)


# ---- solver demos -----------------------------------------------------------------------------

@pytest.mark.parametrize(("env_id", "seeds"), [
    ("FrozenLake-4x4-v0", [0]), ("FrozenLake-8x8-v0", [0]), ("FrozenLake-random-v0", range(6)),
    ("FrozenLake-random-8x8-v0", range(4)), ("Sokoban-v0", range(5)),
    ("Sokoban-gen-v0", [0, 1000]),
])
def test_solver_demos_win_in_the_optimal_number_of_steps(env_id: str, seeds: Any) -> None:
    demos = solver_demos(env_id, seeds)
    assert [d.seed for d in demos] == list(seeds)
    for demo in demos:
        env = make(env_id)
        optimal = env.reset(seed=demo.seed)[1]["optimal_steps"]
        assert demo.success and len(demo.steps) == optimal and demo.env_id == env_id
        assert_matches_a_fresh_env(demo)


def test_solver_demos_take_env_options_and_random_maps_differ() -> None:
    demos = solver_demos("FrozenLake-random-v0", [0, 1], size=5, p=0.7)
    assert all(len(d.steps[0].info["view"]["state"]) > 0 for d in demos)
    assert demos[0].steps[0].info["state"] != demos[1].steps[0].info["state"]
    assert len(demos[0].steps[0].info["state"].splitlines()[0].split()) == 5  # 5 columns
    boxes = solver_demos("Sokoban-gen-v0", [2], num_boxes=1, height=6, width=6)[0]
    board = boxes.steps[0].info["state"].split("Legend")[0]
    assert boxes.success and board.count("$") == 1 and len(board.splitlines()) == 6


def test_slippery_solver_replans_and_records_only_admissible_moves() -> None:
    demos = solver_demos("FrozenLakeSlippery-4x4-v0", range(5))
    for demo in demos:
        assert demo.steps and all(s.action in s.admissible_actions for s in demo.steps)
        assert_matches_a_fresh_env(demo)


def test_solver_demos_explain_missing_solvers_and_unsolvable_seeds() -> None:
    with pytest.raises(ConfigError, match=r"no solver for MinesweeperEnv.*register_solver"):
        solver_demos("Minesweeper-v0", [0])
    with pytest.raises(ConfigError, match=r"seed 0: the solver finds no solution"):
        solver_demos("FrozenLake-4x4-v0", [0], desc=["SH", "HG"])


def test_solver_demo_episodes_carry_provenance_and_source() -> None:
    [episode] = solver_demo_episodes("Sokoban-v0", [1])
    assert (episode.provenance, episode.source) == ("demo", "bfs-solver on Sokoban-v0")


# ---- replay -----------------------------------------------------------------------------------

def test_written_demos_read_back_and_replay_identically(tmp_path: Path) -> None:
    original = solver_demo_episodes("FrozenLake-random-v0", [3, 4])
    path = tmp_path / "demos.jsonl"
    write_demos(path, original)
    replayed = replay_demos(read_demos(path))
    assert [d.trajectory for d in replayed] == [d.trajectory for d in original]
    assert [d.source for d in replayed] == ["bfs-shortest-path on FrozenLake-random-v0"] * 2


def step_lines(path: Path, actions: list[str], seed: int = 0,
               env_id: str = "FrozenLake-4x4-v0") -> Path:
    rows = [{"episode": "e1", "env_id": env_id, "seed": seed, "goal": "g", "observation": "",
             "action": a, "reward": 0.0, "thought": f"t{i}"} for i, a in enumerate(actions)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_replay_fills_in_what_the_env_shows(tmp_path: Path) -> None:
    path = step_lines(tmp_path / "d.jsonl", ["down", "down", "right", "down", "right", "right"])
    [demo] = replay_demos(read_demos(path))
    assert demo.trajectory.success and demo.trajectory.total_reward == 1.0
    assert demo.trajectory.goal.startswith("Walk on the frozen lake")
    assert [s.thought for s in demo.trajectory.steps] == [f"t{i}" for i in range(6)]
    assert_matches_a_fresh_env(demo.trajectory)


def test_replay_names_file_line_step_and_admissible_actions(tmp_path: Path) -> None:
    path = step_lines(tmp_path / "d.jsonl", ["down", "down", "fly", "down"])
    with pytest.raises(ConfigError) as err:
        replay_demos(read_demos(path))
    message = str(err.value)
    assert f"{path}:3" in message and "demo 'e1', step 3" in message
    assert "'fly' is not admissible here; admissible: left, down, right, up" in message


def test_replay_stops_when_the_episode_ends_before_the_demo(tmp_path: Path) -> None:
    path = step_lines(tmp_path / "d.jsonl", ["right", "down", "left"])  # (1, 1) is a hole
    with pytest.raises(ConfigError, match=r"d.jsonl:3: demo 'e1': the episode ended after "
                                          r"step 2 but the demo has 1 more actions"):
        replay_demos(read_demos(path))


def test_replay_checks_the_env_and_the_env_id(tmp_path: Path) -> None:
    path = step_lines(tmp_path / "d.jsonl", ["down"], env_id="FrozenLake-9x9-v0")
    with pytest.raises(ConfigError, match=r"d.jsonl:1: demo 'e1': no environment 'FrozenLake-9x9"):
        replay_demos(read_demos(path))
    demo = Trajectory(env_id="Sokoban-v0", seed=0, steps=[Step(observation="", action="up")])
    with pytest.raises(ConfigError, match=r"recorded in 'Sokoban-v0' but replayed in "
                                          r"'FrozenLake-4x4-v0'"):
        replay_demo(make("FrozenLake-4x4-v0"), demo)


def test_replay_accepts_loose_spelling_and_stores_the_admissible_one() -> None:
    demo = DemoEpisode(trajectory=Trajectory(env_id="FrozenLake-4x4-v0", seed=0, steps=[
        Step(observation="", action=" Down. ")]))
    assert replay_demo(make("FrozenLake-4x4-v0"), demo).actions == ["down"]


# ---- task sets --------------------------------------------------------------------------------

def test_random_4x4_maps_repeat_across_plain_seed_ranges() -> None:
    train = set(task_layouts("FrozenLake-random-v0", range(32)).values())
    held_out = task_layouts("FrozenLake-random-v0", range(1000, 1032)).values()
    assert sum(layout in train for layout in held_out) > 0  # why benchmark_split exists


@pytest.mark.parametrize(("env_id", "kwargs"), [
    ("FrozenLake-random-v0", {}), ("FrozenLake-random-v0", {"size": 8}),
    ("FrozenLake-random-8x8-v0", {}), ("Sokoban-gen-v0", {}),
])
def test_benchmark_split_has_32_distinct_layouts_and_no_overlap(env_id: str,
                                                                kwargs: dict[str, Any]) -> None:
    train, held_out = benchmark_split(env_id, **kwargs)
    assert len(train) == len(held_out) == 32
    assert train[0] == 0 and held_out[0] == 1000
    train_maps = task_layouts(env_id, train, **kwargs)
    held_maps = task_layouts(env_id, held_out, **kwargs)
    assert len(set(train_maps.values())) == len(set(held_maps.values())) == 32
    assert not set(train_maps.values()) & set(held_maps.values())


def test_generator_options_shape_the_maps() -> None:
    lake = task_layouts("FrozenLake-random-v0", [0], size=6, p=0.5)[0].splitlines()
    assert len(lake) == 6 and all(len(row) == 6 for row in lake)
    level = task_layouts("Sokoban-gen-v0", [0], height=6, width=8, num_boxes=1)[0].splitlines()
    assert len(level) == 6 and len(level[0]) == 8
    assert sum(row.count("$") + row.count("*") for row in level) == 1


def test_distinct_seeds_exclude_and_explain() -> None:
    first = distinct_seeds("FrozenLake-random-v0", 5)
    excluded = task_layouts("FrozenLake-random-v0", first).values()
    later = distinct_seeds("FrozenLake-random-v0", 5, exclude=excluded)
    assert not set(first) & set(later)
    with pytest.raises(ConfigError, match="only 1 distinct layouts"):
        distinct_seeds("FrozenLake-4x4-v0", 3, max_scan=50)
    with pytest.raises(ConfigError, match="no layout reader"):
        task_layouts("Minesweeper-v0", [0])


@pytest.mark.parametrize("module", [demos_module, task_sets_module])
def test_docstring_examples(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]
