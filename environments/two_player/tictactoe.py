"""Tic-tac-toe, played as X (seat 0, moves first) or O against random, minimax or any policy.

Moves are ``mark ROW COL`` (0-2); "1 2", "(1, 2)" and "place 1 2" are accepted too. The
minimax opponent plays perfectly (ties broken by the env's generator), so it never loses.

Portable view (``info["view"]``, see docs/CONTRACTS.md): the board is turned into one canonical
orientation (the smallest of its 8 rotations and reflections), written as rows joined by ``|``,
with the mark to play. Each ``mark r c`` has kind ``cell i``, the index (0-8, row by row) of
that cell in the canonical orientation; when the board is symmetric, moves that are images of
each other get the same, smallest index, so they share one value.

    >>> env = TicTacToeEnv(opponent="minimax")
    >>> obs, info = env.reset(seed=0)
    >>> info["admissible_actions"][:2]
    ['mark 0 0', 'mark 0 1']
    >>> sorted({info["view"]["actions"][a]["kind"] for a in ("mark 0 0", "mark 2 2", "mark 1 1")})
    ['cell 0', 'cell 4']
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from memplay.environments.two_player.base import OpponentPolicy, TwoPlayerEnv
from memplay.environments.view import build_view

__all__ = ["SYMMETRIES", "TicTacToeEnv", "canonical_board", "minimax_values", "winner"]

Board = tuple[str, ...]  # 9 cells of "X", "O" or "."
_LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))
_MOVE = re.compile(r"^(?:mark|place|play|put)?\s*\(?\s*([0-2])\s*(?:,|\s)\s*([0-2])\s*\)?$")
_MARKS = ("X", "O")
_ORDER = {"X": 0, "O": 1, ".": 2}  # canonical = smallest image, marks read before empties
# the 8 symmetries of the square as maps old (row, col) -> new (row, col)
_SQUARE_MAPS = (lambda r, c: (r, c), lambda r, c: (c, 2 - r), lambda r, c: (2 - r, 2 - c),
                lambda r, c: (2 - c, r), lambda r, c: (r, 2 - c), lambda r, c: (2 - r, c),
                lambda r, c: (c, r), lambda r, c: (2 - c, 2 - r))
# each symmetry as a table: SYMMETRIES[k][old cell index] = new cell index
SYMMETRIES: tuple[tuple[int, ...], ...] = tuple(
    tuple(3 * f(i // 3, i % 3)[0] + f(i // 3, i % 3)[1] for i in range(9)) for f in _SQUARE_MAPS)


@cache
def canonical_board(board: Board) -> tuple[Board, tuple[tuple[int, ...], ...]]:
    """The smallest of the board's 8 symmetric images, and every symmetry that yields it.

    >>> canonical_board(tuple("..X......"))[0]
    ('X', '.', '.', '.', '.', '.', '.', '.', '.')
    >>> len(canonical_board(tuple("........."))[1])
    8
    """
    images = []
    for table in SYMMETRIES:
        image = ["."] * 9
        for old, new in enumerate(table):
            image[new] = board[old]
        images.append((tuple(image), table))
    best = min((image for image, _ in images), key=lambda b: [_ORDER[ch] for ch in b])
    return best, tuple(table for image, table in images if image == best)


def winner(board: Board) -> str | None:
    """"X" or "O" if they have three in a row, "draw" if the board is full, else None.

    >>> winner(tuple("XXXOO...."))
    'X'
    """
    for a, b, c in _LINES:
        if board[a] != "." and board[a] == board[b] == board[c]:
            return board[a]
    return "draw" if "." not in board else None


@cache
def _value(board: Board, mark: str) -> int:
    # negamax: +1 if `mark` (to move) can force a win, 0 a draw, -1 a loss
    result = winner(board)
    if result is not None:
        return 0 if result == "draw" else -1  # the previous mover made the line
    other = "O" if mark == "X" else "X"
    return max(-_value((*board[:i], mark, *board[i + 1:]), other)
               for i in range(9) if board[i] == ".")


def minimax_values(board: Board, mark: str) -> dict[int, int]:
    """Game value (+1 win, 0 draw, -1 loss) of each empty cell for ``mark`` to move.

    >>> minimax_values(tuple("XX.OO...."), "X")[2]
    1
    """
    other = "O" if mark == "X" else "X"
    return {i: -_value((*board[:i], mark, *board[i + 1:]), other)
            for i in range(9) if board[i] == "."}


class TicTacToeEnv(TwoPlayerEnv):
    """Get three marks in a row before the opponent does.

        >>> env = TicTacToeEnv(opponent="self")
        >>> _ = env.reset(seed=0)
        >>> for move in ["mark 0 0", "mark 1 0", "mark 0 1", "mark 1 1"]:
        ...     _ = env.step(move)
        >>> env.step("mark 0 2")[1:3]
        (1.0, True)
    """

    def __init__(self, opponent: str | OpponentPolicy = "random", player: int | str = 0) -> None:
        super().__init__(opponent, player)
        self.board: Board = (".",) * 9

    def action_vocabulary(self) -> list[str]:
        """``mark r c`` for the nine cells."""
        return [f"mark {i // 3} {i % 3}" for i in range(9)]

    def _new_game(self) -> None:
        self.board = (".",) * 9

    def to_play(self) -> int:
        """Seat to move, from the number of empty cells."""
        return self.board.count(".") % 2 ^ 1  # X moves when the count of empties is odd

    def legal_actions(self) -> list[str]:
        """Empty cells, none once someone has won."""
        if winner(self.board) is not None:
            return []
        return [f"mark {i // 3} {i % 3}" for i in range(9) if self.board[i] == "."]

    def _parse(self, text: str) -> str | None:
        match = _MOVE.match(text)
        if match is None:
            return None
        move = f"mark {match.group(1)} {match.group(2)}"
        return move if move in self.legal_actions() else None

    def _play(self, move: str) -> None:
        _, row, col = move.split()
        i = int(row) * 3 + int(col)
        self.board = (*self.board[:i], _MARKS[self.to_play()], *self.board[i + 1:])

    def returns(self) -> tuple[float, float] | None:
        """+1/-1 for a win, 0/0 for a draw."""
        result = winner(self.board)
        if result is None:
            return None
        if result == "draw":
            return (0.0, 0.0)
        return (1.0, -1.0) if result == "X" else (-1.0, 1.0)

    def _scripted_move(self, name: str) -> str:
        legal = self.legal_actions()
        if name == "random":
            return legal[int(self.np_random.integers(len(legal)))]
        values = minimax_values(self.board, _MARKS[self.to_play()])
        best = max(values.values())
        choices = [i for i, v in values.items() if v == best]
        i = choices[int(self.np_random.integers(len(choices)))]
        return f"mark {i // 3} {i % 3}"

    def view(self, seat: int) -> str:
        """The board (both players see everything) and whose turn it is."""
        rows = ["  0 1 2"] + [f"{r} " + " ".join(self.board[3 * r:3 * r + 3]) for r in range(3)]
        status = self._status(seat)
        return "\n".join([*rows, f"You play {_MARKS[seat]}. {status}"])

    def _status(self, seat: int) -> str:
        result = winner(self.board)
        if result is None:
            return "It is your turn." if self.to_play() == seat else "Waiting for the opponent."
        return "The game is a draw." if result == "draw" else f"{result} wins."

    def _portable_view(self) -> dict[str, Any]:
        canonical, tables = canonical_board(self.board)
        rows = "|".join("".join(canonical[3 * r:3 * r + 3]) for r in range(3))
        state = f"board {rows}, {_MARKS[self.to_play()]} to play"
        actions = {}
        for move in self.legal_actions():
            _, row, col = move.split()
            cell = min(table[int(row) * 3 + int(col)] for table in tables)
            actions[move] = (f"cell {cell}", state)
        return build_view(state, actions)

    def _goal(self) -> str:
        if self.opponent == "self":
            return self._goal_text("for the side to play")
        return self.goal_for(self.player)

    def goal_for(self, seat: int) -> str:
        """The goal as seat ``seat`` reads it (its mark named)."""
        return self._goal_text(f"as {_MARKS[seat]}")

    @staticmethod
    def _goal_text(side: str) -> str:
        return (f"Win tic-tac-toe {side}: get three of your marks in a row, column or "
                "diagonal. Move with 'mark ROW COL' (rows and columns 0-2).")
