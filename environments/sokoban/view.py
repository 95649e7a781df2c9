"""The portable view of a Sokoban state: what surrounds the player and each move's effect.

State text: the window around the player (the level's own symbols: ``#`` wall, ``-`` floor,
``.`` target, ``$`` box, ``*`` box on a target, ``@``/``+`` you; beyond the edge reads ``#``),
the direction (signs only) of the nearest box off a target and of the nearest free target, and
the boxes left. Each admissible move gets kind ``push <dir>`` when it pushes a box, else
``move <dir>``; its context says what lies one and two cells ahead (three for a push), whether a
push puts the box on or takes it off a target, whether it leaves the box stuck in a corner, and
repeats the state. Nothing depends on coordinates or level size.

    >>> from memplay.environments.sokoban.level import SokobanLevel
    >>> lvl = SokobanLevel.from_rows(["#######", "#@$-.-#", "#######"])
    >>> view = sokoban_view(lvl, lvl.player, lvl.boxes, radius=1)
    >>> view["state"]
    'around ###|#@$|###; loose box right, free target right; boxes left 1'
    >>> view["actions"]["right"]["kind"]
    'push right'
    >>> view["actions"]["right"]["context"].split(";")[:2]
    ['box to floor, then target', ' box stays off targets']
"""

from __future__ import annotations

from typing import Any

from memplay.environments.sokoban.level import MOVES, Cell, SokobanLevel
from memplay.environments.sokoban.solver import is_corner_deadlock, push
from memplay.environments.view import build_view, grid_window

__all__ = ["sokoban_view"]

_NAMES = {"#": "wall", "-": "floor", ".": "target", "$": "box", "*": "box on target"}


def sokoban_view(level: SokobanLevel, player: Cell, boxes: frozenset[Cell],
                 radius: int = 1) -> dict[str, Any]:
    """``info["view"]`` for the player at ``player`` with these ``boxes`` (admissible moves only).

    >>> from memplay.environments.sokoban.files import load_levels
    >>> lvl = load_levels()[0]
    >>> sorted(sokoban_view(lvl, lvl.player, lvl.boxes)["actions"]) == sorted(
    ...     m for m in MOVES if push(lvl, (lvl.player, lvl.boxes), m) is not None)
    True
    """
    def cell_at(r: int, c: int) -> str | None:
        inside = 0 <= r < level.height and 0 <= c < level.width
        return level.cell_char((r, c), boxes, player) if inside else None

    left = len(boxes - level.targets)
    state = (f"around {grid_window(cell_at, player, radius)}; {_directions(level, player, boxes)}"
             f"; boxes left {left}")
    actions = {}
    for move, (dr, dc) in MOVES.items():
        moved = push(level, (player, boxes), move)
        if moved is None:
            continue
        ahead = [_name(cell_at(player[0] + k * dr, player[1] + k * dc)) for k in (1, 2, 3)]
        if moved[1] == boxes:
            actions[move] = (f"move {move}", f"step onto {ahead[0]}, then {ahead[1]}; {state}")
        else:
            box_from, box_to = (player[0] + dr, player[1] + dc), (player[0] + 2 * dr,
                                                                 player[1] + 2 * dc)
            effect = _push_effect(level, box_from, box_to)
            actions[move] = (f"push {move}", f"box to {ahead[1]}, then {ahead[2]}; {effect}; "
                                             f"{state}")
    return build_view(state, actions)


def _name(symbol: str | None) -> str:
    # the player never stands two or three cells ahead of itself, so only map symbols occur
    return _NAMES.get(symbol or "#", "floor")


def _push_effect(level: SokobanLevel, box_from: Cell, box_to: Cell) -> str:
    was_on, now_on = box_from in level.targets, box_to in level.targets
    words = {(False, True): "puts box on target", (True, False): "takes box off target",
             (True, True): "moves box between targets", (False, False): "box stays off targets"}
    stuck = "; box stuck in a corner" if is_corner_deadlock(level, frozenset({box_to})) else ""
    return words[(was_on, now_on)] + stuck


def _directions(level: SokobanLevel, player: Cell, boxes: frozenset[Cell]) -> str:
    loose = _nearest(player, boxes - level.targets)
    free = _nearest(player, level.targets - boxes)
    return f"loose box {loose}, free target {free}"


def _nearest(origin: Cell, cells: frozenset[Cell]) -> str:
    if not cells:
        return "none"
    r, c = min(cells, key=lambda x: (abs(x[0] - origin[0]) + abs(x[1] - origin[1]), x))
    vertical = "up" if r < origin[0] else "down" if r > origin[0] else ""
    horizontal = "left" if c < origin[1] else "right" if c > origin[1] else ""
    return "-".join(p for p in (vertical, horizontal) if p) or "here"
