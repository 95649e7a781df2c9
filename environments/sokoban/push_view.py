"""The push-level view of Sokoban: each action described by the push it makes or heads for.

Lessons must carry from one level to the next, and no two levels share a layout, so the view
says nothing about cells or coordinates. It describes pushes
(:mod:`~memplay.environments.sokoban.push`): a push's kind is its effect on the box
(``push box onto target``, ``... nearer a target``, ``... sideways``, ``... off a target``,
``... farther from targets``, ``... into a deadlock``), and its context the few facts that
decide how good that is: boxes left, how far the box then is from a free target, whether it
then lies along a wall, and the best other push on offer.

With push actions (``SokobanEnv(actions="push")``) every action is a reachable push. With
single moves, a move that pushes reads like that push, and a walking move reads ``walk toward
a push <effect>``: the best push whose starting cell the step brings nearer.

    >>> from memplay.environments.sokoban.level import SokobanLevel
    >>> lvl = SokobanLevel.from_rows(["######", "#@-$.#", "#----#", "######"])
    >>> view = push_view(lvl, lvl.player, lvl.boxes).build("move")
    >>> view["actions"]["right"]["kind"], view["actions"]["right"]["context"]
    ('walk toward a push onto target', '1 boxes left; that push then 0 steps away')
    >>> push_view(lvl, lvl.player, lvl.boxes).build("push")["actions"][
    ...     "push box at row 1 col 3 right"]["kind"]
    'push box onto target'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from memplay.environments.sokoban.level import MOVES, Cell, SokobanLevel
from memplay.environments.sokoban.push import (
    EFFECTS,
    Push,
    dead_squares,
    reachable_pushes,
    walk_distances,
)
from memplay.environments.sokoban.solver import is_corner_deadlock, push
from memplay.environments.view import build_view
from memplay.errors import ConfigError

__all__ = ["PUSH_ACTION", "PushView", "as_pushes", "deadlock_reason", "parse_push",
           "push_action", "push_view", "walk_to_push"]

PUSH_ACTION = re.compile(r"^push box at row (\d+) col (\d+) (up|down|left|right)$")
KINDS = {"onto target": "push box onto target", "nearer": "push box nearer a target",
         "sideways": "push box sideways", "off target": "push box off a target",
         "farther": "push box farther from targets", "deadlock": "push box into a deadlock"}


def push_action(box: Cell, move: str) -> str:
    """The text of a push action.

    >>> push_action((2, 3), "up")
    'push box at row 2 col 3 up'
    """
    return f"push box at row {box[0]} col {box[1]} {move}"


def parse_push(text: str) -> tuple[Cell, str]:
    """(box, direction) of a push action's text; ConfigError for other text.

    >>> parse_push("push box at row 2 col 3 up")
    ((2, 3), 'up')
    """
    found = PUSH_ACTION.match(text)
    if found is None:
        raise ConfigError(f"{text!r} is not a push; write 'push box at row R col C <direction>'")
    return (int(found[1]), int(found[2])), found[3]


def walk_to_push(level: SokobanLevel, state: tuple[Cell, frozenset[Cell]], box: Cell,
                 move: str) -> Cell:
    """Where the player stands to push ``box`` toward ``move`` (it must be reachable).

    >>> lvl = SokobanLevel.from_rows(["######", "#@-$.#", "######"])
    >>> walk_to_push(lvl, (lvl.player, lvl.boxes), (1, 3), "right")
    (1, 2)
    """
    dr, dc = MOVES[move]
    stand = (box[0] - dr, box[1] - dc)
    if stand not in walk_distances(level, state[1], state[0]):
        raise ConfigError(f"the player cannot reach {stand} to push the box at {box} {move}")
    return stand


def as_pushes(level: SokobanLevel, state: tuple[Cell, frozenset[Cell]],
              moves: list[str]) -> list[str]:
    """The push actions a list of single moves makes, in order.

    >>> lvl = SokobanLevel.from_rows(["#######", "#@-$-.#", "#######"])
    >>> as_pushes(lvl, (lvl.player, lvl.boxes), ["right", "right", "right"])
    ['push box at row 1 col 3 right', 'push box at row 1 col 4 right']
    """
    pushes = []
    for move in moves:
        moved = push(level, state, move)
        if moved is None:
            raise ConfigError(f"move {move!r} is blocked; the move list does not fit the level")
        if moved[1] != state[1]:
            dr, dc = MOVES[move]
            pushes.append(push_action((state[0][0] + dr, state[0][1] + dc), move))
        state = moved
    return pushes


def deadlock_reason(level: SokobanLevel, boxes: frozenset[Cell]) -> str:
    """Why the level is lost, in words (call it when it is).

    >>> lvl = SokobanLevel.from_rows(["#####", "#$-.#", "#--@#", "#####"])
    >>> deadlock_reason(lvl, lvl.boxes)
    'A box is stuck in a corner off target'
    """
    if is_corner_deadlock(level, boxes):
        return "A box is stuck in a corner off target"
    if (boxes - level.targets) & dead_squares(level):
        return "A box is stuck along a wall where no target can be reached"
    return "A box is frozen against other boxes off target"


def _along_wall(level: SokobanLevel, cell: Cell) -> bool:
    return any((cell[0] + dr, cell[1] + dc) in level.walls for dr, dc in MOVES.values())


def _far(distance: int | None) -> str:
    """A push count in words: exact up to 2, then ``3+``; ``no`` when no target is reachable."""
    return "no" if distance is None else f"{min(distance, 3)}{'+' if distance >= 3 else ''}"


@dataclass(frozen=True)
class PushView:
    """The pushes on offer in one state, and the view built from them."""

    level: SokobanLevel
    player: Cell
    boxes: frozenset[Cell]
    pushes: tuple[Push, ...]

    @property
    def left(self) -> int:
        """Boxes not on a target."""
        return len(self.boxes - self.level.targets)

    def state_text(self) -> str:
        """The view's state: boxes left and the effects on offer, best first."""
        effects = [p.effect for p in self.pushes]
        offer = ", ".join(f"{effects.count(e)} {e}" for e in EFFECTS if e in effects)
        return f"{self.left} boxes left; pushes on offer: {offer or 'none'}"

    def push_entry(self, chosen: Push) -> tuple[str, str]:
        """(kind, context) of one push."""
        others = [p.effect for p in self.pushes if p != chosen]
        best = min(others, key=EFFECTS.index) if others else "none"
        to = (chosen.box[0] + MOVES[chosen.move][0], chosen.box[1] + MOVES[chosen.move][1])
        where = "along a wall" if _along_wall(self.level, to) else "in the open"
        return KINDS[chosen.effect], (f"{self.left} boxes left; then {_far(chosen.distance)} "
                                      f"pushes to go, box {where}; best other push: {best}")

    def walk_entry(self, move: str) -> tuple[str, str]:
        """(kind, context) of a move that pushes nothing: the best push it heads for."""
        nxt = (self.player[0] + MOVES[move][0], self.player[1] + MOVES[move][1])
        now = walk_distances(self.level, self.boxes, self.player)
        then = walk_distances(self.level, self.boxes, nxt)
        nearer = []
        for p in self.pushes:
            stand = (p.box[0] - MOVES[p.move][0], p.box[1] - MOVES[p.move][1])
            if then.get(stand, 10**6) < now[stand]:
                nearer.append((EFFECTS.index(p.effect), then[stand], p))
        if not nearer:
            return "walk away from every push", f"{self.left} boxes left"
        _, steps, target = min(nearer, key=lambda t: (t[0], t[1]))
        away = f"{min(steps, 3)}{'+' if steps >= 3 else ''} step{'s' if steps != 1 else ''}"
        return (f"walk toward a push {target.effect}",
                f"{self.left} boxes left; that push then {away} away")

    def build(self, actions: str) -> dict[str, Any]:
        """``info["view"]`` for push actions (``"push"``) or single moves (``"move"``)."""
        entries: dict[str, tuple[str, str]] = {}
        if actions == "push":
            for p in self.pushes:
                entries[push_action(p.box, p.move)] = self.push_entry(p)
            return build_view(self.state_text(), entries)
        adjacent = {p.move: p for p in self.pushes if p.walk == 0 and _in_front(self.player, p)}
        for move in MOVES:
            moved = push(self.level, (self.player, self.boxes), move)
            if moved is None:
                continue
            entries[move] = (self.push_entry(adjacent[move]) if moved[1] != self.boxes
                             else self.walk_entry(move))
        return build_view(self.state_text(), entries)


def _in_front(player: Cell, p: Push) -> bool:
    dr, dc = MOVES[p.move]
    return (player[0] + dr, player[1] + dc) == p.box


@lru_cache(maxsize=256)  # an env asks several times per step (admissible, parse, view)
def push_view(level: SokobanLevel, player: Cell, boxes: frozenset[Cell]) -> PushView:
    """The pushes reachable from this state, ready to build a view.

    >>> lvl = SokobanLevel.from_rows(["#####", "#@$.#", "#####"])
    >>> push_view(lvl, lvl.player, lvl.boxes).state_text()
    '1 boxes left; pushes on offer: 1 onto target'
    """
    return PushView(level, player, boxes, tuple(reachable_pushes(level, player, boxes)))
