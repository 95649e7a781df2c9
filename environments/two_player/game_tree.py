"""Small two-player zero-sum games as explicit trees: exact best responses and NashConv.

A game that can be walked exhaustively (Kuhn poker, Leduc Hold'em) offers a
:class:`GameState`: who plays, chance outcomes, legal actions, children, payoffs, and the
*information state* of the player to act, as the same key an agent in the text game files
its strategy under (:func:`infostate_key`). :class:`GameTree` expands it once and computes,
for any strategy of both seats (``policy(key, actions) -> probabilities``), the value of a
best response for each seat and NashConv: what the two best responses gain together, 0
exactly at a Nash equilibrium. This is the project's own judge; OpenSpiel is the
independent one (:mod:`memplay.environments.two_player.openspiel_judge`).

A best response picks, at each of its information states, the action of highest value summed
over the histories it cannot tell apart, each weighted by the probability that chance and the
other seat lead there; deeper choices are made first (recursion with memoised values).

Games register a :class:`TreeGame` by environment id in :data:`GAME_TREES`.

    >>> tree = GameTree(tree_game("KuhnPoker-v0").root())
    >>> uniform = lambda key, actions: [1 / len(actions)] * len(actions)
    >>> round(tree.nash_conv(uniform), 4), len(tree.infostates)
    (0.9167, 12)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from memplay.errors import ConfigError
from memplay.registry import Registry

__all__ = ["CHANCE", "GAME_TREES", "GameState", "GameTree", "Policy", "TreeGame",
           "infostate_key", "register_game_tree", "tree_game"]

CHANCE = -1
Policy = Callable[[str, Sequence[str]], Sequence[float]]
"""``(information state key, its actions) -> probability of each action``."""


def infostate_key(seat: int, context: str) -> str:
    """The key a seat's information state is filed under: the seat, then what it knows.

    >>> infostate_key(1, "card Q, second to act; so far: opponent bet")
    'player 1: card Q, second to act; so far: opponent bet'
    """
    return f"player {seat}: {context}"


class GameState(Protocol):
    """One node of a finite two-player zero-sum game with chance."""

    def is_terminal(self) -> bool:
        """True once the game is over."""
        ...

    def to_play(self) -> int:
        """0 or 1, or :data:`CHANCE` at a chance node (meaningless once terminal)."""
        ...

    def returns(self) -> tuple[float, float]:
        """Payoffs of seats 0 and 1 (terminal nodes)."""
        ...

    def chance_outcomes(self) -> list[tuple[Any, float]]:
        """``(outcome, probability)`` at a chance node."""
        ...

    def legal_actions(self) -> list[str]:
        """The player's actions, as the text game spells them."""
        ...

    def child(self, action: Any) -> GameState:
        """The state after an action (or a chance outcome)."""
        ...

    def infostate(self) -> str:
        """The :func:`infostate_key` of the player to act."""
        ...

    def position(self) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """How to reach this state in the text game: the cards dealt (``reset`` option
        ``deal``) and the moves of both seats so far."""
        ...


@dataclass
class _Node:
    state: GameState
    kind: str  # "terminal", "chance" or "player"
    seat: int = CHANCE
    key: str = ""
    actions: list[str] = field(default_factory=list)
    children: list[int] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)  # chance
    returns: tuple[float, float] = (0.0, 0.0)


class GameTree:
    """The expanded tree of a game (see the module docstring for the example).

    Attributes:
        infostates: key -> (seat, actions, the first state found with that key).
    """

    def __init__(self, root: GameState) -> None:
        self.nodes: list[_Node] = []
        self.infostates: dict[str, tuple[int, list[str], GameState]] = {}
        self._expand(root)

    def _expand(self, state: GameState) -> int:
        index = len(self.nodes)
        if state.is_terminal():
            self.nodes.append(_Node(state, "terminal", returns=state.returns()))
            return index
        seat = state.to_play()
        node = _Node(state, "chance" if seat == CHANCE else "player", seat)
        self.nodes.append(node)
        if seat == CHANCE:
            outcomes = state.chance_outcomes()
            node.probs = [p for _, p in outcomes]
            node.children = [self._expand(state.child(o)) for o, _ in outcomes]
            return index
        node.key, node.actions = state.infostate(), state.legal_actions()
        known = self.infostates.setdefault(node.key, (seat, node.actions, state))
        if known[:2] != (seat, node.actions):
            raise ConfigError(f"information state {node.key!r} is met by seat {seat} with "
                              f"actions {node.actions} and by seat {known[0]} with {known[1]}: "
                              "the game's keys must name everything the player knows")
        node.children = [self._expand(state.child(a)) for a in node.actions]
        return index

    def best_response_value(self, policy: Policy, seat: int) -> float:
        """Expected payoff of a best response in ``seat`` to ``policy`` in the other seat.

        >>> tree = GameTree(tree_game("KuhnPoker-v0").root())
        >>> always_bet = lambda key, actions: [float(a in ("bet", "call")) for a in actions]
        >>> round(tree.best_response_value(always_bet, 1), 4)  # call K and Q, fold J
        0.3333
        """
        if seat not in (0, 1):
            raise ConfigError(f"seat={seat!r} must be 0 or 1")
        strategy = {key: _checked(key, actions, policy(key, actions))
                    for key, (owner, actions, _) in self.infostates.items() if owner != seat}
        members: dict[str, list[int]] = {}
        for index, node in enumerate(self.nodes):
            if node.kind == "player" and node.seat == seat:
                members.setdefault(node.key, []).append(index)
        reach = self._reach(strategy, seat)
        return _Response(self.nodes, strategy, members, reach, seat).value(0)

    def _reach(self, strategy: dict[str, list[float]], seat: int) -> list[float]:
        """Probability that chance and the other seat lead to each node."""
        reach = [0.0] * len(self.nodes)
        reach[0] = 1.0
        for index, node in enumerate(self.nodes):  # parents come before their children
            if node.kind == "chance":
                weights = node.probs
            elif node.kind == "player" and node.seat != seat:
                weights = strategy[node.key]
            else:
                weights = [1.0] * len(node.children)
            for child, w in zip(node.children, weights):
                reach[child] = reach[index] * w
        return reach

    def expected_returns(self, policy: Policy) -> tuple[float, float]:
        """The seats' expected payoffs when both play ``policy``.

        >>> tree = GameTree(tree_game("KuhnPoker-v0").root())
        >>> [round(v, 4) for v in tree.expected_returns(lambda k, a: [0.5, 0.5])]
        [0.125, -0.125]
        """
        value = [0.0] * len(self.nodes)
        for index in range(len(self.nodes) - 1, -1, -1):  # children come after parents
            node = self.nodes[index]
            if node.kind == "terminal":
                value[index] = node.returns[0]
                continue
            weights = node.probs if node.kind == "chance" else \
                _checked(node.key, node.actions, policy(node.key, node.actions))
            value[index] = sum(w * value[c] for w, c in zip(weights, node.children))
        return value[0], -value[0]

    def nash_conv(self, policy: Policy) -> float:
        """The sum over both seats of a best response's value against ``policy`` (0 at a
        Nash equilibrium; the module docstring has an example)."""
        return self.best_response_value(policy, 0) + self.best_response_value(policy, 1)


