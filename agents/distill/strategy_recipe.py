"""The ``average-strategy`` recipe: a two-player game's strategy as soft SFT targets.

Self-play memory's *average* strategy is what converges to an equilibrium (CFR, fictitious
play); this recipe distils it into the weights. With no ``--data`` file it reads the run's
own strategy memory (a run that self-played with variant ``mccfr``) at every information
state of the game's tree (:func:`self_play_rows`). Otherwise it reads strategy tables: JSON
files mapping an information state to action probabilities::

    {"states": {"<state>": {"bet": 0.33, "check": 0.67}, ...}}   (or the inner mapping alone)

A state is named as the agent's step memory names it (the seat-aware state text self-play
uses) or, for Kuhn poker, as ``"<card>:<history>"`` (``"J:pb"``), where a bare number is the
probability of the aggressive action (bet, or call facing a bet). Each state's prompt is the
agent's prompt there: Kuhn's 12 information sets are dealt and played to (as
:mod:`memplay.agents.selfplay_measure` reaches them); other games take the states the run's own
episodes visited.

Targets are probabilities: each state gets ``copies`` examples whose answers are split
among its actions in proportion to the table (largest remainder), so the SFT loss over them
is the cross-entropy against the table's distribution, whose minimum is the model giving
each action exactly its table probability. The model then plays by sampling from its own
probabilities (:data:`~memplay.agents.distill.recipe.STRATEGY_PLAY`: temperature 1, LLM
weight 1, no calibration).

    >>> apportion({"bet": 1 / 3, "check": 2 / 3}, 10)
    {'bet': 3, 'check': 7}
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from memplay.agents.context import StateKey, default_state_key
from memplay.agents.distill.recipe import STRATEGY_PLAY, DistillSource, Recipe
from memplay.agents.mccfr import average_policy
from memplay.agents.prompts import build_messages
from memplay.agents.state import Slot, StepRecord, action_keys
from memplay.environments.registry import make
from memplay.environments.two_player.kuhn import CARDS, KuhnPokerEnv
from memplay.environments.two_player.kuhn_exploitability import INFOSETS, Infoset, infoset_seat
from memplay.errors import ConfigError, EnvironmentFault, TrainerError
from memplay.memory.strategy_memory import StrategyMemory
from memplay.trainers.records import ChatRecord

__all__ = ["AVERAGE_STRATEGY", "COPIES", "STATE_ENUMERATORS", "StrategyRow", "apportion",
           "kuhn_situations", "read_strategy_table", "self_play_rows", "strategy_situations",
           "table_rows", "visited_states"]

COPIES = 20  # examples per state: the table's probabilities in steps of 1/20


class _Line:
    """A scripted opponent that plays the given moves in order."""

    def __init__(self, moves: list[str]) -> None:
        self.moves = list(moves)

    def __call__(self, obs: str, info: dict[str, Any]) -> str:
        return self.moves.pop(0)


def _words(history: str) -> list[str]:
    """The betting letters as actions: b = bet (call once a bet is out), p = check (fold)."""
    return [("call" if "b" in history[:i] else "bet") if act == "b" else
            ("fold" if "b" in history[:i] else "check") for i, act in enumerate(history)]


@cache
def _seed_for(seat: int, card: str) -> int:
    """The first reset seed that deals ``card`` to ``seat``."""
    env = KuhnPokerEnv(opponent="self")
    for seed in range(1000):
        env.reset(seed=seed)
        if CARDS[env.cards[seat]] == card:
            return seed
    raise EnvironmentFault(f"no seed below 1000 deals {card} to seat {seat}")  # never happens


def infoset_situations(use_view: bool, state_key: StateKey = default_state_key
                       ) -> list[tuple[Infoset, Slot]]:
    """Kuhn's 12 information sets dealt and played to, a started slot each; memory keys by
    the view (``use_view``) or the state, states named by ``state_key``.

    >>> [slot.state.splitlines()[0] for _, slot in infoset_situations(True)][:1]
    ['You are player 0 (first to act). Your card: J.']
    """
    out: list[tuple[Infoset, Slot]] = []
    for card, history in INFOSETS:
        seat = infoset_seat(history)
        words = _words(history)
        env = KuhnPokerEnv(opponent=_Line(words[1 - seat::2]), player=seat)
        obs, info = env.reset(seed=_seed_for(seat, card))
        steps = []
        for mine in words[seat::2]:  # the agent's own earlier moves, as it played them
            state, admissible = state_key(env, obs, info), list(info["admissible_actions"])
            key = action_keys(state, info.get("view"), admissible, use_view)[mine]
            steps.append(StepRecord(obs, mine, admissible=admissible, state=state, key=key))
            obs, _, _, _, info = env.step(mine)
        slot = Slot(len(out), started=True, goal=str(info["goal"]), observation=obs,
                    state=state_key(env, obs, info), view=info.get("view"), steps=steps,
                    admissible=list(info["admissible_actions"]))
        out.append(((card, history), slot))
    return out


def apportion(probs: Mapping[str, float], copies: int) -> dict[str, int]:
    """Split ``copies`` among actions in proportion to ``probs`` (largest remainder).

    >>> apportion({"a": 0.5, "b": 0.5, "c": 0.0}, 3)
    {'a': 2, 'b': 1, 'c': 0}
    """
    total = sum(probs.values())
    exact = {a: copies * p / total for a, p in probs.items()}
    counts = {a: math.floor(x) for a, x in exact.items()}
    left = copies - sum(counts.values())
    for action in sorted(exact, key=lambda a: counts[a] - exact[a])[:left]:
        counts[action] += 1
    return counts


def read_strategy_table(path: Path) -> dict[str, Any]:
    """The ``state -> probabilities`` mapping of a strategy file (TrainerError when bad).

    >>> read_strategy_table(Path("/nonexistent.json"))
    Traceback (most recent call last):
    ...
    memplay.errors.TrainerError: strategy table /nonexistent.json not found; ...
    """
    if not path.is_file():
        raise TrainerError(f"strategy table {path} not found; pass a JSON file of state -> "
                           "action probabilities (memplay train RUN --recipe average-strategy "
                           "--data strategy.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TrainerError(f"strategy table {path} is not JSON ({exc.msg})") from None
    table = data.get("states", data) if isinstance(data, dict) else None
    if not isinstance(table, dict) or not table:
        raise TrainerError(f"strategy table {path} holds no states; write "
                           '{"states": {"<state>": {"<action>": probability}}}')
    return table


def kuhn_situations(source: DistillSource) -> dict[str, Slot]:
    """Kuhn's 12 information sets, each named ``card:history`` and by its state text."""
    use_view = source.config.memory.step_keys == "view"
    out = {}
    for (card, history), slot in infoset_situations(use_view):
        out[f"{card}:{history}"] = out[slot.state] = slot
    return out


