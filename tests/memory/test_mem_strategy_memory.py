"""Strategy memory: regret matching, the average strategy, files, and the sampled update
(outcome-sampling MCCFR with baselines) checked by hand and, in expectation, against the
exact counterfactual regrets of Kuhn poker."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest

from memplay.environments.two_player.game_tree import CHANCE
from memplay.environments.two_player.kuhn_tree import KuhnState
from memplay.errors import ArchiveError, MemoryStoreError
from memplay.memory.outcome_sampling import Decision, learn_game
from memplay.memory.strategy_memory import StrategyMemory, normalised, regret_matching


def test_regret_matching_plays_positive_regrets_in_proportion() -> None:
    assert regret_matching([1.0, 3.0, -2.0]) == [0.25, 0.75, 0.0]
    assert regret_matching([-1.0, -1.0, 0.0]) == pytest.approx([1 / 3] * 3)
    mem = StrategyMemory()
    mem.entry("s", ["a", "b"]).average[:] = [2.0, 6.0]
    assert mem.average_strategy("s", ["a", "b"]) == [0.25, 0.75]
    assert mem.average_strategy("unknown", ["x", "y", "z"]) == pytest.approx([1 / 3] * 3)
    assert normalised([0.0, 0.0]) == [0.5, 0.5]


def test_a_state_keeps_its_actions() -> None:
    mem = StrategyMemory()
    mem.entry("s", ["check", "bet"])
    with pytest.raises(MemoryStoreError, match="stored with actions"):
        mem.entry("s", ["call", "fold"])


def test_one_sampled_decision_by_hand() -> None:
    # one decision of seat 0, payoff 2 if it took "a"; sigma uniform, behaviour (0.8, 0.2)
    mem = StrategyMemory()
    mem.entry("s", ["a", "b"]).baseline[:] = [1.0, 0.5]
    pick = Decision(0, "s", ("a", "b"), (0.5, 0.5), (0.8, 0.2), 0, prior=(0.9, 0.1))
    learn_game(mem, [pick], {0: 2.0}, seats=[0], baseline_step=0.5)
    row = mem.get("s")
    # u(a) = 1 + (2 - 1) / 0.8 = 2.25, u(b) = 0.5, u = 1.375; weights 1 (no one before)
    assert row.regrets == pytest.approx([0.875, -0.875])
    assert row.average == pytest.approx([0.5, 0.5])
    assert row.baseline == pytest.approx([1.5, 0.5])  # the taken action moves toward 2
    assert (row.visits, row.prior_count, row.prior()) == (1, 1, pytest.approx([0.9, 0.1]))
    assert mem.counts == {"games": 1, "decisions": 1, "model_prompts": 1}


def test_the_other_seat_weights_regrets_and_flips_baselines() -> None:
    # seat 1 moved first (sigma 0.25 for its move, sampled at 0.5), then seat 0 at s
    mem = StrategyMemory()
    mem.entry("t", ["x", "y"]).baseline[:] = [0.4, 0.0]  # seat 1's own values
    first = Decision(1, "t", ("x", "y"), (0.25, 0.75), (0.5, 0.5), 0)
    second = Decision(0, "s", ("a", "b"), (1.0, 0.0), (0.7, 0.3), 0)
    learn_game(mem, [first, second], {0: 1.0, 1: -1.0}, seats=[0], baseline_step=0.0)
    # at s: u(a) = 1 / 0.7, u = u(a); regret weight = 0.25 / 0.5 (seat 1's reach / sampling)
    assert mem.get("s").regrets == pytest.approx([0.0, (0 - 1 / 0.7) * 0.5])
    assert mem.get("s").average == pytest.approx([1.0 / 0.5, 0.0])
    assert mem.get("t").regrets == [0.0, 0.0]  # seat 1 was not taught
    assert mem.get("t").visits == 1


def test_a_decision_that_could_not_be_sampled_is_refused() -> None:
    bad = Decision(0, "s", ("a", "b"), (0.5, 0.5), (1.0, 0.0), 1)
    with pytest.raises(MemoryStoreError, match="could not have been sampled"):
        learn_game(StrategyMemory(), [bad], {0: 1.0}, seats=[0])
    with pytest.raises(MemoryStoreError, match="no payoff for seat 1"):
        learn_game(StrategyMemory(), [], {0: 1.0}, seats=[0, 1])


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    mem = StrategyMemory()
    pick = Decision(0, "s", ("a", "b"), (0.5, 0.5), (0.5, 0.5), 1, prior=(0.2, 0.8))
    learn_game(mem, [pick], {0: -1.0}, seats=[0])
    path = mem.save(tmp_path / "strategy")
    mem.close()
    loaded = StrategyMemory.load(path)
    assert loaded.to_rows() == mem.to_rows() and loaded.counts == mem.counts
    assert json.loads((path / "manifest.json").read_text())["counts"]["infostates"] == 1
    (path / "infostates.jsonl").write_text('{"key": "s", "actions": ["a"]}\n')
    with pytest.raises(ArchiveError, match=r"sha256|size"):
        StrategyMemory.load(path)  # the manifest's checksum catches a changed file


# ---- unbiasedness: the expected sampled update is the exact CFR update -------------------

def _sigma(seed: int) -> dict[str, list[float]]:
    rng, table = random.Random(seed), {}
    for card, history in itertools.product(range(3), ("", "p", "b", "pb")):
        cards = (card, (card + 1) % 3) if len(history) % 2 == 0 else ((card + 1) % 3, card)
        key = KuhnState(cards, history).infostate()
        weight = rng.random()
        table[key] = [weight, 1 - weight]
    return table


def _value(state: KuhnState, sigma: dict[str, list[float]], seat: int) -> float:
    if state.is_terminal():
        return state.returns()[seat]
    probs = sigma[state.infostate()]
    return sum(p * _value(state.child(a), sigma, seat)
               for p, a in zip(probs, state.legal_actions()))


def _exact(sigma: dict[str, list[float]], seat: int) -> dict[str, Any]:
    """Counterfactual regrets and CFR's average increments of ``seat`` (chance included)."""
    regrets: dict[str, list[float]] = {}
    average: dict[str, list[float]] = {}
    for cards, p_chance in KuhnState().chance_outcomes():
        stack = [(KuhnState().child(cards), p_chance, 1.0)]
        while stack:
            state, others, mine = stack.pop()
            if state.is_terminal():
                continue
            key, probs = state.infostate(), sigma[state.infostate()]
            actions = state.legal_actions()
            if state.to_play() == seat:
                here = _value(state, sigma, seat)
                row = regrets.setdefault(key, [0.0, 0.0])
                avg = average.setdefault(key, [0.0, 0.0])
                for i, a in enumerate(actions):
                    row[i] += others * (_value(state.child(a), sigma, seat) - here)
                    avg[i] += p_chance * mine * probs[i]
            for p, a in zip(probs, actions):
                mover = state.to_play() == seat
                stack.append((state.child(a), others * (1 if mover else p),
                              mine * (p if mover else 1)))
    return {"regrets": regrets, "average": average}


