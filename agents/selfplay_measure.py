"""The exact measure of a self-play strategy, for any game with a registered tree.

For a game in :data:`~memplay.environments.two_player.game_tree.GAME_TREES` (Kuhn poker,
Leduc Hold'em) self-play records after every epoch (or every ``self_play.measure_every`` games) the
strategy the agent plays at every information state of the game and its NashConv, computed
twice: by memplay's own best response over the tree
(:class:`~memplay.environments.two_player.game_tree.GameTree`) and, when it is installed, by
OpenSpiel's ``exploitability`` module (:mod:`memplay.environments.two_player.openspiel_judge`).

Which strategy: with a strategy memory (``mccfr``) its average strategy, read from memory
(no LLM call). Otherwise the live policy's: every information state is reached in a real
environment of the game (its deal and moves replayed with ``reset(options={"deal": ...})``),
the graph's own decision nodes (retrieve, build_prompt) turn it into a prompt and memory's
values, one batched LLM call scores them all, and the policy's scores (calibrated LLM term +
step-memory prior + novelty bonus, :func:`memplay.agents.nodes.action_scores`) become
probabilities with the policy's softmax temperature (temperature 0: all mass on the best
action). Nothing the agent keeps is changed: calibration statistics are copied and memory is
only read.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.llm.fake import ScriptedLLM
    >>> always_bet = ScriptedLLM(scores={"bet": -0.1, "call": -0.1})
    >>> cfg = AgentConfig(env_id="KuhnPoker-v0", variant="none",
    ...                   policy={"temperature": 0, "calibrate": False})
    >>> row = measure(AgentContext(envs=[], llm=always_bet, config=cfg))
    >>> round(row["nash_conv"], 4), row["strategy"]["player 0: card J, first to act; so far: "
    ...                                             "nothing"]
    (0.6667, {'check': 0.0, 'bet': 1.0})
"""

from __future__ import annotations

import copy
import math
import random
from functools import cache
from typing import Any

from langgraph.runtime import Runtime

from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext, StateKey, default_state_key
from memplay.agents.graph import DEFAULT_NODES
from memplay.agents.mccfr import average_policy
from memplay.agents.nodes import action_scores
from memplay.agents.policy import llm_scores, log_softmax
from memplay.agents.state import AgentState, Slot, StepRecord, action_keys, initial_state
from memplay.environments.two_player.game_tree import GameState, GameTree, Policy, tree_game
from memplay.memory.strategy_memory import StrategyMemory

__all__ = ["action_probabilities", "decide", "game_tree", "infostate_slot", "measure",
           "policy_table"]

_SHOWN = 32  # trees with at most this many information states record the whole strategy


@cache
def game_tree(env_id: str) -> GameTree:
    """The whole game tree of ``env_id``, built once (ConfigError for a game without one).

    >>> len(game_tree("KuhnPoker-v0").infostates)
    12
    """
    return GameTree(tree_game(env_id).root())


def action_probabilities(scores: dict[str, float], temperature: float) -> dict[str, float]:
    """What :func:`~memplay.agents.policy.choose_action` samples from: softmax(scores / T),
    or all mass on the first best action at temperature 0.

    >>> action_probabilities({"a": 0.0, "b": 1.0}, 0.0)
    {'a': 0.0, 'b': 1.0}
    >>> round(action_probabilities({"a": 0.0, "b": 0.0}, 0.5)["a"], 3)
    0.5
    """
    if temperature == 0:
        best = max(scores, key=lambda a: scores[a])
        return {a: float(a == best) for a in scores}
    logp = log_softmax({a: v / temperature for a, v in scores.items()})
    return {a: math.exp(v) for a, v in logp.items()}


def decide(ctx: AgentContext, slots: list[Slot], *, act: bool = True) -> list[Slot]:
    """Run the variant's decision nodes (retrieve, build_prompt and, with ``act``, act) on
    started slots, as the agent's graph would; no env is stepped.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.llm.fake import ScriptedLLM
    >>> ctx = AgentContext(envs=[], llm=ScriptedLLM(scores={"bet": -0.1}),
    ...                    config=AgentConfig(variant="none",
    ...                                       policy={"temperature": 0, "calibrate": False}))
    >>> decide(ctx, [Slot(0, started=True, admissible=["check", "bet"])])[0].action
    'bet'
    """
    names = [n for n in ctx.config.spec.pipelines()[0] if n not in ("observe", "env_step")]
    if not act:
        names = [n for n in names if n not in ("act", "regret_act")]
    state: AgentState = initial_state(slots)
    runtime = Runtime(context=ctx)
    for name in names:
        update = DEFAULT_NODES[name](state, runtime)
        state = initial_state(update.get("slots", state["slots"]))
    return state["slots"]


