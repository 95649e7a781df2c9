"""The ``mccfr`` variant: regret matching over information states, learned from sampled games.

Method: outcome-sampling Monte Carlo counterfactual regret minimisation (Lanctot, Waugh,
Zinkevich and Bowling 2009) with per-action baselines (VR-MCCFR, Schmid et al. 2019), in a
strategy memory (:mod:`memplay.memory.strategy_memory`). In self-play the agent plays both
seats, so it knows with which probability each move of a game was drawn: exactly what the
sampled counterfactual values need (:mod:`memplay.memory.outcome_sampling`). The *average*
strategy converges to a Nash equilibrium of a two-player zero-sum game; the current one, like
any greedy self-play policy, may cycle. The average is what frozen runs play, what is measured
(:mod:`memplay.agents.selfplay_measure`) and what the memory archive carries.

One decision (the ``regret_act`` node), for the seat to play:

- its information state: the env's portable view (``info["view"]["state"]``, actions grouped
  by their ``kind``, so TicTacToe's eight symmetric boards are one state) or else the state
  text, keyed with the seat (:func:`~memplay.environments.two_player.game_tree.infostate_key`);
- ``sigma = (n * RM + w * P) / (n + w)``: regret matching ``RM`` after ``n`` visits, mixed
  with the LLM's distribution ``P`` over the actions (the softmax of its log-probabilities,
  averaged over its answers there) at ``w = strategy.prior_weight``. The LLM is asked only
  while the state has fewer than ``strategy.settle_visits`` visits (never with ``w = 0``):
  a settled state's decision costs no model call;
- a seat being taught samples from ``(1 - eps) * sigma + eps * uniform``
  (``strategy.exploration``); the other seat, and every seat outside self-play's teaching,
  from ``sigma``. Frozen runs play the average strategy (its most likely action at
  ``policy.temperature`` 0).

``update_strategy`` (end of batch) teaches memory every finished game from the seats'
payoffs (self-play: the final mover's reward and its negation; a zero-sum game).

    >>> from memplay.agents.config import AgentConfig
    >>> AgentConfig(variant="mccfr", self_play=True).spec.pipelines()[0]
    ['observe', 'regret_act', 'env_step']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from memplay.agents.context import AgentContext
from memplay.agents.policy import llm_scores, log_softmax
from memplay.agents.prompts import build_messages
from memplay.agents.state import AgentState, Slot, active, replace_slots
from memplay.environments.two_player.game_tree import Policy, infostate_key
from memplay.errors import ConfigError, MemoryStoreError
from memplay.memory.outcome_sampling import Decision, learn_game
from memplay.memory.strategy_memory import StrategyMemory, normalised, regret_matching

__all__ = ["InfostatePoint", "average_policy", "game_payoffs", "infostate_of",
           "open_strategy_memory", "regret_act", "strategy_with_prior", "update_strategy"]

Update = dict[str, Any]


@dataclass(frozen=True)
class InfostatePoint:
    """Where a slot decides: its seat, information state key, the actions of that state
    (kinds, sorted) and the admissible moves of each kind.

    >>> infostate_of(Slot(0, state="s", admissible=["a", "b"], seat=1)).key
    'player 1: s'
    """

    seat: int
    key: str
    kinds: tuple[str, ...]
    moves: dict[str, list[str]]


def infostate_of(slot: Slot) -> InfostatePoint:
    """The slot's information state: the portable view when the env gives one (actions
    grouped by kind), else the state text and the admissible actions.

    >>> view = {"state": "board X..|...|..., O to play",
    ...         "actions": {"mark 0 1": {"kind": "cell 1", "context": "c"},
    ...                     "mark 1 0": {"kind": "cell 1", "context": "c"}}}
    >>> infostate_of(Slot(0, view=view, admissible=["mark 0 1", "mark 1 0"], seat=1)).moves
    {'cell 1': ['mark 0 1', 'mark 1 0']}
    """
    seat = slot.seat if slot.seat is not None else 0
    view = slot.view or {}
    entries = view.get("actions") or {}
    context = str(view["state"]) if entries and "state" in view else slot.state
    moves: dict[str, list[str]] = {}
    for move in slot.admissible:
        kind = str(entries[move]["kind"]) if move in entries else move
        moves.setdefault(kind, []).append(move)
    # sorted: symmetric boards list their moves in other orders, memory needs one
    return InfostatePoint(seat, infostate_key(seat, context), tuple(sorted(moves)), moves)


def strategy_with_prior(regrets: Sequence[float], visits: int,
                        prior: Sequence[float] | None, weight: float) -> list[float]:
    """``(n * RM + w * prior) / (n + w)`` after ``n`` visits; regret matching alone without
    a prior.

    >>> strategy_with_prior([3.0, -1.0], 2, [0.0, 1.0], 2.0)
    [0.5, 0.5]
    >>> strategy_with_prior([0.0, 0.0], 0, None, 2.0)  # unknown state, no prior: uniform
    [0.5, 0.5]
    """
    matched = regret_matching(regrets)
    if prior is None or weight <= 0.0:
        return matched
    return [(visits * m + weight * p) / (visits + weight) for m, p in zip(matched, prior)]


def _teaching(ctx: AgentContext, slot: Slot, seat: int) -> bool:
    """Is ``seat`` taught by this game (so it explores)? Never in frozen runs."""
    if ctx.config.frozen:
        return False
    if ctx.config.self_play.enabled and ctx.config.strategy.teach == "alternate":
        return seat == slot.episode % 2
    return True


def _needs_llm(ctx: AgentContext, memory: StrategyMemory, point: InfostatePoint) -> bool:
    cfg = ctx.config.strategy
    if cfg.prior_weight <= 0.0:
        return False
    row = memory.get(point.key)
    if ctx.config.frozen:  # frozen runs play the average; the LLM only where memory is blank
        return row is None
    return row is None or row.visits < cfg.settle_visits


def _ask_llm(ctx: AgentContext, slots: list[Slot], points: list[InfostatePoint]
             ) -> list[list[float]]:
    """The LLM's distribution over each point's kinds (one batched call)."""
    prompts = [build_messages(s, ctx.config.prompt) for s in slots]
    views = llm_scores(ctx.llm, prompts, [s.admissible for s in slots], ctx.config.policy,
                       [s.session for s in slots])
    out = []
    for view, point in zip(views, points):
        probs = {a: math.exp(v) for a, v in log_softmax(view.scores).items()}
        out.append(normalised([sum(probs[m] for m in point.moves[k]) for k in point.kinds]))
    return out


def _aligned(memory: StrategyMemory, point: InfostatePoint) -> InfostatePoint:
    """The point with its kinds in memory's order (a stored state keeps its action list)."""
    row = memory.get(point.key)
    if row is None or tuple(row.actions) == point.kinds:
        return point
    if sorted(row.actions) != sorted(point.kinds):
        raise MemoryStoreError(f"information state {point.key!r} was stored with actions "
                               f"{row.actions}, now met with {list(point.kinds)}")
    return InfostatePoint(point.seat, point.key, tuple(row.actions), point.moves)


