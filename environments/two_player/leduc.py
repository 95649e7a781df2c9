"""Leduc Hold'em, with the rules of OpenSpiel's ``leduc_poker`` (two players).

Six cards, J, Q and K in two suits. Each player antes 1 chip and gets one private card; a
betting round follows, then one public card is turned and a second round is bet. Player 0
acts first in both rounds. Without a bet pending a player may ``check`` or ``bet``; facing
one, ``fold``, ``call`` or ``raise``; a bet or raise is 2 chips in the first round and 4 in
the second, and a round holds at most two of them. A round ends when the last bet is called
(or both check). At the showdown a player whose card pairs the public card wins; otherwise
the higher card wins and equal ranks split the pot. A fold gives the pot to the other player.
The reward is the chips won or lost.

The rules live in :class:`LeducState` (immutable; the game tree of
:mod:`memplay.environments.two_player.game_tree` walks it); :class:`LeducPokerEnv` plays it as text.
Suits never matter to a player, so cards are named by rank and information states (the
portable view's context: own card, seat, public card, the betting from the player's side)
fold the two suits.

    >>> env = LeducPokerEnv(opponent="self")
    >>> obs, info = env.reset(seed=0, options={"deal": (4, 2, 0)})
    >>> info["view"]["state"]
    'card K, first to act; round 1: nothing'
    >>> for move in ("bet", "call", "check"):
    ...     obs, reward, done, _, info = env.step(move)
    >>> info["view"]["state"].split("; ")
    ['card Q, second to act', 'round 1: opponent bet, you called', 'public card J',
     'round 2: opponent checked']
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memplay.environments.two_player.base import OpponentPolicy, TwoPlayerEnv
from memplay.environments.two_player.game_tree import CHANCE, TreeGame, infostate_key
from memplay.environments.view import build_view
from memplay.errors import ConfigError

__all__ = ["LEDUC_TREE", "RANKS", "LeducPokerEnv", "LeducState", "leduc_from_openspiel",
           "leduc_openspiel_action"]

RANKS = ("J", "Q", "K")  # card c (0-5) has rank c // 2, as in OpenSpiel
_RAISE = (2, 4)  # chips per bet or raise, by round
_LETTER = {"check": "c", "call": "c", "bet": "r", "raise": "r", "fold": "f"}
_PRIVATE_DEALS = tuple(itertools.permutations(range(6), 2))


def _round_over(letters: str) -> bool:
    """Both checked, or the last bet was called."""
    return letters == "cc" or letters.endswith("rc")


@dataclass(frozen=True)
class LeducState:
    """A Leduc history: cards dealt (none, the two private ones, then the public one) and
    the betting letters of each round (``c`` check/call, ``r`` bet/raise, ``f`` fold)."""

    cards: tuple[int, ...] = ()
    rounds: tuple[str, ...] = ("",)

    @property
    def letters(self) -> str:
        """The betting of the current round."""
        return self.rounds[-1]

    def is_terminal(self) -> bool:
        """A fold, or the end of the second round."""
        return self.letters.endswith("f") or (len(self.rounds) == 2 and _round_over(self.letters))

    def to_play(self) -> int:
        """Chance deals (private cards, then the public one); player 0 opens each round."""
        if len(self.cards) < 2 or (len(self.rounds) == 1 and _round_over(self.letters)):
            return CHANCE
        return len(self.letters) % 2

    def contributions(self) -> tuple[int, int]:
        """Chips each player has put in (the ante included)."""
        chips = [1, 1]
        for number, letters in enumerate(self.rounds):
            for i, letter in enumerate(letters):
                stake = max(chips)
                if letter == "c":
                    chips[i % 2] = stake
                elif letter == "r":
                    chips[i % 2] = stake + _RAISE[number]
        return chips[0], chips[1]

    def legal_actions(self) -> list[str]:
        """check/bet without a bet pending; fold/call (and raise below two bets) facing one."""
        if self.is_terminal() or self.to_play() == CHANCE:
            return []
        chips = self.contributions()
        if chips[self.to_play()] == max(chips):
            return ["check", "bet"]
        return ["fold", "call", *(["raise"] if self.letters.count("r") < 2 else [])]

    def chance_outcomes(self) -> list[tuple[Any, float]]:
        """The private deal (30 ordered pairs), or the public card (4 left)."""
        if len(self.cards) < 2:
            return [(deal, 1 / len(_PRIVATE_DEALS)) for deal in _PRIVATE_DEALS]
        left = [c for c in range(6) if c not in self.cards]
        return [(card, 1 / len(left)) for card in left]

    def child(self, action: Any) -> LeducState:
        """The state after a chance outcome (a card or a pair of cards) or a move."""
        if self.to_play() == CHANCE:
            dealt = tuple(action) if isinstance(action, tuple) else (action,)
            rounds = self.rounds if len(self.cards) < 2 else (*self.rounds, "")
            return LeducState(self.cards + tuple(int(c) for c in dealt), rounds)
        if action not in self.legal_actions():
            raise ConfigError(f"{action!r} is not legal here; use one of {self.legal_actions()}")
        return LeducState(self.cards, (*self.rounds[:-1], self.letters + _LETTER[action]))

    def returns(self) -> tuple[float, float]:
        """Chips won by each player once the hand is over (OpenSpiel's returns)."""
        if not self.is_terminal():
            return (0.0, 0.0)
        chips = self.contributions()
        if self.letters.endswith("f"):
            loser = (len(self.letters) - 1) % 2
        else:
            strength = [self._strength(seat) for seat in (0, 1)]
            if strength[0] == strength[1]:
                return (0.0, 0.0)
            loser = 0 if strength[0] < strength[1] else 1
        won = float(chips[loser])
        return (-won, won) if loser == 0 else (won, -won)

    def _strength(self, seat: int) -> int:
        own, public = self.cards[seat] // 2, self.cards[2] // 2
        return 100 + own if own == public else 6 * max(own, public) + min(own, public)

    def context(self, seat: int) -> str:
        """What ``seat`` knows: its card, its seat, the public card and the betting."""
        parts = [f"card {RANKS[self.cards[seat] // 2]}, {('first', 'second')[seat]} to act; "
                 f"round 1: {_betting(self.rounds[0], seat)}"]
        if len(self.cards) == 3:
            parts.append(f"public card {RANKS[self.cards[2] // 2]}; round 2: "
                         f"{_betting(self.rounds[1], seat)}")
        return "; ".join(parts)

    def infostate(self) -> str:
        """The key of the player to act."""
        return infostate_key(self.to_play(), self.context(self.to_play()))

    def position(self) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """The cards dealt and the moves so far, as the text game spells them."""
        return self.cards, tuple(move for letters in self.rounds for move in _moves(letters))


def _moves(letters: str) -> list[str]:
    """One round's betting letters as moves (a bet is pending after the first ``r``)."""
    names = {("c", False): "check", ("c", True): "call", ("r", False): "bet",
             ("r", True): "raise", ("f", True): "fold"}
    return [names[(letter, "r" in letters[:i])] for i, letter in enumerate(letters)]


def _betting(letters: str, seat: int) -> str:
    """One round's betting from ``seat``'s side ("you bet, opponent called")."""
    past = {"check": "checked", "bet": "bet", "call": "called", "raise": "raised",
            "fold": "folded"}
    return ", ".join(f"{'you' if i % 2 == seat else 'opponent'} {past[move]}"
                     for i, move in enumerate(_moves(letters))) or "nothing"


class LeducPokerEnv(TwoPlayerEnv):
    """One hand of Leduc Hold'em; the reward is the chips won or lost.

    Args:
        opponent: "random", "self" or a callable (obs, info) -> action.
        player: 0 (acts first in each round), 1 or "random".

    ``reset(options={"deal": (seat 0's card, seat 1's card[, public card])})`` fixes the
    cards (0-5: J, J, Q, Q, K, K).

        >>> env = LeducPokerEnv(opponent="self")
        >>> _ = env.reset(seed=0, options={"deal": (0, 5, 1)})
        >>> for move in ("check", "check", "bet"):
        ...     _ = env.step(move)
        >>> env.step("fold")[4]["returns"]
        [1.0, -1.0]
    """

    scripted = ("random",)

    def __init__(self, opponent: str | OpponentPolicy = "random", player: int | str = 0) -> None:
        super().__init__(opponent, player)
        self.state = LeducState((0, 2))
        self.public = 4

    def action_vocabulary(self) -> list[str]:
        """Every betting action."""
        return ["check", "bet", "fold", "call", "raise"]

    def _new_game(self) -> None:
        deal = self.np_random.permutation(6)
        self.state, self.public = LeducState((int(deal[0]), int(deal[1]))), int(deal[2])

    def _set_deal(self, deal: tuple[int, ...]) -> None:
        if len(deal) not in (2, 3) or len(set(deal)) != len(deal) or not set(deal) <= set(range(6)):
            raise ConfigError(f"deal={deal!r} must be 2 or 3 different cards out of 0-5 (J, J, Q, "
                              "Q, K, K): seat 0's, seat 1's and optionally the public card")
        left = [c for c in range(6) if c not in deal]
        public = deal[2] if len(deal) == 3 else left[int(self.np_random.integers(len(left)))]
        self.state, self.public = LeducState(deal[:2]), public

    def to_play(self) -> int:
        """Player 0 opens each round; then they alternate."""
        return self.state.to_play()

    def legal_actions(self) -> list[str]:
        """See :meth:`LeducState.legal_actions`."""
        return self.state.legal_actions()

    def _play(self, move: str) -> None:
        self.state = self.state.child(move)
        if not self.state.is_terminal() and self.state.to_play() == CHANCE:
            self.state = self.state.child(self.public)  # the first round is over

    def returns(self) -> tuple[float, float] | None:
        """Chips won by each seat once the hand is over."""
        return self.state.returns() if self.state.is_terminal() else None

    def _scripted_move(self, name: str) -> str:
        legal = self.legal_actions()
        return legal[int(self.np_random.integers(len(legal)))]

    def view(self, seat: int) -> str:
        """The seat's card, the public card once turned, the pot, the betting; both cards
        once the hand is over."""
        cards, chips = self.state.cards, self.state.contributions()
        lines = [f"You are player {seat} ({('first', 'second')[seat]} to act in each round). "
                 f"Your card: {RANKS[cards[seat] // 2]}."]
        if len(cards) == 3:
            lines.append(f"Public card: {RANKS[cards[2] // 2]}.")
        lines.append(f"Pot: {sum(chips)} chips (you put in {chips[seat]}, the opponent "
                     f"{chips[1 - seat]}).")
        for number, letters in enumerate(self.state.rounds, 1):
            bets = ", ".join(f"player {i % 2} {move}" for i, move in enumerate(_moves(letters)))
            lines.append(f"Round {number}: {bets or 'no bets yet'}.")
        lines.append(self._status(seat))
        return "\n".join(lines)

    def _status(self, seat: int) -> str:
        final = self.returns()
        if final is None:
            whose = "your" if self.to_play() == seat else "the opponent's"
            return f"It is {whose} turn. Moves: {', '.join(self.legal_actions())}."
        shown = ", ".join(f"player {s} had {RANKS[self.state.cards[s] // 2]}" for s in (0, 1))
        result = "drew" if final[seat] == 0 else "won" if final[seat] > 0 else "lost"
        return f"Cards: {shown}. You {result} {abs(final[seat]):g} chip(s)."

    def _portable_view(self) -> dict[str, Any]:
        state = self.state.context(self.to_play())
        return build_view(state, {action: (action, state) for action in self.legal_actions()})

    def _goal(self) -> str:
        return ("Win chips in one hand of Leduc Hold'em (cards J < Q < K; pairing the public "
                "card beats any other hand). Without a bet you may check or bet; facing one, "
                "fold, call or raise.")

    def _extra_info(self) -> dict[str, Any]:
        return {**super()._extra_info(), "card": RANKS[self.state.cards[self.viewer()] // 2]}


_OPENSPIEL_IDS = {"fold": 0, "check": 1, "call": 1, "bet": 2, "raise": 2}


def leduc_from_openspiel(history: Sequence[int]) -> LeducState:
    """OpenSpiel's ``leduc_poker`` history (cards 0-5 as chance outcomes; moves 0 fold,
    1 check/call, 2 bet/raise) as a state.

    >>> leduc_from_openspiel([4, 1, 2, 1, 3]).context(0)
    'card K, first to act; round 1: you bet, opponent called; public card Q; round 2: nothing'
    """
    state, private = LeducState(), list(history[:2])
    if len(private) == 2:
        state = state.child(tuple(private))
    for action in history[2:]:
        if state.to_play() == CHANCE:
            state = state.child(int(action))
        else:
            state = state.child(next(a for a in state.legal_actions()
                                     if _OPENSPIEL_IDS[a] == action))
    return state


def leduc_openspiel_action(state: Any, action: str) -> int:
    """OpenSpiel's id of a move: 0 fold, 1 check or call, 2 bet or raise.

    >>> leduc_openspiel_action(LeducState((0, 1)), "bet")
    2
    """
    return _OPENSPIEL_IDS[action]


LEDUC_TREE = TreeGame(root=LeducState, openspiel="leduc_poker",
                      from_openspiel=leduc_from_openspiel, openspiel_action=leduc_openspiel_action)