def _sampled_games(sigma: dict[str, list[float]], eps: float):  # type: ignore[no-untyped-def]
    """Every game with the probability the behaviour strategy samples it, as decisions."""
    root = KuhnState()
    for cards, p_chance in root.chance_outcomes():
        stack: list[tuple[KuhnState, float, list[Decision]]] = [(root.child(cards), p_chance, [])]
        while stack:
            state, q, made = stack.pop()
            if state.is_terminal():
                yield q, made, state.returns()
                continue
            assert state.to_play() != CHANCE
            probs = sigma[state.infostate()]
            behaviour = tuple((1 - eps) * p + eps / 2 for p in probs)
            for i, a in enumerate(state.legal_actions()):
                d = Decision(state.to_play(), state.infostate(), tuple(state.legal_actions()),
                             tuple(probs), behaviour, i)
                stack.append((state.child(a), q * behaviour[i], [*made, d]))


@pytest.mark.parametrize("baseline", [0.0, 0.7])
def test_the_sampled_update_is_the_exact_cfr_update_in_expectation(baseline: float) -> None:
    sigma = _sigma(3)
    expected = {seat: _exact(sigma, seat) for seat in (0, 1)}
    regrets: dict[str, list[float]] = {}
    average: dict[str, list[float]] = {}
    for q, decisions, returns in _sampled_games(sigma, eps=0.6):
        mem = StrategyMemory()
        for d in decisions:  # any fixed baseline leaves the estimate unbiased
            mem.entry(d.key, d.actions).baseline[:] = [baseline, -baseline]
        learn_game(mem, decisions, {0: returns[0], 1: returns[1]}, seats=[0, 1],
                   baseline_step=0.0)
        for key, row in mem.table.items():
            for total, got in ((regrets, row.regrets), (average, row.average)):
                acc = total.setdefault(key, [0.0, 0.0])
                acc[:] = [t + q * g for t, g in zip(acc, got)]
    for seat in (0, 1):
        for key, exact in expected[seat]["regrets"].items():
            assert regrets[key] == pytest.approx(exact, abs=1e-12), key
        for key, exact in expected[seat]["average"].items():
            assert average[key] == pytest.approx(exact, abs=1e-12), key