def _play(ctx: AgentContext, memory: StrategyMemory, slot: Slot, point: InfostatePoint,
          asked: list[float] | None) -> Slot:
    """Choose the slot's move; record its decision (unless frozen)."""
    cfg, row, n = ctx.config.strategy, memory.get(point.key), len(point.kinds)
    prior = row.prior() if row is not None else None
    if asked is not None:
        count = row.prior_count if row is not None else 0
        summed = row.prior_sum if row is not None else [0.0] * n
        prior = [(s + a) / (count + 1) for s, a in zip(summed, asked)]
    sigma = strategy_with_prior(row.regrets if row else [0.0] * n, row.visits if row else 0,
                                prior, cfg.prior_weight)
    if ctx.config.frozen:
        played = normalised(row.average) if row is not None and sum(row.average) > 0 else sigma
        if ctx.config.policy.temperature == 0:
            best = max(range(n), key=lambda i: played[i])
            played = [float(i == best) for i in range(n)]
        return slot.but(action=_move(ctx, point, _draw(ctx, played)))
    behaviour = sigma
    if _teaching(ctx, slot, point.seat):
        behaviour = [(1 - cfg.exploration) * p + cfg.exploration / n for p in sigma]
    chosen = _draw(ctx, behaviour)
    decision = Decision(point.seat, point.key, point.kinds, tuple(sigma), tuple(behaviour),
                        chosen, tuple(asked) if asked is not None else None)
    return slot.but(action=_move(ctx, point, chosen), decisions=(*slot.decisions, decision))


def _draw(ctx: AgentContext, probs: Sequence[float]) -> int:
    return ctx.rng.choices(range(len(probs)), weights=probs)[0]


