"""Leduc Hold'em against OpenSpiel's leduc_poker, and the game trees' own best response
against OpenSpiel's exploitability and the Kuhn closed form."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from memplay.environments import check_env, make
from memplay.environments.two_player.game_tree import CHANCE, GameTree, tree_game
from memplay.environments.two_player.kuhn_exploitability import INFOSETS
from memplay.environments.two_player.kuhn_exploitability import nash_conv as kuhn_nash_conv
from memplay.environments.two_player.kuhn_tree import KuhnState
from memplay.environments.two_player.leduc import LeducPokerEnv, LeducState
from memplay.environments.two_player.openspiel_judge import openspiel_nash_conv
from memplay.errors import ConfigError

pyspiel = pytest.importorskip("pyspiel")

_IDS = {"fold": 0, "check": 1, "call": 1, "bet": 2, "raise": 2}
_SUITED = re.compile(r"\[(Private|Public): (\d)\]")  # OpenSpiel names a card 0-5, rank // 2


def _both_trees() -> Any:
    """Every history of OpenSpiel's leduc_poker with memplay's state beside it."""
    stack = [(pyspiel.load_game("leduc_poker").new_initial_state(), LeducState())]
    while stack:
        spiel, ours = stack.pop()
        yield spiel, ours
        for action in spiel.legal_actions():
            child = spiel.child(action)
            if spiel.is_chance_node():
                dealt = child.history()
                mine = ours if len(dealt) == 1 else \
                    ours.child(tuple(dealt)) if len(dealt) == 2 else ours.child(action)
            else:
                mine = ours.child(next(a for a in ours.legal_actions() if _IDS[a] == action))
            stack.append((child, mine))


def test_leduc_moves_as_openspiel_leduc_poker() -> None:
    keys: dict[str, str] = {}
    for spiel, ours in _both_trees():
        assert spiel.is_terminal() == ours.is_terminal()
        if spiel.is_terminal():
            assert list(ours.returns()) == spiel.returns()
        elif spiel.is_chance_node():
            assert ours.to_play() == CHANCE
        else:
            seat = spiel.current_player()
            assert ours.to_play() == seat
            assert sorted(_IDS[a] for a in ours.legal_actions()) == spiel.legal_actions()
            # one memplay key per OpenSpiel information state, suits folded
            folded = _SUITED.sub(lambda m: f"[{m[1]}: {int(m[2]) // 2}]",
                                 spiel.information_state_string(seat))
            assert keys.setdefault(ours.infostate(), folded) == folded
    assert len(keys) == 288  # OpenSpiel's 936 states, the two suits of a rank as one
    assert len(set(keys.values())) == 288


def test_the_text_game_pays_what_openspiel_pays() -> None:
    rng = random.Random(1)
    env = LeducPokerEnv(opponent="self")
    for game in range(200):
        deal = rng.sample(range(6), 3)
        _, info = env.reset(seed=game, options={"deal": deal})
        spiel = pyspiel.load_game("leduc_poker").new_initial_state()
        for card in deal[:2]:
            spiel.apply_action(card)
        done = False
        while not done:
            move = rng.choice(info["admissible_actions"])
            _, _, done, _, info = env.step(move)
            spiel.apply_action(_IDS[move])
            if spiel.is_chance_node():
                spiel.apply_action(deal[2])
        assert info["returns"] == spiel.returns()


def test_leduc_is_a_registered_text_game() -> None:
    env = make("LeducPoker-v0", opponent="random", player=1)
    check_env(env)
    obs, info = env.reset(seed=3)
    assert "You are player 1" in obs and info["to_play"] == 1
    assert info["view"]["state"].startswith(f"card {info['card']}, second to act")
    with pytest.raises(ConfigError, match="different cards"):
        env.reset(seed=0, options={"deal": (0, 0)})
    with pytest.raises(ConfigError, match="deals no cards"):
        make("TicTacToe-v0").reset(seed=0, options={"deal": (0, 1)})


def _random_policy(seed: int) -> Any:
    rng, table = random.Random(seed), {}

    def policy(key: str, actions: Any) -> list[float]:
        if key not in table:
            weights = [rng.random() ** 3 for _ in actions]
            table[key] = [w / sum(weights) for w in weights]
        return table[key]
    return policy


@pytest.mark.parametrize("env_id", ["KuhnPoker-v0", "LeducPoker-v0"])
def test_own_best_response_agrees_with_openspiel(env_id: str) -> None:
    game = tree_game(env_id)
    tree = GameTree(game.root())
    for seed in range(3):
        policy = _random_policy(seed)
        assert tree.nash_conv(policy) == pytest.approx(openspiel_nash_conv(game, policy),
                                                       abs=1e-9)
    uniform = tree.nash_conv(lambda key, actions: [1 / len(actions)] * len(actions))
    assert round(uniform, 2) == {"KuhnPoker-v0": 0.92, "LeducPoker-v0": 4.75}[env_id]


def test_the_kuhn_tree_is_the_closed_form() -> None:
    tree, policy = GameTree(KuhnState()), _random_policy(7)
    aggressive = {}
    for card, history in INFOSETS:
        seat = len(history) % 2
        cards = (("JQK".index(card), 0 if card != "J" else 1) if seat == 0 else
                 (0 if card != "J" else 1, "JQK".index(card)))
        state = KuhnState(cards, history)
        probs = dict(zip(state.legal_actions(), policy(state.infostate(),
                                                         state.legal_actions())))
        aggressive[(card, history)] = probs.get("bet", probs.get("call"))
    assert tree.nash_conv(policy) == pytest.approx(kuhn_nash_conv(aggressive), abs=1e-12)
