"""Sokoban's push level: dead-lock detection, reachable pushes, push actions, and the
push-level view whose keys are equal on different levels for equal situations."""

from __future__ import annotations

import doctest
from typing import Any

import pytest

from memplay.environments import check_env, make
from memplay.environments.sokoban import push as push_module
from memplay.environments.sokoban import push_view as view_module
from memplay.environments.sokoban.env import SokobanEnv
from memplay.environments.sokoban.level import SokobanLevel
from memplay.environments.sokoban.push import (
    dead_squares,
    is_deadlock,
    matching_distance,
    reachable_pushes,
)
from memplay.environments.sokoban.push_view import as_pushes, parse_push, push_view
from memplay.environments.sokoban.solver import solve
from memplay.errors import ConfigError


def level(*rows: str) -> SokobanLevel:
    return SokobanLevel.from_rows(list(rows), "test")


def env_on(rows: list[str], **kwargs: Any) -> SokobanEnv:
    env = SokobanEnv(**kwargs)
    env.levels = [SokobanLevel.from_rows(rows, "test")]
    env.reset(seed=0, options={"level": 0})
    return env


def pairs(view: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {a: (e["kind"], e["context"]) for a, e in view["actions"].items()}


# ---- dead-locks ---------------------------------------------------------------------------

def test_corners_and_walls_without_a_target_are_dead_squares() -> None:
    lvl = level("#######", "#-----#", "#-@$--#", "#----.#", "#######")
    dead = dead_squares(lvl)
    assert {(1, 1), (1, 5), (3, 1)} <= dead  # corners off target
    assert {(1, 2), (1, 3), (2, 1)} <= dead  # along the top and left walls: no target there
    assert (3, 5) not in dead and (3, 2) not in dead  # the bottom wall has the target
    assert (2, 3) not in dead and (2, 4) not in dead  # the open floor


def test_a_box_on_a_dead_square_or_frozen_pair_is_a_deadlock_and_on_target_is_not() -> None:
    lvl = level("#######", "#-$$$-#", "#-@---#", "#-.-..#", "#######")
    assert is_deadlock(lvl, frozenset({(1, 3), (2, 4), (2, 5)}))  # (1, 3): the top wall
    # two boxes side by side against the bottom wall block each other: both frozen
    pair = frozenset({(3, 3), (3, 4), (2, 4)})
    assert (3, 3) not in dead_squares(lvl) and is_deadlock(lvl, pair)
    assert not is_deadlock(lvl, frozenset({(3, 2), (3, 4), (3, 5)}))  # every box on a target
    assert not is_deadlock(lvl, frozenset({(2, 3), (2, 4), (3, 2)}))


def test_no_state_on_a_solver_path_is_ever_called_a_deadlock() -> None:
    from memplay.environments.sokoban.solver import push

    for seed in range(25):
        env = make("Sokoban-gen-v0")
        env.reset(seed=seed)
        game = env.unwrapped
        state = (game.player, game.boxes)
        for move in env.solution() or []:
            state = push(game.level, state, move)  # type: ignore[assignment]
            assert state is not None and not is_deadlock(game.level, state[1])


def test_every_deadlock_found_in_random_play_is_really_unsolvable() -> None:
    env = make("Sokoban-gen-v0", end_on_deadlock=False, max_episode_steps=25)
    flagged = 0
    for seed in range(12):
        _, info = env.reset(seed=seed)
        for step in range(25):
            choices = info["admissible_actions"]
            _, _, done, cut, info = env.step(choices[(seed + step) % len(choices)])
            game = env.unwrapped
            if is_deadlock(game.level, game.boxes):
                flagged += 1
                assert solve(game.level, (game.player, game.boxes), max_states=50_000) is None
            if done or cut:
                break
    assert flagged > 0  # the check ran on some dead-locked states


def test_a_deadlocking_push_ends_the_episode_and_says_why() -> None:
    env = env_on(["######", "#----#", "#-$@-#", "#---.#", "######"])
    obs, _, terminated, _, info = env.step("left")
    assert terminated and info["deadlock"] and "along a wall" in obs


# ---- reachability and push actions -----------------------------------------------------------

def test_only_pushes_the_player_can_walk_to_are_offered() -> None:
    # pushing the box left needs the player at (1, 4), behind the box: out of reach
    rows = ["#######", "#@-$-.#", "#######"]
    lvl = level(*rows)
    assert [(p.box, p.move) for p in reachable_pushes(lvl, lvl.player, lvl.boxes)] == [
        ((1, 3), "right")]
    env = env_on(rows, actions="push")
    assert env.portable_view() is not None
    assert list(env.portable_view()["actions"]) == ["push box at row 1 col 3 right"]  # type: ignore[index]


def test_a_push_action_walks_to_the_box_and_pushes_once() -> None:
    env = env_on(["#######", "#@----#", "#--$-.#", "#-----#", "#######"], actions="push")
    obs, reward, terminated, _, info = env.step("push box at row 2 col 3 right")
    assert env.player == (2, 3) and env.boxes == frozenset({(2, 4)}) and not terminated
    assert "You pushed a box right." in obs
    obs, reward, terminated, _, info = env.step("push box at row 2 col 4 right")
    assert terminated and info["success"] and reward == 1.0


def test_push_mode_solutions_win_and_count_pushes() -> None:
    for seed in range(5):
        moves_env, push_env = make("Sokoban-gen-v0"), make("Sokoban-gen-v0", actions="push")
        moves_env.reset(seed=seed)
        _, info = push_env.reset(seed=seed)
        pushes = push_env.solution() or []
        assert pushes == as_pushes(moves_env.unwrapped.level, (
            moves_env.unwrapped.player, moves_env.unwrapped.boxes), moves_env.solution() or [])
        assert info["optimal_steps"] == len(pushes) < len(moves_env.solution() or [])
        for action in pushes:
            assert action in info["admissible_actions"]
            _, _, done, _, info = push_env.step(action)
        assert done and info["success"]
    check_env(make("Sokoban-gen-v0", actions="push"), rollout_steps=20)


def test_bad_push_text_and_options_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="is not a push"):
        parse_push("shove the box")
    with pytest.raises(ConfigError, match="actions='pull'"):
        SokobanEnv(actions="pull")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="view='grid'"):
        make("Sokoban-v0", view="grid")
    env = env_on(["######", "#@$-.#", "######"], actions="push")
    assert env.step("push box at row 1 col 3 right")[0].startswith("Nothing happens")