def _move(ctx: AgentContext, point: InfostatePoint, index: int) -> str:
    """A move of the chosen kind (symmetric moves of one kind are equally good)."""
    moves = point.moves[point.kinds[index]]
    return moves[0] if len(moves) == 1 else ctx.rng.choice(moves)


def regret_act(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """Choose one move per active slot from the strategy memory (see the module docstring).

    LLM failures end the affected episodes as errored, as in ``act``.
    """
    ctx = runtime.context
    memory = _memory(ctx)
    slots = [s for s in active(state["slots"]) if s.admissible]
    points = [_aligned(memory, infostate_of(s)) for s in slots]
    ask = [i for i, p in enumerate(points) if _needs_llm(ctx, memory, p)]
    answers: dict[int, list[float]] = {}
    if ask:
        try:
            found = _ask_llm(ctx, [slots[i] for i in ask], [points[i] for i in ask])
        except Exception as exc:  # any backend fault is isolated to its episodes
            failed = [slots[i].but(llm_faults=slots[i].llm_faults + 1)
                      .failed(f"LLM failed: {exc}") for i in ask]
            return {"slots": replace_slots(state["slots"], failed)}
        answers = dict(zip(ask, found))
    chosen = [_play(ctx, memory, s, p, answers.get(i)) for i, (s, p) in
              enumerate(zip(slots, points))]
    return {"slots": replace_slots(state["slots"], chosen)}


def _memory(ctx: AgentContext) -> StrategyMemory:
    if not isinstance(ctx.strategy_memory, StrategyMemory):
        raise ConfigError(f"variant {ctx.config.variant!r} plays from a strategy memory, but the "
                          "context has none; build the context with Agent.context (or set "
                          "AgentContext.strategy_memory)")
    return ctx.strategy_memory


def game_payoffs(slot: Slot, self_play: bool) -> dict[int, float]:
    """Each seat's payoff: in self-play the last mover's reward and its negation (0 each when
    the game was cut short); otherwise the episode's reward for the agent's seat.

    >>> from memplay.agents.state import StepRecord
    >>> game_payoffs(Slot(0, steps=[StepRecord("o", "bet", 0.0, seat=0),
    ...                             StepRecord("o", "fold", -1.0, seat=1)], done=True), True)
    {1: -1.0, 0: 1.0}
    """
    seats = {d.seat for d in slot.decisions} | {s.seat for s in slot.steps if s.seat is not None}
    if not self_play:
        return dict.fromkeys(seats or {0}, slot.reward)
    if slot.truncated or not slot.steps:
        return {0: 0.0, 1: 0.0}
    last = slot.steps[-1]
    mover = last.seat if last.seat is not None else 0
    return {mover: last.reward, 1 - mover: -last.reward}


def update_strategy(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """End of batch: unless frozen, teach the strategy memory every finished game."""
    ctx = runtime.context
    if ctx.config.frozen:
        return {}
    memory, cfg = _memory(ctx), ctx.config
    for slot in state["slots"]:
        if slot.error is not None or not slot.decisions:
            continue
        payoffs = game_payoffs(slot, cfg.self_play.enabled)
        seats = [s for s in payoffs if _teaching(ctx, slot, s)]
        learn_game(memory, slot.decisions, payoffs, seats, cfg.strategy.baseline_step)
    return {}


def open_strategy_memory(memory_dir: str | Path) -> StrategyMemory:
    """The strategy memory of a memory directory (``<memory>/strategy``), or a new one.

    >>> import tempfile
    >>> len(open_strategy_memory(tempfile.mkdtemp()))
    0
    """
    return StrategyMemory.open(Path(memory_dir) / "strategy")


def average_policy(memory: StrategyMemory) -> Policy:
    """The average strategy as ``policy(key, actions) -> probabilities`` (uniform where
    memory never averaged), in the order of ``actions``.

    >>> mem = StrategyMemory(); mem.entry("k", ["a", "b"]).average[:] = [3.0, 1.0]
    >>> average_policy(mem)("k", ["b", "a"])
    [0.25, 0.75]
    """
    def policy(key: str, actions: Sequence[str]) -> list[float]:
        row = memory.get(key)
        if row is None:
            return [1.0 / len(actions)] * len(actions)
        probs = dict(zip(row.actions, normalised(row.average)))
        return [probs.get(a, 0.0) for a in actions]
    return policy
