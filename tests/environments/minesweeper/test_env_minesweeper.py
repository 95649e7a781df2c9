"""Minesweeper: safe first click, seeded boards, words as actions, winning and losing."""

from __future__ import annotations

import pytest

from memplay.environments import make
from memplay.environments.minesweeper.env import MinesweeperEnv, parse_cell_action
from memplay.errors import ConfigError


@pytest.mark.parametrize("seed", range(25))
def test_first_click_is_safe_and_opens_an_area(seed: int) -> None:
    env = MinesweeperEnv(rows=5, cols=5, mines=6)
    env.reset(seed=seed)
    row, col = seed % 5, (seed * 3) % 5
    _, _, terminated, _, info = env.step(f"reveal {row} {col}")
    assert (row, col) not in env.mines and len(env.mines) == 6
    assert not (terminated and not info["success"])
    assert info["revealed"] >= 1 and env.count((row, col)) == 0  # neighbours kept free


def test_boards_follow_the_seed() -> None:
    boards = []
    for seed in (4, 4, 5):
        env = MinesweeperEnv()
        env.reset(seed=seed)
        env.step("reveal 0 0")
        boards.append(env.mines)
    assert boards[0] == boards[1]
    assert boards[0] != boards[2]


def test_revealing_every_safe_cell_wins() -> None:
    env = make("Minesweeper-v0")
    env.reset(seed=7)
    obs, reward, terminated, _, info = env.step("reveal 2 2")
    inner = env.unwrapped
    while not terminated:
        cell = next(c for c in inner._cells() if c not in inner.mines and c not in inner.revealed)
        obs, reward, terminated, _, info = env.step(f"reveal {cell[0]} {cell[1]}")
    assert (reward, info["success"]) == (1.0, True)
    assert "you win" in obs


def test_revealing_a_mine_loses_and_shows_mines() -> None:
    env = MinesweeperEnv(rows=4, cols=4, mines=3)
    env.reset(seed=1)
    env.step("reveal 0 0")
    mine = sorted(env.mines)[0]
    obs, reward, terminated, _, info = env.step(f"reveal {mine[0]} {mine[1]}")
    assert terminated and reward == 0.0 and not info["success"]
    assert obs.split("Legend")[0].count("*") == 3


def test_flag_and_unflag_change_admissible_actions() -> None:
    env = MinesweeperEnv()
    _, info = env.reset(seed=0)
    assert "reveal 1 1" in info["admissible_actions"]
    _, _, _, _, info = env.step("flag 1 1")
    assert "reveal 1 1" not in info["admissible_actions"]
    assert "unflag 1 1" in info["admissible_actions"] and info["flags"] == 1
    assert "1 ? F ?" in env.render()
    before = env.render()
    obs, _, _, _, info = env.step("reveal 1 1")  # flagged cells cannot be revealed
    assert obs.startswith("Nothing happens") and env.render() == before
    _, _, _, _, info = env.step("unflag 1 1")
    assert info["flags"] == 0 and "reveal 1 1" in info["admissible_actions"]


def test_revealed_cells_and_off_board_cells_are_invalid() -> None:
    env = MinesweeperEnv(rows=6, cols=6, mines=10)
    env.reset(seed=2)
    assert not env.step("reveal 0 0")[2]
    revealed = sorted(env.revealed)[0]
    for bad in (f"reveal {revealed[0]} {revealed[1]}", "reveal 9 9", "reveal", "dig a hole"):
        assert env.step(bad)[0].startswith("Nothing happens")
    assert env.step("x")[4]["invalid_actions"] == 5


def test_action_parser_accepts_several_spellings() -> None:
    assert parse_cell_action("Reveal 1 2") == ("reveal", 1, 2)
    assert parse_cell_action("open (3, 4)") == ("reveal", 3, 4)
    assert parse_cell_action("flag row 0 column 2") == ("flag", 0, 2)
    assert parse_cell_action("mark at 2,2") == ("flag", 2, 2)
    assert parse_cell_action("reveal 1") is None


@pytest.mark.parametrize("kwargs", [{"rows": 1}, {"cols": 31}, {"mines": 0}, {"mines": 25},
                                    {"rows": True}])
def test_bad_board_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ConfigError, match=r"rows|cols|mines"):
        MinesweeperEnv(**kwargs)


def test_crowded_board_still_has_a_safe_first_click() -> None:
    env = MinesweeperEnv(rows=3, cols=3, mines=8)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("reveal 1 1")
    assert terminated and info["success"] and reward == 1.0  # the only safe cell


def test_reveal_only_board_offers_no_flags_and_still_wins() -> None:
    env = make("Minesweeper-v0", flags=False)
    _, info = env.reset(seed=7)
    assert info["admissible_actions"] and all(
        a.startswith("reveal ") for a in info["admissible_actions"])
    assert len(info["admissible_actions"]) == 25 and "flag" not in env.unwrapped._goal()
    obs, _, _, _, info = env.step("flag 1 1")  # not offered, so not accepted either
    assert obs.startswith("Nothing happens") and info["flags"] == 0
    inner, terminated = env.unwrapped, False
    env.step("reveal 2 2")
    while not terminated:
        cell = next(c for c in inner._cells() if c not in inner.mines and c not in inner.revealed)
        _, reward, terminated, _, info = env.step(f"reveal {cell[0]} {cell[1]}")
    assert info["success"] and reward == 1.0


def test_flags_setting_must_be_a_bool() -> None:
    with pytest.raises(ConfigError, match="flags='no'"):
        MinesweeperEnv(flags="no")  # type: ignore[arg-type]