# ---- the view: effects, and equal keys on different levels -----------------------------------

def test_push_effects_follow_the_matching_distance() -> None:
    lvl = level("########", "#------#", "#-@$-.-#", "#------#", "########")
    effects = {p.move: p.effect for p in reachable_pushes(lvl, lvl.player, lvl.boxes)}
    assert effects == {"right": "nearer", "left": "farther", "up": "deadlock",
                       "down": "deadlock"}
    assert matching_distance(lvl, lvl.boxes) == 2


def test_equal_situations_on_two_levels_give_equal_keys() -> None:
    small = ["#######", "#@-$-.#", "#-----#", "#######"]
    big = ["##########", "####@-$-.#", "####-----#", "##########", "##########"]
    for actions in ("move", "push"):
        one, other = env_on(small, actions=actions), env_on(big, actions=actions)
        assert sorted(pairs(one.portable_view()).values()) == \
            sorted(pairs(other.portable_view()).values())  # type: ignore[arg-type]
        assert one.portable_view() != env_on(["#######", "#@-$.-#", "#-----#", "#######"],
                                             actions=actions).portable_view()


def test_walking_moves_say_which_push_they_head_for() -> None:
    lvl = level("#######", "#@--$.#", "#-----#", "#######")
    view = push_view(lvl, lvl.player, lvl.boxes).build("move")
    assert pairs(view)["right"] == ("walk toward a push onto target",
                                    "1 boxes left; that push then 1 step away")
    assert pairs(view)["down"][0].startswith("walk toward a push")


def test_the_cells_view_is_still_there() -> None:
    env = env_on(["#####", "#@$.#", "#####"], view="cells")
    assert env.portable_view()["actions"]["right"]["kind"] == "push right"  # type: ignore[index]


@pytest.mark.parametrize("module", [push_module, view_module])
def test_docstring_examples(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]
