"""Kuhn poker as a game tree (:mod:`memplay.environments.two_player.game_tree`), with its
OpenSpiel twin.

The root deals the two cards (6 deals, equally likely); the betting is the same string as
in :class:`~memplay.environments.two_player.kuhn.KuhnPokerEnv` (``p`` = check/fold, ``b`` =
bet/call) and the information state of the player to act is the context of that env's portable view,
so the keys of an agent in the text game are the keys of this tree. OpenSpiel's
``kuhn_poker`` numbers the cards 0-2 as here and its actions 0 (pass) and 1 (bet).

    >>> root = KuhnState()
    >>> state = root.child((2, 0)).child("bet")
    >>> state.infostate(), state.legal_actions()
    ('player 1: card J, second to act; so far: opponent bet', ['call', 'fold'])
    >>> state.child("fold").returns()
    (1.0, -1.0)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memplay.environments.two_player.game_tree import CHANCE, TreeGame, infostate_key
from memplay.environments.two_player.kuhn import CARDS, infoset_text
from memplay.errors import ConfigError

__all__ = ["KUHN_TREE", "KuhnState", "kuhn_from_openspiel", "kuhn_openspiel_action"]

_TERMINAL = {"pp", "bp", "bb", "pbp", "pbb"}
_DEALS = tuple(itertools.permutations(range(3), 2))


@dataclass(frozen=True)
class KuhnState:
    """A Kuhn poker history: the deal (None at the root) and the betting letters."""

    cards: tuple[int, int] | None = None
    history: str = ""

    def is_terminal(self) -> bool:
        """True after check-check, a fold or a call."""
        return self.history in _TERMINAL

    def to_play(self) -> int:
        """Chance at the root, then seat 0 and 1 in turn."""
        return CHANCE if self.cards is None else len(self.history) % 2

    def returns(self) -> tuple[float, float]:
        """The chips each seat wins (a fold gives the antes to the bettor)."""
        if self.cards is None or not self.is_terminal():
            return (0.0, 0.0)
        if self.history in ("bp", "pbp"):
            winner = self.history.index("b")
            stake = 1.0
        else:
            winner = 0 if self.cards[0] > self.cards[1] else 1
            stake = 2.0 if "b" in self.history else 1.0
        return (stake, -stake) if winner == 0 else (-stake, stake)

    def chance_outcomes(self) -> list[tuple[Any, float]]:
        """The six deals."""
        return [(deal, 1 / len(_DEALS)) for deal in _DEALS]

    def legal_actions(self) -> list[str]:
        """check/bet, or call/fold facing a bet (the env's order)."""
        return ["call", "fold"] if self.history.endswith("b") else ["check", "bet"]

    def child(self, action: Any) -> KuhnState:
        """The state after a deal or a move."""
        if self.cards is None:
            return KuhnState((int(action[0]), int(action[1])))
        if action not in self.legal_actions():
            raise ConfigError(f"{action!r} is not legal after {self.history!r}; use one of "
                              f"{self.legal_actions()}")
        return KuhnState(self.cards, self.history + ("b" if action in ("bet", "call") else "p"))

    def infostate(self) -> str:
        """The key of the player to act (its card, seat and the betting)."""
        if self.cards is None:
            raise ConfigError("the root deals the cards: it is no player's information state")
        seat = self.to_play()
        return infostate_key(seat, infoset_text(CARDS[self.cards[seat]], seat, self.history))

    def position(self) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """The deal and the moves as the text game spells them."""
        moves = []
        for i, act in enumerate(self.history):
            facing = "b" in self.history[:i]
            moves.append(("call" if act == "b" else "fold") if facing else
                         ("bet" if act == "b" else "check"))
        return tuple(self.cards or ()), tuple(moves)


def kuhn_from_openspiel(history: Sequence[int]) -> KuhnState:
    """OpenSpiel's ``kuhn_poker`` history (two cards, then 0 = pass / 1 = bet) as a state.

    >>> kuhn_from_openspiel([2, 0, 1]).history
    'b'
    """
    if len(history) < 2:
        return KuhnState()
    return KuhnState((int(history[0]), int(history[1])),
                     "".join("b" if a == 1 else "p" for a in history[2:]))


def kuhn_openspiel_action(state: Any, action: str) -> int:
    """OpenSpiel's id of a move: 1 for bet and call, 0 for check and fold.

    >>> kuhn_openspiel_action(KuhnState((0, 1)), "check")
    0
    """
    return 1 if action in ("bet", "call") else 0


KUHN_TREE = TreeGame(root=KuhnState, openspiel="kuhn_poker",
                     from_openspiel=kuhn_from_openspiel, openspiel_action=kuhn_openspiel_action)
