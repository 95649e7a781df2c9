"""Tic-tac-toe, played as X (seat 0, moves first) or O against random, minimax or any policy.

Moves are ``mark ROW COL`` (0-2); "1 2", "(1, 2)" and "place 1 2" are accepted too. The
minimax opponent plays perfectly (ties broken by the env's generator), so it never loses.

    >>> env = TicTacToeEnv(opponent="minimax")
    >>> obs, info = env.reset(seed=0)
    >>> info["admissible_actions"][:2]
    ['mark 0 0', 'mark 0 1']
"""

from __future__ import annotations

import re
from functools import cache

from memplay.environments.two_player import OpponentPolicy, TwoPlayerEnv

__all__ = ["TicTacToeEnv", "minimax_values", "winner"]

Board = tuple[str, ...]  # 9 cells of "X", "O" or "."
_LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))
_MOVE = re.compile(r"^(?:mark|place|play|put)?\s*\(?\s*([0-2])\s*(?:,|\s)\s*([0-2])\s*\)?$")
_MARKS = ("X", "O")


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

    def _goal(self) -> str:
        side = "for the side to play" if self.opponent == "self" else f"as {_MARKS[self.player]}"
        return (f"Win tic-tac-toe {side}: get three of your marks in a row, column or "
                "diagonal. Move with 'mark ROW COL' (rows and columns 0-2).")
