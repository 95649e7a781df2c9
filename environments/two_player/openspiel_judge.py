"""OpenSpiel as the independent judge of a strategy (needs ``pip install 'memplay[games]'``).

A strategy over a game's information states (``policy(key, actions) -> probabilities``,
the keys of :mod:`memplay.environments.two_player.game_tree`) becomes an OpenSpiel
``TabularPolicy``: every information state OpenSpiel lists is mapped to the same state of
memplay's tree (:attr:`~memplay.environments.two_player.game_tree.TreeGame.from_openspiel`),
whose key is looked up, and each action to OpenSpiel's id. OpenSpiel's own ``exploitability``
module then computes NashConv, with nothing of memplay's best response involved.

    >>> from memplay.environments.two_player.game_tree import tree_game
    >>> uniform = lambda key, actions: [1 / len(actions)] * len(actions)
    >>> round(openspiel_nash_conv(tree_game("KuhnPoker-v0"), uniform), 4)
    0.9167
"""

from __future__ import annotations

import importlib.util
from typing import Any

from memplay.environments.two_player.game_tree import Policy, TreeGame
from memplay.errors import ConfigError

__all__ = ["load_openspiel", "openspiel_available", "openspiel_nash_conv", "openspiel_policy"]


def openspiel_available() -> bool:
    """True when OpenSpiel can be imported (checked without importing it).

    >>> isinstance(openspiel_available(), bool)
    True
    """
    return importlib.util.find_spec("pyspiel") is not None


def load_openspiel() -> Any:
    """The ``pyspiel`` module, or ConfigError saying how to install it.

    >>> load_openspiel().load_game("kuhn_poker").num_players()
    2
    """
    try:
        import pyspiel
    except ImportError:
        raise ConfigError("OpenSpiel is not installed; pip install 'memplay[games]' (the "
                          "open_spiel wheel) to judge strategies with it") from None
    return pyspiel


def openspiel_policy(game: TreeGame, policy: Policy) -> Any:
    """``policy`` as an OpenSpiel ``TabularPolicy`` of ``game.openspiel``.

    >>> from memplay.environments.two_player.game_tree import tree_game
    >>> always_bet = lambda key, actions: [float(a in ("bet", "call")) for a in actions]
    >>> table = openspiel_policy(tree_game("KuhnPoker-v0"), always_bet)
    >>> table.action_probability_array.sum(axis=0).tolist()  # 12 states, all on action 1
    [0.0, 12.0]
    """
    load_openspiel()
    import pyspiel
    from open_spiel.python import policy as tabular

    spiel_game = pyspiel.load_game(game.openspiel)
    table = tabular.TabularPolicy(spiel_game)
    for index, state in enumerate(table.states):
        ours = game.from_openspiel(state.history())
        actions = ours.legal_actions()
        ids = [game.openspiel_action(ours, a) for a in actions]
        if sorted(ids) != sorted(state.legal_actions()):
            raise ConfigError(f"{game.openspiel}: memplay's actions {actions} at "
                              f"{ours.infostate()!r} do not match OpenSpiel's "
                              f"{state.legal_actions()}; the tree's rules differ from OpenSpiel's")
        row = table.action_probability_array[index]
        row[:] = 0.0
        for action_id, p in zip(ids, policy(ours.infostate(), actions)):
            row[action_id] = p
    return table


def openspiel_nash_conv(game: TreeGame, policy: Policy) -> float:
    """NashConv of ``policy`` by OpenSpiel's ``exploitability.nash_conv`` (the module
    docstring has an example)."""
    load_openspiel()
    import pyspiel
    from open_spiel.python.algorithms import exploitability

    spiel_game = pyspiel.load_game(game.openspiel)
    return float(exploitability.nash_conv(spiel_game, openspiel_policy(game, policy)))
