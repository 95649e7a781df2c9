"""Sokoban as a text game: push every box onto a target.

Levels come from the bundled easy set (chosen by the reset seed, or ``options={"level": i}``)
or from the seeded generator (``generate=True``), which only emits solvable levels. Rewards:
+0.1 when a box lands on a target, -0.1 when one leaves it, 1.0 when the level is solved.

Actions (``actions=``): ``"move"`` (the default) takes one step up, down, left or right; the
admissible moves are those that change something (walking into a wall is invalid).
``"push"`` makes each action one push, ``push box at row R col C <dir>``: the player walks to
the cell behind the box by a shortest path and pushes once; only pushes it can walk to are
admissible, and a step limit counts pushes.

Portable view (``info["view"]``, docs/CONTRACTS.md): by default the push-level view of
:mod:`~memplay.environments.sokoban.push_view` (what each push does to its box, and which push
each walking move heads for); ``view="cells"`` is the window view of earlier versions
(:mod:`~memplay.environments.sokoban.view`).

    >>> env = SokobanEnv(level=0)
    >>> obs, info = env.reset(seed=0)
    >>> env.solution()
    ['right']
    >>> info["view"]["actions"]["right"]["kind"]
    'push box onto target'
    >>> env.step("right")[1:3]
    (1.0, True)
    >>> SokobanEnv(level=0, actions="push").reset(seed=0)[1]["admissible_actions"]
    ['push box at row 1 col 2 right']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from memplay.environments.core import Outcome, TextEnv
from memplay.environments.sokoban.files import load_levels
from memplay.environments.sokoban.gen import check_generator_args, generate_level
from memplay.environments.sokoban.level import MOVES, SokobanLevel
from memplay.environments.sokoban.push import is_deadlock
from memplay.environments.sokoban.push_view import (
    as_pushes,
    deadlock_reason,
    parse_push,
    push_action,
    push_view,
    walk_to_push,
)
from memplay.environments.sokoban.solver import push, solve
from memplay.environments.sokoban.view import sokoban_view
from memplay.environments.view import check_view_option
from memplay.errors import ConfigError

__all__ = ["SokobanEnv"]

_LEGEND = ("Legend: # wall, - floor, @ you, + you on a target, $ box, . target, "
           "* box on a target.")


class SokobanEnv(TextEnv):
    """Push all boxes onto targets by moving up, down, left or right.

    Args:
        generate: Draw a fresh solvable level at each reset instead of a bundled one.
        level: Always play this bundled level index (default: chosen by the reset seed).
        levels_file: Levels to use instead of the bundled set: an XSB collection (the
            standard text format of public level sets) or memplay's JSON (``.json``).
        height, width, num_boxes, max_walls: Generator settings (``generate=True``).
        end_on_deadlock: End the episode (unsolved) once a box is dead-locked off a target
            (in a corner, along a wall it can never leave, or frozen against other boxes).
        levels_by_seed: Seed ``i`` plays level ``i`` (modulo the number of levels), so the
            task seeds of a benchmark are level indices.
        actions: ``"move"`` (one step per action) or ``"push"`` (one reachable push per action).
        view: ``"push"`` (the push-level view) or ``"cells"`` (the window view).
        view_radius: Half-side of the window of ``view="cells"`` (1: 3x3).

        >>> env = SokobanEnv(generate=True, num_boxes=1)
        >>> obs, info = env.reset(seed=4)
        >>> info["optimal_steps"] == len(env.solution())
        True
    """

    def __init__(self, generate: bool = False, level: int | None = None,
                 levels_file: str | Path | None = None, height: int = 7, width: int = 7,
                 num_boxes: int = 2, max_walls: int = 3, end_on_deadlock: bool = True,
                 levels_by_seed: bool = False, actions: Literal["move", "push"] = "move",
                 view: Literal["push", "cells"] = "push", view_radius: int = 1) -> None:
        super().__init__()
        self.view_radius = check_view_option("view_radius", view_radius)
        self.actions = _choice("actions", actions, ("move", "push"))
        self.view = _choice("view", view, ("push", "cells"))
        self.levels = load_levels(levels_file)
        self._check_index(level)
        self.generate, self.fixed_level = bool(generate), level
        self.gen_args = {"height": height, "width": width, "num_boxes": num_boxes,
                         "max_walls": max_walls}
        check_generator_args(height, width, num_boxes, max_walls)
        self.end_on_deadlock = bool(end_on_deadlock)
        self.levels_by_seed = bool(levels_by_seed)
        self._seed: int | None = None
        self.level: SokobanLevel = self.levels[level or 0]
        self.player, self.boxes = self.level.player, self.level.boxes
        self._optimal: int | None = None

    def _check_index(self, index: object) -> None:
        if index is None:
            return
        if isinstance(index, bool) or not isinstance(index, int) \
                or not 0 <= index < len(self.levels):
            raise ConfigError(f"level={index!r} is not a level index; use 0..{len(self.levels) - 1}"
                              " or None")

    def solution(self) -> list[str] | None:
        """Shortest move list from the current state (None if the level is lost); with
        ``actions="push"``, the pushes of that move list.

        >>> env = SokobanEnv(level=1); _ = env.reset(seed=0); len(env.solution())
        5
        """
        moves = solve(self.level, (self.player, self.boxes))
        if moves is None or self.actions == "move":
            return moves
        return as_pushes(self.level, (self.player, self.boxes), moves)

    def action_vocabulary(self) -> list[str] | None:
        """The four moves (all of them, even those blocked now); None for pushes, which
        name their box."""
        return list(MOVES) if self.actions == "move" else None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[str, dict[str, Any]]:
        """Start a level (see the class docstring for how it is chosen).

        >>> env = SokobanEnv(levels_by_seed=True)
        >>> env.reset(seed=3)[1]["level"] == env.levels[3].name
        True
        """
        self._seed = seed
        return super().reset(seed=seed, options=options)

    def _reset_game(self, options: dict[str, Any]) -> str:
        by_seed = self._seed % len(self.levels) if self.levels_by_seed and \
            self._seed is not None else None
        index = options.get("level", self.fixed_level if by_seed is None else by_seed)
        self._check_index(index)
        if self.generate and index is None:
            self.level = generate_level(self.np_random, **self.gen_args)
        else:
            pick = int(self.np_random.integers(len(self.levels))) if index is None else index
            self.level = self.levels[pick]
        self.player, self.boxes = self.level.player, self.level.boxes
        path = self.solution()
        self._optimal = None if path is None else len(path)
        return f"Sokoban level {self.level.name}.\n{self._observe()}"

    def _apply(self, action: str) -> Outcome:
        state = (self.player, self.boxes)
        move = action
        if self.actions == "push":  # walk to the cell behind the box, then push once
            box, move = parse_push(action)
            state = (walk_to_push(self.level, state, box, move), self.boxes)
        moved = push(self.level, state, move)
        if moved is None:  # _parse only lets through moves that push() accepts
            raise ConfigError(f"move {action!r} is blocked; this is a bug in SokobanEnv._parse")
        before = len(self.boxes & self.level.targets)
        pushed = moved[1] != self.boxes
        self.player, self.boxes = moved
        gained = len(self.boxes & self.level.targets) - before
        if self.boxes == self.level.targets:
            return Outcome(f"You pushed a box {move}. Every box is on a target: solved!",
                           1.0, True, True)
        message = f"You pushed a box {move}." if pushed else f"You moved {move}."
        if self.end_on_deadlock and is_deadlock(self.level, self.boxes):
            return Outcome(f"{message} {deadlock_reason(self.level, self.boxes)}; the level can "
                           "no longer be solved. Game over.", 0.1 * gained, True, False)
        return Outcome(message, 0.1 * gained)

    def _parse(self, text: str) -> str | None:
        if self.actions == "move":
            text = text.removeprefix("move ").removeprefix("go ").removeprefix("push ")
        return text if text in self._admissible() else None

    def _admissible(self) -> list[str]:
        state = (self.player, self.boxes)
        if self.actions == "push":
            return [push_action(p.box, p.move) for p in
                    sorted(push_view(self.level, self.player, self.boxes).pushes,
                           key=lambda p: (p.box, list(MOVES).index(p.move)))]
        return [m for m in MOVES if push(self.level, state, m) is not None]

    def _observe(self) -> str:
        done = len(self.boxes & self.level.targets)
        return (f"{self.level.render(self.boxes, self.player)}\n{_LEGEND}\n"
                f"You are at row {self.player[0]}, column {self.player[1]}. "
                f"Boxes on targets: {done} of {len(self.level.targets)}.")

    def _goal(self) -> str:
        if self.actions == "push":
            return ("Push every box ($) onto a target (.). Each action walks you to a box and "
                    "pushes it one cell; you cannot pull boxes.")
        return ("Push every box ($) onto a target (.) by moving up, down, left or right. "
                "You can push one box at a time and cannot pull boxes.")

    def _portable_view(self) -> dict[str, Any]:
        if self.view == "cells":
            return sokoban_view(self.level, self.player, self.boxes, self.view_radius)
        return push_view(self.level, self.player, self.boxes).build(self.actions)

    def _extra_info(self) -> dict[str, Any]:
        return {"optimal_steps": self._optimal, "level": self.level.name,
                "deadlock": is_deadlock(self.level, self.boxes)}


def _choice(label: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"SokobanEnv: {label}={value!r} is not one of {list(allowed)}")
    return str(value)
