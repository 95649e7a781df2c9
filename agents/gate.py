"""The decision gate's arithmetic: when can memory's values settle a choice without the LLM?

The policy scores an action ``a`` as ``term(a) + M(a)``: the LLM's weighted term plus what
memory adds (the Q prior and the novelty bonus, :func:`memplay.agents.policy.memory_scores`).
When the LLM term is bounded, every term lies within one interval of width ``reach`` (the
term's spread at most), so an action whose memory score trails the best one's by more than
``reach`` cannot win whatever the model says; when every other action trails that much, the
choice is settled and the model need not be asked. Greedy choice (temperature 0) is then exact.
Sampling at temperature ``T`` is settled up to ``epsilon``: with a margin of
``reach + T * ln(n / epsilon)`` every other action keeps a probability below ``epsilon / n``,
so the best one is chosen with probability at least ``1 - epsilon`` whatever the model says.

Memory scores come as intervals (``low``, ``high``) because parallel episodes in the same state
count each other's picks as tries: a pick not yet made can lower an action's novelty bonus,
never raise it.

    >>> verdict = judge({"a": 3.0, "b": 0.0, "c": 2.5}, {"a": 3.0, "b": 0.0, "c": 2.5}, 1.0)
    >>> verdict.settled, sorted(verdict.hopeless)
    (None, ['b'])
    >>> judge({"a": 3.0, "b": 0.0}, {"a": 3.0, "b": 0.0}, 1.0).settled
    'a'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["SAFETY", "Verdict", "judge", "margin"]

# Scores are sums of floats added in different orders on the gated and the ungated path: a
# margin must beat the bound by more than rounding can move it.
SAFETY = 1e-9


@dataclass(frozen=True)
class Verdict:
    """What memory alone says about one decision.

    Attributes:
        settled: The action that wins whatever the LLM says (None when the LLM can still
            change the choice).
        hopeless: Actions that cannot win (greedy) or keep less than ``epsilon / n`` of the
            probability (sampling) whatever the LLM says: not worth scoring.

    >>> Verdict(None, frozenset()).settled is None
    True
    """

    settled: str | None
    hopeless: frozenset[str]


def margin(reach: float, temperature: float, actions: int, epsilon: float) -> float:
    """How far an action's memory score must trail the best one's for the LLM not to matter.

    >>> margin(2.0, 0.0, 4, 0.01)
    2.0
    >>> round(margin(2.0, 0.5, 4, 0.01), 3)
    4.996
    """
    if temperature == 0 or actions < 2:
        return reach
    return reach + temperature * math.log(actions / epsilon)


def judge(low: Mapping[str, float], high: Mapping[str, float], needed: float) -> Verdict:
    """The settled action and the hopeless ones, from each action's memory score interval.

    ``low[a] <= high[a]`` bound action ``a``'s memory score; ``needed`` is :func:`margin`.
    An action is hopeless when the best lower bound beats its upper bound by more than
    ``needed``; the best action is settled when every other one is hopeless. Ties never
    settle: the LLM would break them.

    >>> judge({"a": 1.0, "b": 1.0}, {"a": 1.0, "b": 1.0}, 0.0).settled is None
    True
    >>> judge({"a": 2.0, "b": 0.0}, {"a": 2.0, "b": 1.5}, 1.0).hopeless
    frozenset()
    """
    if len(low) < 2:
        only = next(iter(low), None)
        return Verdict(only, frozenset())
    best = max(low, key=lambda a: low[a])
    hopeless = frozenset(a for a in low
                         if a != best and low[best] - high[a] > needed + SAFETY)
    settled = best if len(hopeless) == len(low) - 1 else None
    return Verdict(settled, hopeless)
