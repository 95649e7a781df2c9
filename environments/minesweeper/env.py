"""Minesweeper as a text game: reveal every safe cell without opening a mine.

Actions are words: ``reveal r c``, ``flag r c`` and ``unflag r c`` (rows and columns from 0).
Mines are placed at the first reveal, from the reset seed, never on or next to that cell (when
the board has room), so the first click is always safe and opens an area.

Portable view (``info["view"]``, see docs/CONTRACTS.md): every ``reveal r c`` has kind
``reveal`` (``flag``/``unflag`` likewise) and as context the window of side
``2*view_radius+1`` around that cell, in the board's own symbols (``?`` hidden, ``F`` flagged,
``-`` revealed with no mine around, ``1``-``8``), ``#`` beyond the edge, rows joined by ``|``;
before the first reveal the context starts with "opening move" (the first reveal is always
safe). Coordinates and board size never appear, so one pattern reads the same on any board.

    >>> env = MinesweeperEnv(rows=4, cols=4, mines=2)
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step("reveal 0 0")
    >>> info["invalid_actions"], "mine" in obs.lower().split("legend")[0]
    (0, False)
    >>> MinesweeperEnv(rows=3, cols=3, mines=1).reset(seed=0)[1]["view"]["actions"]["reveal 0 0"]
    {'kind': 'reveal', 'context': 'opening move; around ###|#??|#??'}
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from memplay.environments.core import Outcome, TextEnv
from memplay.environments.view import build_view, check_view_option, grid_window
from memplay.errors import ConfigError

__all__ = ["MinesweeperEnv", "parse_cell_action"]

Cell = tuple[int, int]
_VERBS = {"reveal": "reveal", "open": "reveal", "click": "reveal", "dig": "reveal",
          "flag": "flag", "mark": "flag", "unflag": "unflag", "unmark": "unflag"}
_PATTERN = re.compile(r"^([a-z]+)\s*(?:at\s+)?(?:row\s*)?\(?\s*(\d+)\s*(?:,|\s)\s*"
                      r"(?:col(?:umn)?\s*)?(\d+)\s*\)?$")
_LEGEND = ("Legend: ? hidden, F flagged, - no mine around, 1-8 mines around the cell, "
           "* mine.")


def parse_cell_action(text: str) -> tuple[str, int, int] | None:
    """Parse "reveal 2 3", "open (2, 3)", "flag row 1 column 4" into (verb, row, col).

    >>> parse_cell_action("open (2, 3)")
    ('reveal', 2, 3)
    >>> parse_cell_action("jump 1 2") is None
    True
    """
    match = _PATTERN.match(text.strip().lower())
    if match is None or match.group(1) not in _VERBS:
        return None
    return _VERBS[match.group(1)], int(match.group(2)), int(match.group(3))


class MinesweeperEnv(TextEnv):
    """Reveal all cells that hold no mine; numbers count the mines among the 8 neighbours.

    Args:
        rows, cols: Board size (2..30). mines: Number of mines (1 .. rows*cols - 1).
        flags: Offer ``flag``/``unflag`` actions (default). Winning never needs a flag, so
            ``flags=False`` (reveal only) halves the admissible actions an agent must score.
        view_radius: Half-side of the view's window around each cell (1: 3x3).

        >>> env = MinesweeperEnv(rows=3, cols=3, mines=1)
        >>> _ = env.reset(seed=1)
        >>> sorted(env.action_vocabulary())[:2]
        ['flag 0 0', 'flag 0 1']
    """

    def __init__(self, rows: int = 5, cols: int = 5, mines: int = 4, flags: bool = True,
                 view_radius: int = 1) -> None:
        super().__init__()
        self.view_radius = check_view_option("view_radius", view_radius)
        if not isinstance(flags, bool):
            raise ConfigError(f"Minesweeper flags={flags!r} must be True or False "
                              "(False: reveal actions only)")
        for label, value in (("rows", rows), ("cols", cols)):
            if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 30:
                raise ConfigError(f"Minesweeper {label}={value!r} must be an int in [2, 30]")
        if isinstance(mines, bool) or not isinstance(mines, int) or not 1 <= mines < rows * cols:
            raise ConfigError(f"Minesweeper mines={mines!r} must be an int in "
                              f"[1, {rows * cols - 1}] for a {rows}x{cols} board")
        self.rows, self.cols, self.num_mines, self.flags = rows, cols, mines, flags
        self.mines: frozenset[Cell] = frozenset()
        self.revealed: set[Cell] = set()
        self.flagged: set[Cell] = set()
        self._exploded: Cell | None = None

    def action_vocabulary(self) -> list[str]:
        """reveal (and, with flags, flag and unflag) for every cell."""
        verbs = ("reveal", "flag", "unflag") if self.flags else ("reveal",)
        return [f"{verb} {r} {c}" for verb in verbs for r, c in self._cells()]

    def _cells(self) -> list[Cell]:
        return [(r, c) for r in range(self.rows) for c in range(self.cols)]

    def neighbours(self, cell: Cell) -> list[Cell]:
        """The up-to-8 cells around ``cell`` on the board.

        >>> MinesweeperEnv(rows=3, cols=3).neighbours((0, 0))
        [(0, 1), (1, 0), (1, 1)]
        """
        r, c = cell
        return [(r + dr, c + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)
                if (dr or dc) and 0 <= r + dr < self.rows and 0 <= c + dc < self.cols]

    def count(self, cell: Cell) -> int:
        """Mines around ``cell`` (0 before the first reveal places them).

        >>> MinesweeperEnv().count((0, 0))
        0
        """
        return sum(n in self.mines for n in self.neighbours(cell))

    def _reset_game(self, options: dict[str, Any]) -> str:
        self.mines, self.revealed, self.flagged = frozenset(), set(), set()
        self._exploded = None
        return (f"A {self.rows}x{self.cols} Minesweeper board with {self.num_mines} hidden "
                f"mines.\n{self._observe()}")

    def _place_mines(self, first: Cell) -> None:
        # keep the first cell and, if there is room, its neighbours free: the first click opens
        safe = {first, *self.neighbours(first)}
        if len(safe) > self.rows * self.cols - self.num_mines:
            safe = {first}
        candidates = [cell for cell in self._cells() if cell not in safe]
        picks = self.np_random.choice(len(candidates), size=self.num_mines, replace=False)
        self.mines = frozenset(candidates[int(i)] for i in picks)

    def _parse(self, text: str) -> tuple[str, int, int] | None:
        parsed = parse_cell_action(text)
        if parsed is None or f"{parsed[0]} {parsed[1]} {parsed[2]}" not in self._admissible():
            return None
        return parsed

    def _apply(self, action: tuple[str, int, int]) -> Outcome:
        verb, r, c = action
        if verb == "flag":
            self.flagged.add((r, c))
            return Outcome(f"You flagged row {r}, column {c}.")
        if verb == "unflag":
            self.flagged.discard((r, c))
            return Outcome(f"You removed the flag at row {r}, column {c}.")
        return self._reveal((r, c))

    def _reveal(self, cell: Cell) -> Outcome:
        if not self.mines:
            self._place_mines(cell)
        if cell in self.mines:
            self._exploded = cell
            return Outcome(f"You revealed row {cell[0]}, column {cell[1]}: a mine! Game over.",
                           0.0, True, False)
        opened = self._flood(cell)
        message = f"You revealed row {cell[0]}, column {cell[1]} ({opened} cells opened)."
        if len(self.revealed) == self.rows * self.cols - self.num_mines:
            return Outcome(f"{message} Every safe cell is revealed: you win!", 1.0, True, True)
        return Outcome(message)

    def _flood(self, start: Cell) -> int:
        # cells with no mine around open their neighbours, as in the classic game
        before, queue = len(self.revealed), deque([start])
        while queue:
            cell = queue.popleft()
            if cell in self.revealed or cell in self.mines:
                continue
            self.revealed.add(cell)
            self.flagged.discard(cell)
            if self.count(cell) == 0:
                queue.extend(n for n in self.neighbours(cell) if n not in self.revealed)
        return len(self.revealed) - before

    def _symbol(self, cell: Cell) -> str:
        if cell in self.revealed:
            return str(self.count(cell) or "-")
        if self._exploded is not None and cell in self.mines:
            return "*"
        return "F" if cell in self.flagged else "?"

    def _observe(self) -> str:
        lines = ["  " + " ".join(str(c % 10) for c in range(self.cols))]
        for r in range(self.rows):
            lines.append(f"{r % 10} " + " ".join(self._symbol((r, c)) for c in range(self.cols)))
        hidden_safe = self.rows * self.cols - self.num_mines - len(self.revealed)
        return "\n".join([*lines, _LEGEND, f"Mines: {self.num_mines}. Flags: "
                          f"{len(self.flagged)}. Safe cells still hidden: {hidden_safe}."])

    def _goal(self) -> str:
        goal = (f"Reveal every cell without a mine on the {self.rows}x{self.cols} board "
                f"({self.num_mines} mines). Use 'reveal ROW COL' to open a cell")
        return goal + (" and 'flag ROW COL' / 'unflag ROW COL' to mark a suspected mine."
                       if self.flags else ".")

    def _admissible(self) -> list[str]:
        hidden = [cell for cell in self._cells() if cell not in self.revealed]
        reveal = [f"reveal {r} {c}" for r, c in hidden if (r, c) not in self.flagged]
        if not self.flags:
            return reveal
        return (reveal + [f"flag {r} {c}" for r, c in hidden if (r, c) not in self.flagged]
                + [f"unflag {r} {c}" for r, c in sorted(self.flagged)])

    def _portable_view(self) -> dict[str, Any]:
        opening = "opening move; " if not self.revealed else ""
        hidden = self.rows * self.cols - len(self.revealed)
        state = f"{opening}{len(self.revealed)} cells revealed, {self.num_mines} mines in " \
                f"{hidden} hidden cells"
        symbols = {cell: self._symbol(cell) for cell in self._cells()}  # once, not per window
        contexts: dict[str, str] = {}  # reveal, flag and unflag of one cell share the window
        actions = {}
        for action in self._admissible():
            verb, cell = action.split(" ", 1)
            if cell not in contexts:
                row, col = cell.split()
                window = grid_window(lambda r, c: symbols.get((r, c)), (int(row), int(col)),
                                     self.view_radius)
                contexts[cell] = f"{opening}around {window}"
            actions[action] = (verb, contexts[cell])
        return build_view(state, actions)

    def _extra_info(self) -> dict[str, Any]:
        return {"mines": self.num_mines, "revealed": len(self.revealed),
                "flags": len(self.flagged)}
