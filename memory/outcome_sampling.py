"""Learning from one sampled game: outcome-sampling Monte Carlo CFR, with baselines.

Counterfactual regret minimisation needs, at every information state of a player, the value
of each action weighted by how likely the *other* players and chance were to lead there.
An agent only sees the games it plays, so the values are estimated from sampled games
(outcome sampling, Lanctot et al. 2009): the game is played with a *behaviour* strategy
``b`` (the current strategy ``sigma`` mixed with some uniform exploration for the seats
being taught), and every estimate is divided by the probability ``q`` with which the
sampled actions were drawn, which makes it unbiased. In self-play the agent chose every
move of both seats, so it knows ``sigma`` and ``b`` at each of them: a
:class:`Decision` records them.

For a seat ``i`` being taught and its decision at history ``h`` (reached with probability
``pi_-i(h)`` by the other seats' strategies and chance, sampled with probability ``q(h)``),
walking the game from its end backwards:

- ``u(h, a)``: the sampled action's value is its baseline plus the importance-weighted
  error of the baseline, ``B(a) + (u(ha) - B(a)) / b(a)``; any other action's is its
  baseline ``B(a)`` (VR-MCCFR, Schmid et al. 2019; with baselines at 0 this is plain
  outcome sampling). ``u(h) = sum_a sigma(a) u(h, a)``;
- regret: ``R(I, a) += (u(h, a) - u(h)) * pi_-i(h) / q(h)`` (chance cancels in the ratio);
- average strategy: ``S(I, a) += pi_i(h) * sigma(a) / q(h)`` (stochastically weighted
  averaging).

Baselines move toward the value the sampled action turned out to have, for the seat that
took it (``B <- B + step * (u(ha) - B)``); values of the other seat are the negation
(two-player zero-sum games). Teaching both seats from every game (``seats=(0, 1)``, the
default of self-play) uses each game twice.

    >>> from memplay.memory.strategy_memory import StrategyMemory
    >>> mem = StrategyMemory()
    >>> pick = Decision(seat=0, key="s", actions=("a", "b"), strategy=(0.5, 0.5),
    ...                 behaviour=(0.5, 0.5), chosen=0)
    >>> learn_game(mem, [pick], {0: 1.0}, seats=[0])
    >>> mem.get("s").regrets, mem.get("s").average
    ([1.0, -1.0], [0.5, 0.5])
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from memplay.errors import MemoryStoreError
from memplay.memory.strategy_memory import StrategyMemory

__all__ = ["Decision", "learn_game"]


@dataclass(frozen=True)
class Decision:
    """One move of a sampled game, as the strategy memory needs it.

    Attributes:
        seat: The seat that moved.
        key: Its information state.
        actions: The actions of that state (the strategy's support, in memory's order).
        strategy: ``sigma``, the strategy the seat played there (regret matching, maybe
            mixed with the LLM's prior).
        behaviour: What the move was drawn from (``sigma`` with exploration).
        chosen: Index of the action taken.
        prior: The LLM's distribution over the actions when it was asked for this decision.

    >>> Decision(1, "k", ("fold", "call"), (0.5, 0.5), (0.5, 0.5), 1).prior is None
    True
    """

    seat: int
    key: str
    actions: tuple[str, ...]
    strategy: tuple[float, ...]
    behaviour: tuple[float, ...]
    chosen: int
    prior: tuple[float, ...] | None = None


def _prefix_reaches(decisions: Sequence[Decision], seat: int) -> list[tuple[float, float, float]]:
    """Before each decision: (reach of ``seat``'s own strategy, of the others', sampling)."""
    mine = others = sampled = 1.0
    out = []
    for d in decisions:
        out.append((mine, others, sampled))
        if d.seat == seat:
            mine *= d.strategy[d.chosen]
        else:
            others *= d.strategy[d.chosen]
        sampled *= d.behaviour[d.chosen]
    return out


def _teach_seat(memory: StrategyMemory, decisions: Sequence[Decision], seat: int,
                payoff: float, targets: dict[int, float]) -> None:
    """Regret and average-strategy updates of ``seat``'s states; baseline targets of every
    decision (value for the mover) are filled into ``targets`` when missing."""
    value = payoff  # estimate of the value below the current point, for `seat`
    reaches = _prefix_reaches(decisions, seat)
    for index in range(len(decisions) - 1, -1, -1):
        d, (mine, others, sampled) = decisions[index], reaches[index]
        row = memory.entry(d.key, d.actions)
        sign = 1.0 if d.seat == seat else -1.0
        values = [sign * b for b in row.baseline]
        values[d.chosen] += (value - values[d.chosen]) / d.behaviour[d.chosen]
        estimate = sum(p * v for p, v in zip(d.strategy, values))
        targets.setdefault(index, sign * value)
        if d.seat == seat:
            weight = others / sampled
            row.regrets[:] = [r + (v - estimate) * weight for r, v in zip(row.regrets, values)]
            row.average[:] = [s + mine * p / sampled for s, p in zip(row.average, d.strategy)]
        value = estimate


def learn_game(memory: StrategyMemory, decisions: Sequence[Decision],
               payoffs: Mapping[int, float], seats: Collection[int],
               baseline_step: float = 0.5) -> None:
    """Teach ``memory`` one sampled game: regrets and average strategy of every seat in
    ``seats`` (each needs its payoff), baselines, visits, the LLM's answers and the counts.

    The module docstring has an example; ``baseline_step=0`` keeps the baselines at 0.
    """
    missing = [s for s in seats if s not in payoffs]
    if missing:
        raise MemoryStoreError(f"no payoff for seat {missing[0]} (payoffs {dict(payoffs)}); "
                               "give one per seat taught")
    for d in decisions:
        if not 0 <= d.chosen < len(d.actions) or d.behaviour[d.chosen] <= 0.0:
            raise MemoryStoreError(f"decision at {d.key!r} chose action {d.chosen} with "
                                   f"behaviour {d.behaviour}: it could not have been sampled")
    targets: dict[int, float] = {}
    for seat in sorted(seats):
        _teach_seat(memory, decisions, seat, payoffs[seat], targets)
    for index, d in enumerate(decisions):
        row = memory.entry(d.key, d.actions)
        row.visits += 1
        if index in targets and baseline_step > 0:
            row.baseline[d.chosen] += baseline_step * (targets[index] - row.baseline[d.chosen])
        if d.prior is not None:
            row.prior_sum[:] = [s + p for s, p in zip(row.prior_sum, d.prior)]
            row.prior_count += 1
            memory.counts["model_prompts"] += 1
    memory.counts["games"] += 1
    memory.counts["decisions"] += len(decisions)
