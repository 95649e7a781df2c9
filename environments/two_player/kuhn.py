"""Kuhn poker: three cards (J, Q, K), one card each, ante 1, one betting round.

Seat 0 acts first. Without a bet a player may ``check`` or ``bet`` (1 chip); facing a bet,
``call`` or ``fold``. Check-check and bet-call go to a showdown (high card wins the pot).
The ``optimal`` opponent plays a Nash equilibrium (Kuhn 1950, parameter alpha), against which
seat 0's expected payoff is -1/18 whatever seat 0 does well; exploitable players lose more.

Portable view (``info["view"]``, see docs/CONTRACTS.md): the information set, i.e. the card of
the player to act, whether it acts first or second, and the betting so far from its side
("you checked, opponent bet"). Each action's kind is the action itself; its context is that
information set.

    >>> env = KuhnPokerEnv(opponent="optimal")
    >>> obs, info = env.reset(seed=0)
    >>> info["admissible_actions"]
    ['check', 'bet']
    >>> info["view"]["actions"]["bet"]
    {'kind': 'bet', 'context': 'card K, first to act; so far: nothing'}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from memplay.environments.two_player.base import OpponentPolicy, TwoPlayerEnv
from memplay.environments.view import build_view
from memplay.errors import ConfigError

__all__ = ["CARDS", "KuhnPokerEnv", "betting_words", "equilibrium_bet_probability",
           "infoset_text"]

CARDS = ("J", "Q", "K")
_TERMINAL = {"pp", "bp", "bb", "pbp", "pbb"}  # p = check/fold, b = bet/call
_ALIASES = {"pass": "check", "raise": "bet", "see": "call", "give up": "fold"}


def equilibrium_bet_probability(card: int, history: str, alpha: float = 1 / 6) -> float:
    """Probability that the equilibrium player bets (or calls) with ``card`` after ``history``.

    Seat 0: J bets alpha, Q checks then calls alpha + 1/3, K bets 3*alpha (else calls).
    Seat 1: facing a bet K calls, Q calls 1/3, J folds; after a check K bets, Q checks,
    J bets 1/3.

        >>> equilibrium_bet_probability(2, "pb")
        1.0
    """
    table = {
        "": (alpha, 0.0, 3 * alpha),          # seat 0 opens
        "pb": (0.0, alpha + 1 / 3, 1.0),      # seat 0 faces a bet after checking
        "b": (0.0, 1 / 3, 1.0),               # seat 1 faces a bet
        "p": (1 / 3, 0.0, 1.0),               # seat 1 after a check
    }
    return table[history][card]


def betting_words(history: str, name: Callable[[int], str]) -> list[str]:
    """The betting so far (``p`` = check/fold, ``b`` = bet/call) as "<seat name> <verb>".

    >>> betting_words("pb", lambda s: f"player {s}")
    ['player 0 checked', 'player 1 bet']
    """
    words = []
    for i, act in enumerate(history):
        facing_bet = "b" in history[:i]
        verb = ("called" if act == "b" else "folded") if facing_bet else \
            ("bet" if act == "b" else "checked")
        words.append(f"{name(i % 2)} {verb}")
    return words


def infoset_text(card: str, seat: int, history: str) -> str:
    """What the player to act knows: its card, its seat and the betting from its side (the
    context of the portable view, and of the game tree's information states).

    >>> infoset_text("Q", 1, "b")
    'card Q, second to act; so far: opponent bet'
    """
    words = betting_words(history, lambda s: "you" if s == seat else "opponent")
    return (f"card {card}, {'first' if seat == 0 else 'second'} to act; "
            f"so far: {', '.join(words) or 'nothing'}")


class KuhnPokerEnv(TwoPlayerEnv):
    """One hand of Kuhn poker; the reward is the chips won or lost (+-1 or +-2).

    Args:
        opponent: "random", "optimal" (equilibrium), "self" or a callable (obs, info) -> action.
        player: 0 (acts first), 1 or "random". alpha: Equilibrium parameter in [0, 1/3].

        >>> env = KuhnPokerEnv(opponent="self")
        >>> _ = env.reset(seed=0)
        >>> _ = env.step("bet")
        >>> env.step("fold")[4]["returns"]
        [1.0, -1.0]
    """

    scripted = ("random", "optimal", "minimax")

    def __init__(self, opponent: str | OpponentPolicy = "random", player: int | str = 0,
                 alpha: float = 1 / 6) -> None:
        super().__init__(opponent, player)
        if not 0.0 <= float(alpha) <= 1 / 3:
            raise ConfigError(f"alpha={alpha!r} must be in [0, 1/3] for an equilibrium")
        self.alpha = float(alpha)
        self.cards: tuple[int, int] = (0, 1)
        self.history = ""

    def action_vocabulary(self) -> list[str]:
        """Every betting action."""
        return ["check", "bet", "call", "fold"]

    def _new_game(self) -> None:
        deal = self.np_random.permutation(3)
        self.cards = (int(deal[0]), int(deal[1]))
        self.history = ""

    def _set_deal(self, deal: tuple[int, ...]) -> None:
        """``reset(options={"deal": (card of seat 0, card of seat 1)})``, cards 0-2 (J-K)."""
        if len(deal) != 2 or len(set(deal)) != 2 or not set(deal) <= {0, 1, 2}:
            raise ConfigError(f"deal={deal!r} must be two different cards out of 0, 1, 2 "
                              "(J, Q, K): (seat 0's, seat 1's)")
        self.cards = (deal[0], deal[1])

    def to_play(self) -> int:
        """Seats alternate, seat 0 first."""
        return len(self.history) % 2

    def legal_actions(self) -> list[str]:
        """check/bet with no bet pending, call/fold facing one."""
        if self.history in _TERMINAL:
            return []
        return ["call", "fold"] if self.history.endswith("b") else ["check", "bet"]

    def _parse(self, text: str) -> str | None:
        text = _ALIASES.get(text, text)
        return text if text in self.legal_actions() else None

    def _play(self, move: str) -> None:
        self.history += "b" if move in ("bet", "call") else "p"

    def returns(self) -> tuple[float, float] | None:
        """Chips won by each seat once the hand is over."""
        if self.history not in _TERMINAL:
            return None
        if self.history in ("bp", "pbp"):  # someone folded: the bettor takes the antes
            bettor = self.history.index("b")
            return (1.0, -1.0) if bettor == 0 else (-1.0, 1.0)
        stake = 2.0 if "b" in self.history else 1.0
        return (stake, -stake) if self.cards[0] > self.cards[1] else (-stake, stake)

    def _scripted_move(self, name: str) -> str:
        legal = self.legal_actions()
        if name == "random":
            return legal[int(self.np_random.integers(len(legal)))]
        p_bet = equilibrium_bet_probability(self.cards[self.to_play()], self.history, self.alpha)
        aggressive, passive = ("call", "fold") if "call" in legal else ("bet", "check")
        return aggressive if self.np_random.random() < p_bet else passive

    def view(self, seat: int) -> str:
        """The seat's own card, the betting so far, and both cards once the hand is over."""
        lines = [f"You are player {seat} ({'first' if seat == 0 else 'second'} to act). "
                 f"Your card: {CARDS[self.cards[seat]]}.", self._history_text()]
        final = self.returns()
        if final is None:
            whose = "your" if self.to_play() == seat else "the opponent's"
            lines.append(f"It is {whose} turn. Moves: {', '.join(self.legal_actions())}.")
        else:
            lines.append(f"Cards: player 0 had {CARDS[self.cards[0]]}, player 1 had "
                         f"{CARDS[self.cards[1]]}. You {'won' if final[seat] > 0 else 'lost'} "
                         f"{abs(final[seat]):g} chip(s).")
        return "\n".join(lines)

    def _history_text(self) -> str:
        if not self.history:
            return "No bets yet; the pot holds the two antes (2 chips)."
        return "So far: " + ", ".join(betting_words(self.history, lambda s: f"player {s}")) + "."

    def _portable_view(self) -> dict[str, Any]:
        seat = self.to_play()
        state = infoset_text(CARDS[self.cards[seat]], seat, self.history)
        return build_view(state, {action: (action, state) for action in self.legal_actions()})

    def _goal(self) -> str:
        return ("Win chips in one hand of Kuhn poker (cards J < Q < K). Without a bet you may "
                "check or bet 1 chip; facing a bet you may call or fold.")

    def _extra_info(self) -> dict[str, Any]:
        return {**super()._extra_info(), "card": CARDS[self.cards[self.viewer()]]}