def _checked(key: str, actions: Sequence[str], probs: Sequence[float]) -> list[float]:
    values = [float(p) for p in probs]
    if len(values) != len(actions) or min(values) < -1e-9 or abs(sum(values) - 1.0) > 1e-6:
        raise ConfigError(f"policy at {key!r} gives {values} for actions {list(actions)}; "
                          "give one probability per action, summing to 1")
    return values


class _Response:
    """The recursion of one best response (values memoised per node, choices per state)."""

    def __init__(self, nodes: list[_Node], strategy: dict[str, list[float]],
                 members: dict[str, list[int]], reach: list[float], seat: int) -> None:
        self.nodes, self.strategy, self.members = nodes, strategy, members
        self.reach, self.seat = reach, seat
        self.values: dict[int, float] = {}
        self.choice: dict[str, int] = {}

    def value(self, index: int) -> float:
        if index not in self.values:
            self.values[index] = self._compute(self.nodes[index])
        return self.values[index]

    def _compute(self, node: _Node) -> float:
        if node.kind == "terminal":
            return node.returns[self.seat]
        if node.kind == "chance":
            return sum(p * self.value(c) for p, c in zip(node.probs, node.children))
        if node.seat != self.seat:
            return sum(p * self.value(c)
                       for p, c in zip(self.strategy[node.key], node.children))
        return self.value(node.children[self.choose(node.key)])

    def choose(self, key: str) -> int:
        """The action (index) of highest reach-weighted value over the state's histories."""
        if key not in self.choice:
            histories = self.members[key]
            width = len(self.nodes[histories[0]].children)
            totals = [sum(self.reach[h] * self.value(self.nodes[h].children[a])
                          for h in histories) for a in range(width)]
            self.choice[key] = max(range(width), key=lambda a: totals[a])
        return self.choice[key]


@dataclass(frozen=True)
class TreeGame:
    """A text game that can be judged exactly: its tree and its OpenSpiel twin.

    Attributes:
        root: Builds the root state (a chance node dealing the cards).
        openspiel: The OpenSpiel game name with the same rules (``"kuhn_poker"``).
        from_openspiel: OpenSpiel history (its action ids, chance outcomes included) ->
            the same state of this tree.
        openspiel_action: ``(state, action text) -> OpenSpiel action id`` there.

    >>> tree_game("KuhnPoker-v0").openspiel
    'kuhn_poker'
    """

    root: Callable[[], GameState]
    openspiel: str
    from_openspiel: Callable[[Sequence[int]], GameState]
    openspiel_action: Callable[[GameState, str], int]


GAME_TREES: Registry[TreeGame] = Registry("game tree")
GAME_TREES.register("KuhnPoker-v0", "memplay.environments.two_player.kuhn_tree:KUHN_TREE")
GAME_TREES.register("LeducPoker-v0", "memplay.environments.two_player.leduc:LEDUC_TREE")


def register_game_tree(env_id: str, game: TreeGame | str) -> None:
    """Make ``env_id``'s self-play runs measurable exactly (a :class:`TreeGame` or its
    ``"module:attribute"``).

    >>> register_game_tree("KuhnPoker-v0", "memplay.environments.two_player.kuhn_tree:KUHN_TREE")
    """
    GAME_TREES.register(env_id, game)


def tree_game(env_id: str) -> TreeGame:
    """The registered tree of ``env_id`` (ConfigError naming the known ids otherwise).

    >>> tree_game("TicTacToe-v0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: unknown game tree 'TicTacToe-v0'...
    """
    return GAME_TREES.get(env_id)
