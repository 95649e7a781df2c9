"""Portable views (info["view"]): same local situation -> same (kind, context) on different
maps, different situation -> different pairs, exactly the admissible actions, the checker's
view rules, and canonical_action."""

from __future__ import annotations

import doctest
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memplay.environments import TextEnv, canonical_action, check_env, make, validate_view
from memplay.environments import canonical as canonical_module
from memplay.environments import view as view_module
from memplay.environments.core import Outcome
from memplay.environments.frozenlake.env import FrozenLakeEnv
from memplay.environments.minesweeper.env import MinesweeperEnv
from memplay.environments.sokoban.env import SokobanEnv
from memplay.environments.sokoban.level import SokobanLevel
from memplay.environments.two_player.kuhn import KuhnPokerEnv
from memplay.environments.two_player.tictactoe import TicTacToeEnv, canonical_board
from memplay.errors import ConfigError, EnvironmentFault

VIEW_IDS = ["FrozenLake-4x4-v0", "FrozenLake-random-8x8-v0", "FrozenLakeSlippery-4x4-v0",
            "Sokoban-v0", "Sokoban-gen-v0", "Minesweeper-v0", "TicTacToe-v0", "KuhnPoker-v0"]


def pairs(info: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """action -> (kind, context) of a view."""
    return {a: (e["kind"], e["context"]) for a, e in info["view"]["actions"].items()}


def lake(desc: list[str], moves: tuple[str, ...] = (), **kwargs: Any) -> dict[str, Any]:
    env = FrozenLakeEnv(desc=desc, **kwargs)
    _, info = env.reset(seed=0)
    for move in moves:
        info = env.step(move)[4]
    return info


def sokoban(rows: list[str]) -> dict[str, Any]:
    env = SokobanEnv(view="cells")  # the window view (the push-level view: test_env_sokoban_push)
    env.levels = [SokobanLevel.from_rows(rows, "test")]
    return env.reset(seed=0, options={"level": 0})[1]


# ---- every game: structure, admissible actions, determinism, end of episode ----------------

@pytest.mark.parametrize("env_id", VIEW_IDS)
def test_view_covers_exactly_the_admissible_actions_along_random_play(env_id: str) -> None:
    env = make(env_id)
    chooser = np.random.default_rng(0)
    for seed in range(3):
        _, info = env.reset(seed=seed)
        while info["admissible_actions"]:
            validate_view(info["view"], info["admissible_actions"])
            assert set(info["view"]["actions"]) == set(info["admissible_actions"])
            assert json.loads(json.dumps(info["view"])) == info["view"]
            assert max(len(e["context"]) for e in info["view"]["actions"].values()) < 200
            choices = info["admissible_actions"]
            _, _, terminated, truncated, info = env.step(choices[chooser.integers(len(choices))])
            if terminated or truncated:
                assert "view" not in info and env.portable_view() is None
                break


@pytest.mark.parametrize("env_id", VIEW_IDS)
def test_view_is_deterministic_for_a_seed(env_id: str) -> None:
    first, second = make(env_id).reset(seed=5)[1], make(env_id).reset(seed=5)[1]
    assert first["view"] == second["view"]


def test_time_limit_drops_the_view_at_truncation() -> None:
    env = make("FrozenLake-4x4-v0", max_episode_steps=1)
    _, info = env.reset(seed=0)
    assert "view" in info and env.portable_view() == info["view"]
    _, _, terminated, truncated, info = env.step("up")
    assert (terminated, truncated) == (False, True)
    assert "view" not in info and env.portable_view() is None


def test_envs_without_a_view_are_unchanged() -> None:
    from memplay.environments.alfworld.env import ALFWorldEnv

    assert ALFWorldEnv._portable_view is TextEnv._portable_view


def test_invalid_action_keeps_the_view() -> None:
    env = make("Minesweeper-v0")
    _, info = env.reset(seed=0)
    assert env.step("jump")[4]["view"] == info["view"]


# ---- FrozenLake ------------------------------------------------------------------------------

def test_lake_same_surroundings_on_different_maps_give_identical_pairs() -> None:
    small = lake(["SFFF", "FHFH", "FFFH", "HFFG"])
    big = lake(["SFFFF", "FHFFF", "FFFHF", "FFFFF", "HFFFG"])  # other size, holes, goal distance
    assert small["view"]["state"] == "window ###|#AF|#FH; goal 3+ down, 3+ right"
    assert pairs(small) == pairs(big)
    # and away from the start: the same 3x3 in the middle of two other maps
    left = lake(["FFFFF", "FHFFF", "FSFHF", "FFFFF", "FFFGF"])
    right = lake(["HHFFFFF", "FFFFFFF", "FFHFFFF", "FFSFHFF", "FFFFFFF", "FFFFGHF", "FFFFFFF"])
    assert left["view"]["state"] == "window FHF|FAF|FFF; goal 2 down, 2 right"
    assert pairs(left) == pairs(right)


def test_lake_hole_to_the_right_differs_from_ice_to_the_right() -> None:
    hole, ice = lake(["SHF", "FFF", "FFG"]), lake(["SFF", "FFF", "FFG"])
    # what a move steps onto is part of its kind: holes and ice never share values
    assert pairs(hole)["right"][0] == "right to hole"
    assert pairs(ice)["right"][0] == "right to ice"
    assert pairs(hole)["right"] != pairs(ice)["right"]
    assert pairs(hole)["left"][0] == "left to edge"  # outside the map reads as a wall


def test_lake_goal_direction_separates_otherwise_equal_windows() -> None:
    east = lake(["FFFFF", "FFFFF", "FFSFG", "FFFFF", "FFFFF"])
    west = lake(["FFFFF", "FFFFF", "GFSFF", "FFFFF", "FFFFF"])
    assert east["view"]["state"].endswith("goal same row, 2 right")
    assert west["view"]["state"].endswith("goal same row, 2 left")
    assert pairs(east)["right"] != pairs(west)["right"]


def test_lake_view_options() -> None:
    wide = lake(["SFFF", "FHFH", "FFFH", "HFFG"], view_radius=2, view_goal_clip=1)
    assert wide["view"]["state"] == "window #####|#####|##AFF|##FHF|##FFF; goal 1+ down, 1+ right"
    with pytest.raises(ConfigError, match="view_radius"):
        FrozenLakeEnv(view_radius=0)
    with pytest.raises(ConfigError, match="view_goal_clip"):
        make("FrozenLake-random-v0", view_goal_clip="3")


# ---- Sokoban ----------------------------------------------------------------------------------

def test_sokoban_same_neighbourhood_in_two_levels_gives_identical_views() -> None:
    short = sokoban(["#######", "#@$-.-#", "#######"])
    other = sokoban(["##########", "####@$-.-#", "########*#", "##########"])
    assert short["view"] == other["view"]
    assert pairs(short) == {"right": ("push right", "box to floor, then target; box stays off "
                                      "targets; around ###|#@$|###; loose box right, free target "
                                      "right; boxes left 1")}


def test_sokoban_push_onto_a_target_differs_from_a_push_onto_floor() -> None:
    onto = pairs(sokoban(["#####", "#@$.#", "#####"]))["right"]
    floor = pairs(sokoban(["######", "#@$-.#", "######"]))["right"]
    assert onto[0] == floor[0] == "push right"
    assert "puts box on target" in onto[1] and "box stays off targets" in floor[1]
    assert onto != floor


def test_sokoban_move_kind_and_corner_warning() -> None:
    info = sokoban(["######", "#----#", "#-@$-#", "#-.--#", "######"])
    assert pairs(info)["left"] == ("move left", pairs(info)["left"][1])
    assert pairs(info)["left"][1].startswith("step onto floor, then wall;")
    into_corner = pairs(sokoban(["#####", "#--.#", "#-$@#", "#####"]))["left"]
    along_wall = pairs(sokoban(["######", "#---.#", "#--$@#", "#----#", "######"]))["left"]
    assert into_corner[1].startswith("box to floor, then wall; box stays off targets; box stuck")
    assert "stuck" not in along_wall[1]


# ---- Minesweeper ------------------------------------------------------------------------------

def sweeper(rows: int, cols: int, mines: set[tuple[int, int]],
            revealed: set[tuple[int, int]]) -> MinesweeperEnv:
    env = MinesweeperEnv(rows=rows, cols=cols, mines=len(mines), flags=True)
    env.reset(seed=0)
    env.mines, env.revealed = frozenset(mines), set(revealed)
    return env


def test_minesweeper_same_pattern_on_different_boards_gives_identical_pairs() -> None:
    small = sweeper(4, 4, {(0, 0), (3, 3)}, {(0, 1), (1, 0), (1, 1)})
    big = sweeper(6, 6, {(0, 0), (5, 5), (4, 0)}, {(0, 1), (1, 0), (1, 1), (2, 2)})
    a, b = pairs(small._info()), pairs(big._info())
    assert a["reveal 0 0"] == b["reveal 0 0"] == ("reveal", "around ###|#?1|#11")
    assert a["flag 0 0"] == b["flag 0 0"] == ("flag", "around ###|#?1|#11")


def test_minesweeper_different_patterns_give_different_pairs() -> None:
    env = sweeper(4, 4, {(3, 3)}, {(0, 1), (1, 0), (1, 1)})  # no mine near the corner
    assert pairs(env._info())["reveal 0 0"] == ("reveal", "around ###|#?-|#--")
    first = MinesweeperEnv(rows=4, cols=4, mines=2).reset(seed=0)[1]
    later = sweeper(4, 4, {(0, 0), (3, 3)}, {(3, 0)})
    # an all-hidden 3x3 before the first reveal (always safe) is not the same situation later
    assert pairs(first)["reveal 1 1"] == ("reveal", "opening move; around ???|???|???")
    assert pairs(later._info())["reveal 1 1"] == ("reveal", "around ???|???|???")


# ---- TicTacToe --------------------------------------------------------------------------------

def tictactoe(moves: list[str]) -> dict[str, Any]:
    env = TicTacToeEnv(opponent="self")
    _, info = env.reset(seed=0)
    for move in moves:
        info = env.step(move)[4]
    return info


def test_tictactoe_rotated_boards_give_identical_pairs_for_corresponding_moves() -> None:
    top = pairs(tictactoe(["mark 0 0", "mark 0 1"]))
    bottom = pairs(tictactoe(["mark 2 2", "mark 2 1"]))  # the same position turned 180 degrees
    assert {p for p in top.values()} == {p for p in bottom.values()}
    assert top["mark 1 0"] == bottom["mark 1 2"] and top["mark 2 2"] == bottom["mark 0 0"]
    assert top["mark 1 1"][1] == "board XO.|...|..., X to play"


def test_tictactoe_symmetric_moves_share_a_kind_and_different_boards_differ() -> None:
    empty = pairs(tictactoe([]))
    assert len({empty[f"mark {r} {c}"] for r in (0, 2) for c in (0, 2)}) == 1
    assert len(set(empty.values())) == 3  # corner, edge, centre
    corner, centre = pairs(tictactoe(["mark 0 0"])), pairs(tictactoe(["mark 1 1"]))
    assert corner["mark 2 2"] != centre["mark 2 2"]


def test_tictactoe_canonical_cells_are_empty_and_equivariant() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        board = ["."] * 9
        for i, mark in zip(rng.permutation(9)[: rng.integers(0, 8)], "XOXOXOXO"):
            board[int(i)] = mark
        canon, tables = canonical_board(tuple(board))
        for i in (j for j in range(9) if board[j] == "."):
            cell = min(t[i] for t in tables)
            assert canon[cell] == "."
            after = canonical_board(tuple([*board[:i], "X", *board[i + 1:]]))[0]
            moved = canonical_board((*canon[:cell], "X", *canon[cell + 1:]))[0]
            assert after == moved


# ---- Kuhn poker -------------------------------------------------------------------------------

def test_kuhn_view_is_the_information_set() -> None:
    seen: dict[tuple[str, str], set[tuple[int, int]]] = {}
    env = KuhnPokerEnv(opponent="self")
    for seed in range(30):
        _, info = env.reset(seed=seed)
        seen.setdefault(pairs(info)["bet"], set()).add(env.cards)
    assert len(seen) == 3  # one pair per own card, whatever the opponent holds
    assert any(len({cards[1] for cards in deals}) == 2 for deals in seen.values())
    env.reset(seed=0)
    info = env.step("check")[4]
    assert info["view"]["state"].endswith("second to act; so far: opponent checked")


# ---- the checker ------------------------------------------------------------------------------

_CALLS = itertools.count()


class _Line(TextEnv):
    """A walk on a line whose view can be broken on purpose."""

    def __init__(self, broken: str = "") -> None:
        super().__init__()
        self.broken, self.pos = broken, 0

    def _reset_game(self, options: dict[str, Any]) -> str:
        self.pos = 0
        return self._observe()

    def _observe(self) -> str:
        return f"at {self.pos}"

    def _goal(self) -> str:
        return "reach 3"

    def _admissible(self) -> list[str]:
        return ["left", "right"]

    def _apply(self, action: str) -> Outcome:
        self.pos += 1 if action == "right" else -1
        return Outcome("moved", float(self.pos == 3), self.pos == 3, self.pos == 3)

    def _portable_view(self) -> dict[str, Any]:
        entries: dict[str, Any] = {a: {"kind": a, "context": "line"} for a in self._admissible()}
        if self.broken == "missing":
            del entries["left"]
        if self.broken == "type":
            entries["left"]["context"] = 3
        if self.broken == "changing":  # differs from one rollout to the next
            entries["left"]["context"] = str(next(_CALLS) if self._steps else 0)
        if self.broken == "extra_key":
            return {"state": "s", "actions": entries, "extra": "x"}
        return {"state": "s", "actions": entries}


@pytest.mark.parametrize(("broken", "message"), [
    ("missing", r"info\['view'\] lacks admissible actions \['left'\]"),
    ("type", r"info\['view'\]\['actions'\]\['left'\]\['context'\] must be a str"),
    ("extra_key", r"exactly the keys 'state' and 'actions'"),
    ("changing", r"not reproducible"),
])
def test_check_env_names_a_broken_view(broken: str, message: str) -> None:
    check_env(_Line())
    with pytest.raises(EnvironmentFault, match=message):
        check_env(_Line(broken))


def test_view_problem_messages() -> None:
    view = {"state": "s", "actions": {"up": {"kind": "up", "context": "c"}}}
    assert view_module.view_problem(view, ["up"]) is None
    assert "not admissible: ['up']" in str(view_module.view_problem(view, []))
    assert "must be a str" in str(view_module.view_problem({**view, "state": 1}, ["up"]))
    with pytest.raises(EnvironmentFault, match="non-empty str"):
        validate_view({"state": "s", "actions": {"up": {"kind": " ", "context": ""}}}, ["up"])


def test_a_view_may_mark_an_action_as_not_needed() -> None:
    view = view_module.build_view("s", {"up": ("up", "c"), "look": ("look", "c")}, ["look"])
    assert view_module.view_problem(view, ["up", "look"]) is None
    assert view["actions"]["look"]["needed"] is False and "needed" not in view["actions"]["up"]
    view["actions"]["look"]["needed"] = "no"
    assert "must be a bool" in str(view_module.view_problem(view, ["up", "look"]))
    view["actions"]["look"] = {"kind": "look", "context": "c", "why": "x"}
    assert "optionally 'needed'" in str(view_module.view_problem(view, ["up", "look"]))


# ---- canonical_action -------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("go to desk 2", "go to desk"),
    ("take apple 1 from countertop 3", "take apple from countertop"),
    ("put mug 2 in/on coffeemachine 1", "put mug in/on coffeemachine"),
    ("  Open Drawer 12. ", "open drawer"),
    ("reveal 2 3", "reveal 2 3"),
    ("flag row 1 column 4", "flag row 1 column 4"),
    ("mark 0 2", "mark 0 2"),
    ("look", "look"),
    ("go to desk 2b", "go to desk 2b"),
])
def test_canonical_action(text: str, expected: str) -> None:
    assert canonical_action(text) == expected


def test_canonical_action_table_is_configurable() -> None:
    assert canonical_action("go to desk 2", keep_after={"desk"}) == "go to desk 2"
    assert canonical_action("reveal 2 3", keep_after=()) == "reveal 3"


def test_docs_view_snippet_runs(capsys: pytest.CaptureFixture[str]) -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "ENVIRONMENTS.md"
    section = page.read_text(encoding="utf-8").split(
        "## Write a view for your own environment", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "docs/ENVIRONMENTS.md", "exec"), {"__name__": "docs_snippet"})
    assert "'kind': 'right', 'context': 'exit further right, wall on the left'" in \
        capsys.readouterr().out


@pytest.mark.parametrize("module", [view_module, canonical_module])
def test_docstring_examples(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]
