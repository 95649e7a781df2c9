"""Two-player zero-sum games played from one seat, against an opponent policy or in self-play.

The opponent is a name (``"random"``, ``"optimal"``/``"minimax"``), a callable
``(obs, info) -> action`` (another agent), or ``"self"``: then the env never moves by itself,
``info["to_play"]`` says whose turn it is, and the caller supplies the moves of both seats
(the reward of a step is for the player who just moved; ``info["returns"]`` holds both).

    >>> from memplay.environments.two_player.tictactoe import TicTacToeEnv
    >>> env = TicTacToeEnv(opponent="self")
    >>> _, info = env.reset(seed=0)
    >>> info["to_play"], env.step("mark 1 1")[4]["to_play"]
    (0, 1)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from memplay.environments.core import Outcome, TextEnv, normalize_action
from memplay.errors import ConfigError

__all__ = ["Opponent", "OpponentPolicy", "TwoPlayerEnv"]

OpponentPolicy = Callable[[str, dict[str, Any]], str]


class Opponent:
    """An opponent policy that is told when a game starts and how it ended.

    A plain callable ``(obs, info) -> action`` cannot tell one game from the next; an
    opponent that learns (the agent itself in self-play) subclasses this to keep a record
    per game. The env calls :meth:`new_game` at every reset, before anyone moves, and
    :meth:`end_game` with both seats' payoffs when the game is over.

        >>> from memplay.environments.two_player.kuhn import KuhnPokerEnv
        >>> class AlwaysBet(Opponent):
        ...     def __call__(self, obs, info):
        ...         return "bet" if "bet" in info["admissible_actions"] else "call"
        ...     def end_game(self, returns):
        ...         self.last = returns
        >>> me = AlwaysBet()
        >>> env = KuhnPokerEnv(opponent=me, player=1)
        >>> _ = env.reset(seed=0); _ = env.step("fold")
        >>> me.last
        (1.0, -1.0)
    """

    def __call__(self, obs: str, info: dict[str, Any]) -> str:
        """The move for the seat to play (``info["player"]``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    def new_game(self, seat: int) -> None:
        """A game starts in which this opponent plays ``seat``."""

    def end_game(self, returns: tuple[float, float]) -> None:
        """The game is over; ``returns`` are the payoffs of seats 0 and 1."""


class TwoPlayerEnv(TextEnv):
    """Base class: turn handling, opponent moves and returns; games fill in the rules.

    Args:
        opponent: "random", "optimal"/"minimax", "self", or a callable (obs, info) -> action.
        player: The agent's seat, 0 (moves first) or 1, or "random" (drawn at each reset).

        >>> from memplay.environments.two_player.kuhn import KuhnPokerEnv
        >>> KuhnPokerEnv(opponent="random", player=1).player
        1
    """

    scripted: tuple[str, ...] = ("random", "optimal", "minimax")

    def __init__(self, opponent: str | OpponentPolicy = "random", player: int | str = 0) -> None:
        super().__init__()
        if not callable(opponent) and opponent not in (*self.scripted, "self"):
            raise ConfigError(f"opponent={opponent!r} is unknown; use one of "
                              f"{[*self.scripted, 'self']} or a callable (obs, info) -> action")
        if player not in (0, 1, "random"):
            raise ConfigError(f"player={player!r} must be 0 (first to move), 1 or 'random'")
        self.opponent = opponent
        self.seat_choice = player
        self.player = 0 if player == "random" else int(player)
        self.opponent_invalid = 0

    # ---- hooks for games --------------------------------------------------------------------

    def _new_game(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _new_game")

    def to_play(self) -> int:
        """Seat whose turn it is (meaningless once the game is over).

        >>> from memplay.environments.two_player.tictactoe import TicTacToeEnv
        >>> env = TicTacToeEnv(opponent="self"); _ = env.reset(seed=0); env.to_play()
        0
        """
        raise NotImplementedError(f"{type(self).__name__} must implement to_play")

    def legal_actions(self) -> list[str]:
        """Moves the player to play may make (empty once the game is over).

        >>> from memplay.environments.two_player.kuhn import KuhnPokerEnv
        >>> env = KuhnPokerEnv(opponent="self"); _ = env.reset(seed=0); env.legal_actions()
        ['check', 'bet']
        """
        raise NotImplementedError(f"{type(self).__name__} must implement legal_actions")

    def _play(self, move: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _play")

    def _set_deal(self, deal: tuple[int, ...]) -> None:
        """Replace the cards just dealt by ``reset(options={"deal": ...})`` (games with
        hidden cards; exact measures use it to reach a given information state)."""
        raise ConfigError(f"{type(self).__name__} deals no cards; reset(options={{'deal': "
                          f"{deal!r}}}) is for card games such as KuhnPoker-v0")

    def returns(self) -> tuple[float, float] | None:
        """Payoffs of seats 0 and 1 once the game is over, else None.

        >>> from memplay.environments.two_player.kuhn import KuhnPokerEnv
        >>> env = KuhnPokerEnv(opponent="self"); _ = env.reset(seed=0); _ = env.step("bet")
        >>> _ = env.step("fold"); env.returns()
        (1.0, -1.0)
        """
        raise NotImplementedError(f"{type(self).__name__} must implement returns")

    def view(self, seat: int) -> str:
        """The state as seat ``seat`` may see it (hidden cards stay hidden).

        >>> from memplay.environments.two_player.tictactoe import TicTacToeEnv
        >>> env = TicTacToeEnv(); _ = env.reset(seed=0); env.view(1).splitlines()[-1]
        'You play O. Waiting for the opponent.'
        """
        raise NotImplementedError(f"{type(self).__name__} must implement view")

    def _scripted_move(self, name: str) -> str:
        """A move of the named scripted policy for the player to play."""
        raise NotImplementedError(f"{type(self).__name__} must implement _scripted_move")

    def goal_for(self, seat: int) -> str:
        """The task in words for ``seat`` (what a callable opponent is told in its ``info``).

        >>> from memplay.environments.two_player.tictactoe import TicTacToeEnv
        >>> TicTacToeEnv().goal_for(1).split(":")[0]
        'Win tic-tac-toe as O'
        """
        return self._goal()

    # ---- TextEnv hooks ----------------------------------------------------------------------

    def _reset_game(self, options: dict[str, Any]) -> str:
        if self.seat_choice == "random":
            self.player = int(self.np_random.integers(2))
        self.opponent_invalid = 0
        self._new_game()
        deal = options.get("deal")
        if deal is not None:
            if not isinstance(deal, (list, tuple)) or not all(isinstance(c, int) for c in deal):
                raise ConfigError(f"options['deal']={deal!r} must be a list of card numbers")
            self._set_deal(tuple(deal))
        if isinstance(self.opponent, Opponent):
            self.opponent.new_game(1 - self.player)
        replies = self._opponent_turns()
        return "\n".join([*replies, self._observe()])

    def _admissible(self) -> list[str]:
        return self.legal_actions()

    def _apply(self, action: str) -> Outcome:
        mover = self.to_play()
        self._play(action)
        who = f"You (player {mover})" if self.opponent != "self" else f"Player {mover}"
        lines = [f"{who} played {action}.", *self._opponent_turns()]
        final = self.returns()
        if final is None:
            return Outcome(" ".join(lines))
        if isinstance(self.opponent, Opponent):
            self.opponent.end_game(final)
        seat = mover if self.opponent == "self" else self.player
        reward = final[seat]
        verdict = "won" if reward > 0 else "lost" if reward < 0 else "drew"
        lines.append(f"Game over: player {seat} {verdict} ({reward:+g}).")
        return Outcome(" ".join(lines), reward, True, reward > 0)

    def viewer(self) -> int:
        """The seat observations are shown to: the agent's, or in self-play the one to move.

        >>> from memplay.environments.two_player.tictactoe import TicTacToeEnv
        >>> env = TicTacToeEnv(opponent="self"); _ = env.reset(seed=0); _ = env.step("1 1")
        >>> env.viewer()
        1
        """
        if self.opponent == "self" and self.returns() is None:
            return self.to_play()
        return self.player

    def _observe(self) -> str:
        return self.view(self.viewer())

    def _extra_info(self) -> dict[str, Any]:
        final = self.returns()
        return {"to_play": None if final is not None else self.to_play(), "player": self.player,
                "returns": list(final) if final is not None else None,
                "opponent_invalid_actions": self.opponent_invalid}

    # ---- the opponent -----------------------------------------------------------------------

    def _opponent_turns(self) -> list[str]:
        """Let the opponent move until it is the agent's turn; say what it played."""
        played = []
        while self.opponent != "self" and self.returns() is None \
                and self.to_play() != self.player:
            seat, move = self.to_play(), self._opponent_move()
            self._play(move)
            played.append(f"Player {seat} (opponent) played {move}.")
        return played

    def _opponent_move(self) -> str:
        if isinstance(self.opponent, str):
            return self._scripted_move(self.opponent)
        seat = self.to_play()
        info = {"goal": self.goal_for(seat), "admissible_actions": self.legal_actions(),
                "to_play": seat, "player": seat}
        view = self._portable_view()
        if view is not None:
            info["view"] = view
        move = normalize_action(self.opponent(self.view(seat), info))
        if move in self.legal_actions():
            return move
        # a broken opponent must not crash the agent's episode: play a random legal move
        self.opponent_invalid += 1
        return self._scripted_move("random")