def visited_states(source: DistillSource) -> dict[str, Slot]:
    """Every state the run's episodes visited, by state text, as the agent met it first."""
    visited: dict[str, Slot] = {}
    for traj in source.trajectories:
        for step in traj.steps:
            state = str(step.info.get("state", step.observation))
            view = step.info.get("view")
            visited.setdefault(state, Slot(0, started=True, goal=traj.goal, state=state,
                                           observation=step.observation,
                                           view=view if isinstance(view, dict) else None,
                                           admissible=list(step.admissible_actions)))
    return visited


#: Game class -> every information state of the game (games not listed: the visited ones).
STATE_ENUMERATORS: dict[type, Callable[[DistillSource], dict[str, Slot]]] = {
    KuhnPokerEnv: kuhn_situations}


def strategy_situations(source: DistillSource) -> dict[str, Slot]:
    """Name -> the slot the agent meets there: the game's registered enumeration
    (:data:`STATE_ENUMERATORS`), else the states the run's episodes visited."""
    game = type(make(source.config.env_id, **source.config.env_kwargs).unwrapped)
    return STATE_ENUMERATORS.get(game, visited_states)(source)


def _probabilities(name: str, row: Any, slot: Slot) -> dict[str, float]:
    """A table row as action -> probability over the slot's admissible actions."""
    if isinstance(row, (int, float)) and len(slot.admissible) == 2:
        aggressive = "call" if "call" in slot.admissible else "bet"
        return {a: float(row) if a == aggressive else 1.0 - float(row) for a in slot.admissible}
    if not isinstance(row, Mapping) or set(row) - set(slot.admissible):
        raise TrainerError(f"strategy row {name!r}={row!r} must map the state's actions "
                           f"{slot.admissible} to probabilities")
    probs = {a: float(row.get(a, 0.0)) for a in slot.admissible}
    if any(p < 0 for p in probs.values()) or sum(probs.values()) <= 0:
        raise TrainerError(f"strategy row {name!r}={row!r}: probabilities must be >= 0 and "
                           "not all 0")
    return probs


