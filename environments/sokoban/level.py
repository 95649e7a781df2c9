"""Sokoban levels: parsing the usual text format (XSB) rows, validation and rendering.

``#`` wall, ``@`` player, ``+`` player on a target, ``$`` box, ``*`` box on a target,
``.`` target, and a space, ``-`` or ``_`` for floor.

    >>> level = SokobanLevel.from_rows(["#####", "#@$.#", "#####"])
    >>> level.player, sorted(level.boxes), sorted(level.targets)
    ((1, 1), [(1, 2)], [(1, 3)])
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from memplay.errors import ConfigError

__all__ = ["MOVES", "Cell", "SokobanLevel"]

Cell = tuple[int, int]
MOVES: dict[str, Cell] = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
_FLOOR = " -_"


@dataclass(frozen=True)
class SokobanLevel:
    """A level: walls, targets, the boxes' and player's start cells.

        >>> SokobanLevel.from_rows(["#####", "#@*-#", "#####"]).height
        3
    """

    walls: frozenset[Cell]
    targets: frozenset[Cell]
    boxes: frozenset[Cell]
    player: Cell
    height: int
    width: int
    name: str = ""

    @classmethod
    def from_rows(cls, rows: Sequence[str], name: str = "") -> SokobanLevel:
        """Parse XSB rows; raise ConfigError for a malformed or open level.

        >>> SokobanLevel.from_rows(["#@$.#"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        memplay.errors.ConfigError: Sokoban level '' is not enclosed: ...
        """
        cells: dict[str, set[Cell]] = {"walls": set(), "targets": set(), "boxes": set(),
                                       "player": set()}
        for r, row in enumerate(rows):
            for c, ch in enumerate(row):
                _classify(ch, (r, c), cells, name)
        if len(cells["player"]) != 1:
            raise ConfigError(f"Sokoban level {name!r} needs exactly one player (@ or +), "
                              f"found {len(cells['player'])}")
        if not cells["boxes"] or len(cells["boxes"]) != len(cells["targets"]):
            raise ConfigError(f"Sokoban level {name!r} has {len(cells['boxes'])} boxes and "
                              f"{len(cells['targets'])} targets; it needs as many of each (>= 1)")
        level = cls(frozenset(cells["walls"]), frozenset(cells["targets"]),
                    frozenset(cells["boxes"]), next(iter(cells["player"])),
                    len(rows), max(len(r) for r in rows), name)
        level._check_enclosed()
        return level

    def _check_enclosed(self) -> None:
        seen, queue = {self.player}, deque([self.player])
        while queue:
            r, c = queue.popleft()
            if r in (0, self.height - 1) or c in (0, self.width - 1):
                raise ConfigError(f"Sokoban level {self.name!r} is not enclosed: the player can "
                                  f"reach cell {(r, c)} on the border; surround it with '#'")
            for dr, dc in MOVES.values():
                nxt = (r + dr, c + dc)
                if nxt not in self.walls and nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)

    def render(self, boxes: frozenset[Cell] | None = None, player: Cell | None = None) -> str:
        """Draw the level (floor as ``-``) with the given boxes and player.

        >>> print(SokobanLevel.from_rows(["#####", "#@$.#", "#####"]).render())
        #####
        #@$.#
        #####
        """
        boxes = self.boxes if boxes is None else boxes
        player = self.player if player is None else player
        lines = []
        for r in range(self.height):
            lines.append("".join(self.cell_char((r, c), boxes, player)
                                 for c in range(self.width)))
        return "\n".join(lines)

    def cell_char(self, cell: Cell, boxes: frozenset[Cell], player: Cell) -> str:
        """The symbol of one cell with these boxes and this player.

        >>> lvl = SokobanLevel.from_rows(["#####", "#@$.#", "#####"])
        >>> lvl.cell_char((1, 2), lvl.boxes, lvl.player), lvl.cell_char((1, 3), lvl.boxes, (1, 3))
        ('$', '+')
        """
        if cell in self.walls:
            return "#"
        on_target = cell in self.targets
        if cell == player:
            return "+" if on_target else "@"
        if cell in boxes:
            return "*" if on_target else "$"
        return "." if on_target else "-"


def _classify(ch: str, cell: Cell, cells: dict[str, set[Cell]], name: str) -> None:
    kinds = {"#": ("walls",), "@": ("player",), "+": ("player", "targets"), "$": ("boxes",),
             "*": ("boxes", "targets"), ".": ("targets",)}
    if ch in _FLOOR:
        return
    if ch not in kinds:
        raise ConfigError(f"Sokoban level {name!r}: unknown character {ch!r} at {cell}; use "
                          "# @ + $ * . and space/-/_ for floor")
    for kind in kinds[ch]:
        cells[kind].add(cell)
