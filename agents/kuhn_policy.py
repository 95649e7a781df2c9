"""The Kuhn poker strategy an agent's policy induces, and its exact exploitability.

The agent is asked about each of the 12 information sets exactly as it would meet them in a
game: a real :class:`~memplay.environments.kuhn.KuhnPokerEnv` is dealt the card and played
to the betting history by a scripted opponent, and the graph's own decision nodes (retrieve,
build_prompt) turn it into a prompt and memory's values. One batched LLM call scores the 12
prompts; the policy's scores (calibrated LLM term + step-memory prior + novelty bonus,
:func:`memplay.agents.policy.scores_for`) become probabilities with the policy's softmax
temperature (temperature 0: all mass on the best action). Nothing the agent keeps is changed:
the look-up works on a copy of the calibration statistics and memory is only read.
:func:`memplay.environments.kuhn_exploitability.nash_conv` then computes the exact best
responses.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.agents.context import AgentContext
    >>> from memplay.agents.llm.fake import ScriptedLLM
    >>> always_bet = ScriptedLLM(scores={"bet": -0.1, "call": -0.1})
    >>> cfg = AgentConfig(env_id="KuhnPoker-v0", variant="none",
    ...                   policy={"temperature": 0, "calibrate": False})
    >>> row = measure(AgentContext(envs=[], llm=always_bet, config=cfg))
    >>> round(row["nash_conv"], 4), row["strategy"]["J:"]
    (0.6667, 1.0)
"""

from __future__ import annotations

import copy
import math
from functools import cache
from typing import Any

from memplay.agents.context import AgentContext
from memplay.agents.keys import action_keys
from memplay.agents.policy import llm_scores, log_softmax, scores_for
from memplay.agents.selfplay import decide, sibling_context
from memplay.agents.slot_decision import decision_of
from memplay.agents.state import Slot, StepRecord
from memplay.environments.kuhn import CARDS, KuhnPokerEnv
from memplay.environments.kuhn_exploitability import (
    INFOSETS,
    Infoset,
    expected_value,
    exploitability,
    infoset_seat,
    nash_conv,
)
from memplay.errors import EnvironmentFault

__all__ = ["action_probabilities", "infoset_slots", "measure", "policy_strategy"]


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


def infoset_slots(ctx: AgentContext) -> list[tuple[Infoset, Slot]]:
    """A started slot per information set, as the agent in that seat would meet it.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.agents.llm.fake import ScriptedLLM
    >>> ctx = AgentContext(envs=[], llm=ScriptedLLM(), config=AgentConfig(variant="none"))
    >>> (card, history), slot = infoset_slots(ctx)[3]
    >>> card, history, slot.admissible, [s.action for s in slot.steps]
    ('J', 'pb', ['call', 'fold'], ['check'])
    """
    out: list[tuple[Infoset, Slot]] = []
    for card, history in INFOSETS:
        seat = infoset_seat(history)
        words = _words(history)
        env = KuhnPokerEnv(opponent=_Line(words[1 - seat::2]), player=seat)
        obs, info = env.reset(seed=_seed_for(seat, card))
        steps = []
        use_view = ctx.config.memory.step_keys == "view"
        for mine in words[seat::2]:  # the agent's own earlier moves, as it played them
            state, admissible = ctx.state_key(env, obs, info), list(info["admissible_actions"])
            key = action_keys(state, info.get("view"), admissible, use_view)[mine]
            steps.append(StepRecord(obs, mine, admissible=admissible, state=state, key=key))
            obs, _, _, _, info = env.step(mine)
        slot = Slot(len(out), started=True, goal=str(info["goal"]), observation=obs,
                    state=ctx.state_key(env, obs, info), view=info.get("view"), steps=steps,
                    admissible=list(info["admissible_actions"]))
        out.append(((card, history), slot))
    return out


def policy_strategy(ctx: AgentContext) -> dict[Infoset, float]:
    """Probability of the aggressive action (bet or call) at each information set.

    The module docstring has an example.
    """
    look = sibling_context(ctx, llm_bias=copy.deepcopy(ctx.llm_bias))
    pairs = infoset_slots(look)
    slots = decide(look, [slot for _, slot in pairs], act=False)
    policy = look.config.policy
    views = llm_scores(look.llm, [s.prompt for s in slots], [s.admissible for s in slots],
                       policy)
    use_view = look.config.memory.step_keys == "view"
    strategy = {}
    for (infoset, _), slot, view in zip(pairs, slots, views):
        decision = decision_of(slot, use_view=use_view, with_memory=look.step_memory is not None)
        probs = action_probabilities(scores_for(decision, view, policy, look.llm_bias),
                                     policy.temperature)
        strategy[infoset] = probs["call" if "call" in probs else "bet"]
    return strategy


def measure(ctx: AgentContext) -> dict[str, Any]:
    """NashConv, exploitability (half of it), seat 0's value in self-play, and the strategy
    (keys ``"<card>:<history>"``) of the agent's policy; the module docstring has an example.
    """
    strategy = policy_strategy(ctx)
    return {"nash_conv": nash_conv(strategy), "exploitability": exploitability(strategy),
            "seat0_value": expected_value(strategy),
            "strategy": {f"{card}:{history}": p for (card, history), p in strategy.items()}}