#: One training target: a state's name, the slot the agent meets there, action -> probability.
StrategyRow = tuple[str, Slot, dict[str, float]]


def table_rows(source: DistillSource) -> list[StrategyRow]:
    """The rows of the strategy tables passed as ``--data`` files, each at its situation."""
    situations = strategy_situations(source)
    rows: list[StrategyRow] = []
    for path in source.files:
        for name, row in read_strategy_table(Path(path)).items():
            slot = situations.get(name)
            if slot is None:
                known = ", ".join(list(situations)[:4])
                raise TrainerError(f"{path}: state {name!r} is not one the agent meets in "
                                   f"{source.config.env_id} (known: {known}...)")
            rows.append((name, slot, _probabilities(name, row, slot)))
    return rows


def self_play_rows(source: DistillSource) -> list[StrategyRow]:
    """The run's own average strategy (self-play with variant ``mccfr``): its strategy
    memory at every information state of the game's tree that memory averaged, each met as
    :func:`~memplay.agents.selfplay_measure.infostate_slot` meets it (where it is measured).

    >>> from memplay.agents.config import AgentConfig
    >>> self_play_rows(DistillSource(Path("/no/run"), AgentConfig(env_id="KuhnPoker-v0")))
    Traceback (most recent call last):
    ...
    memplay.errors.TrainerError: recipe 'average-strategy' found no strategy memory in ...
    """
    from memplay.agents.selfplay_measure import game_tree, infostate_slot

    where = source.memory_dir / "strategy"
    memory = StrategyMemory.open(where)
    if not len(memory):
        raise TrainerError(f"recipe 'average-strategy' found no strategy memory in {where}; "
                           "train a run that self-played with variant 'mccfr', or pass a "
                           "table with --data strategy.json")
    try:
        tree = game_tree(source.config.env_id)
    except ConfigError:
        raise TrainerError(f"{source.config.env_id} registers no game tree, so its "
                           "information states cannot be listed; pass the table with --data "
                           "strategy.json") from None
    policy, rows = average_policy(memory), []
    for index, (key, (_, actions, state)) in enumerate(tree.infostates.items()):
        row = memory.get(key)
        if row is not None and sum(row.average) > 0:  # never averaged: nothing to teach
            slot = infostate_slot(source.config, state, index)
            rows.append((key, slot, dict(zip(actions, policy(key, actions)))))
    return rows


def _strategy_records(source: DistillSource) -> list[ChatRecord]:
    rows = table_rows(source) if source.files else self_play_rows(source)
    records: list[ChatRecord] = []
    for _, slot, probs in rows:
        prompt = build_messages(slot, source.prompt)
        for action, n in apportion(probs, COPIES).items():
            records.extend(ChatRecord(messages=[*prompt, {"role": "assistant",
                                                          "content": action}],
                                      train_on=[len(prompt)], source="average-strategy")
                           for _ in range(n))
    return records


AVERAGE_STRATEGY = Recipe(
    "average-strategy", "sft",
    "a strategy as soft targets: the run's own self-play average strategy (variant mccfr), "
    "or a table of state -> action probabilities passed with --data strategy.json",
    _strategy_records, STRATEGY_PLAY)