def infostate_slot(config: AgentConfig, state: GameState, index: int = 0,
                   state_key: StateKey = default_state_key) -> Slot:
    """A started slot at ``state``, as the seat to act meets it in a self-play game: a real
    environment is dealt the state's cards and plays its moves; the seat's own earlier moves
    are its steps.

    >>> from memplay.environments.two_player.kuhn_tree import KuhnState
    >>> cfg = AgentConfig(env_id="KuhnPoker-v0", variant="none")
    >>> slot = infostate_slot(cfg, KuhnState((0, 2), "pb"))
    >>> slot.seat, slot.admissible, [s.action for s in slot.steps]
    (0, ['call', 'fold'], ['check'])
    """
    from memplay.environments import make

    deal, moves = state.position()
    env = make(config.env_id, **{**config.env_kwargs, "opponent": "self"})
    obs, info = env.reset(seed=0, options={"deal": deal})
    use_view = config.memory.step_keys == "view"
    steps = []
    for move in moves:
        seat, admissible = info["to_play"], list(info["admissible_actions"])
        if seat == state.to_play():
            key = state_key(env, obs, info)
            steps.append(StepRecord(obs, move, admissible=admissible, state=key, seat=seat,
                                    key=action_keys(key, info.get("view"), admissible,
                                                    use_view)[move]))
        obs, _, _, _, info = env.step(move)
    return Slot(index, episode=-1 - index, started=True, goal=str(info["goal"]),
                observation=obs, state=state_key(env, obs, info), view=info.get("view"),
                seat=info["to_play"], admissible=list(info["admissible_actions"]), steps=steps)


def policy_table(ctx: AgentContext, tree: GameTree) -> dict[str, list[float]]:
    """The live policy's probabilities at every information state of ``tree`` (in the
    order of its actions), from one batched LLM call."""
    look = AgentContext(envs=[], llm=ctx.llm, config=ctx.config, task_memory=ctx.task_memory,
                        step_memory=ctx.step_memory, reflections=ctx.reflections,
                        state_key=ctx.state_key, llm_bias=copy.deepcopy(ctx.llm_bias),
                        rng=random.Random())
    keys = list(tree.infostates)
    slots = decide(look, [infostate_slot(look.config, tree.infostates[k][2], i,
                                             look.state_key)
                          for i, k in enumerate(keys)], act=False)
    views = llm_scores(look.llm, [s.prompt for s in slots], [s.admissible for s in slots],
                       look.config.policy)
    table = {}
    for key, slot, view in zip(keys, slots, views):
        probs = action_probabilities(action_scores(look, slot, view),
                                     look.config.policy.temperature)
        table[key] = [probs[a] for a in tree.infostates[key][1]]
    return table


def measure(ctx: AgentContext) -> dict[str, Any]:
    """NashConv by memplay's best response (and by OpenSpiel when installed), half of it,
    seat 0's value when both seats play the strategy, the strategy itself for small games,
    and a strategy memory's counts; the module docstring has an example."""
    from memplay.environments.two_player.openspiel_judge import (
        openspiel_available,
        openspiel_nash_conv,
    )

    tree = game_tree(ctx.config.env_id)
    memory = ctx.strategy_memory
    if isinstance(memory, StrategyMemory):
        policy: Policy = average_policy(memory)
    else:
        table = policy_table(ctx, tree)
        policy = lambda key, actions: table[key]  # noqa: E731
    nash_conv = tree.nash_conv(policy)
    row: dict[str, Any] = {"nash_conv": nash_conv, "exploitability": nash_conv / 2,
                           "seat0_value": tree.expected_returns(policy)[0]}
    if openspiel_available():  # else memplay's own judge only
        row["nash_conv_openspiel"] = openspiel_nash_conv(tree_game(ctx.config.env_id), policy)
    if len(tree.infostates) <= _SHOWN:
        row["strategy"] = {key: dict(zip(actions, policy(key, actions)))
                           for key, (_, actions, _) in tree.infostates.items()}
    if isinstance(memory, StrategyMemory):
        row.update(infostates=len(memory), learned_games=memory.counts["games"],
                   decisions=memory.counts["decisions"],
                   model_prompts=memory.counts["model_prompts"])
    return row
