"""Two-player games: minimax never loses, equilibrium poker beats random, self-play turns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from memplay.environments import make
from memplay.environments.two_player.kuhn import KuhnPokerEnv, equilibrium_bet_probability
from memplay.environments.two_player.tictactoe import TicTacToeEnv, minimax_values, winner


def _random_policy(seed: int) -> Any:
    rng = np.random.default_rng(seed)

    def policy(obs: str, info: dict[str, Any]) -> str:
        return info["admissible_actions"][int(rng.integers(len(info["admissible_actions"])))]

    return policy


def _play(env: Any, agent: Any, seed: int) -> tuple[float, dict[str, Any]]:
    obs, info = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, info = env.step(agent(obs, info))
        total, done = total + reward, terminated or truncated
    return total, info


@pytest.mark.parametrize("seat", [0, 1])
def test_minimax_never_loses_to_random_over_200_games(seat: int) -> None:
    # the env plays minimax; the agent seat plays random: the agent must never win
    env = make("TicTacToe-v0", opponent="minimax", player=seat)
    agent = _random_policy(seat)
    results = [_play(env, agent, seed)[0] for seed in range(200)]
    assert max(results) <= 0.0
    assert results.count(-1.0) > 150  # and it wins most games


def test_minimax_agent_never_loses_to_random_opponent() -> None:
    env = TicTacToeEnv(opponent="random", player="random")

    def minimax_agent(obs: str, info: dict[str, Any]) -> str:
        inner = env
        mark = "X" if inner.to_play() == 0 else "O"
        values = minimax_values(inner.board, mark)
        best = max(values, key=lambda i: values[i])
        return f"mark {best // 3} {best % 3}"

    results = [_play(env, minimax_agent, seed)[0] for seed in range(200)]
    assert min(results) >= 0.0 and results.count(1.0) > 100


def test_tictactoe_rules() -> None:
    assert winner(tuple("XXXOO....")) == "X"
    assert winner(tuple("XOXXOOOXX")) == "draw"
    assert winner(tuple("XO.......")) is None
    assert minimax_values(tuple("OO.XX...."), "X")[5] == 1


def test_self_play_alternates_turns_and_reports_both_returns() -> None:
    env = make("TicTacToe-v0", opponent="self")
    _, info = env.reset(seed=0)
    turns = []
    for move in ["1 1", "0 0", "2 2", "0 1", "0 2", "2 0", "1 0", "1 2", "2 1"]:
        turns.append(info["to_play"])
        _, _, terminated, _, info = env.step(move)
    assert turns == [0, 1, 0, 1, 0, 1, 0, 1, 0]
    assert terminated and info["returns"] is not None
    assert sum(info["returns"]) == 0.0


def test_self_play_shows_each_seat_its_own_view() -> None:
    env = KuhnPokerEnv(opponent="self")
    obs0, _ = env.reset(seed=5)
    obs1, *_ = env.step("check")
    assert "You are player 0" in obs0 and "You are player 1" in obs1
    assert f"Your card: {'JQK'[env.cards[1]]}" in obs1


def test_callable_opponent_is_used_and_bad_answers_are_replaced() -> None:
    seen: list[dict[str, Any]] = []

    def stubborn(obs: str, info: dict[str, Any]) -> str:
        seen.append(info)
        return "resign"

    env = make("TicTacToe-v0", opponent=stubborn)
    env.reset(seed=0)
    _, _, _, _, info = env.step("mark 1 1")
    assert seen and seen[0]["to_play"] == 1 and "mark 0 0" in seen[0]["admissible_actions"]
    assert info["opponent_invalid_actions"] == 1
    assert env.unwrapped.board.count("O") == 1  # a random legal move was played instead


def test_opponent_moves_first_when_agent_is_second() -> None:
    env = make("TicTacToe-v0", opponent="minimax", player=1)
    obs, info = env.reset(seed=3)
    assert env.unwrapped.board.count("X") == 1 and info["to_play"] == 1
    assert "You play O" in obs


def test_kuhn_payoffs() -> None:
    env = KuhnPokerEnv(opponent="self")
    env.reset(seed=0)
    env.cards = (2, 0)  # K vs J
    env.step("bet")
    _, reward, terminated, _, info = env.step("call")
    assert terminated and info["returns"] == [2.0, -2.0] and reward == -2.0  # the caller lost
    env.reset(seed=0)
    env.cards = (0, 1)
    env.step("check")
    env.step("bet")
    _, _, _, _, info = env.step("fold")
    assert info["returns"] == [-1.0, 1.0]
    env.reset(seed=0)
    env.cards = (1, 2)
    env.step("check")
    _, _, _, _, info = env.step("check")
    assert info["returns"] == [-1.0, 1.0]


@pytest.mark.parametrize("seat", [0, 1])
def test_equilibrium_opponent_beats_random_play(seat: int) -> None:
    env = make("KuhnPoker-v0", opponent="optimal", player=seat)
    agent = _random_policy(seat)
    mean = float(np.mean([_play(env, agent, s)[0] for s in range(3000)]))
    assert mean < -0.05


def test_equilibrium_self_play_value_is_minus_one_eighteenth() -> None:
    env = KuhnPokerEnv(opponent="optimal", player=0)

    def equilibrium_agent(obs: str, info: dict[str, Any]) -> str:
        p = equilibrium_bet_probability(env.cards[0], env.history)
        aggressive, passive = ("call", "fold") if "call" in info["admissible_actions"] \
            else ("bet", "check")
        return aggressive if rng.random() < p else passive

    rng = np.random.default_rng(0)
    mean = float(np.mean([_play(env, equilibrium_agent, s)[0] for s in range(10000)]))
    assert abs(mean - (-1 / 18)) < 0.04
