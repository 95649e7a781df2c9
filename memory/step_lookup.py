"""How step memory answers for a (kind, context) it may never have seen: two rules.

A key is ``(kind, context)``: what was done, and the situation it was done in (a portable
view from the environment, or the whole state text; see docs/CONTRACTS.md "Portable views").
Both rules answer an exact hit from the table alone; they differ on everything else.

- ``"action"`` (the default; Neural Episodic Control, Pritzel et al. 2017): for an unseen
  pair, the stored contexts nearest to this one *that hold the same kind* are weighed by a
  kernel of their similarity, ``w = 1 / (2 - 2 sim + delta)`` (NEC's inverse-distance
  kernel on unit vectors) or ``w = sim``, and their Q-values averaged. The estimate says what
  it rests on: ``visits = 0`` (this pair was never tried), ``sim`` = the best neighbour's
  similarity and ``borrowed`` = the weighted mean visits of the neighbours, so a policy can
  trust it less and keep exploring.
- ``"state"`` (memplay before 0.2): a known context answers alone, untried kinds get
  ``q_init``; an unknown one averages its neighbours' whole tables, summing their visits.

    >>> nbrs = [Neighbour(1.0, {"right": Stat(0.5, 2)}), Neighbour(0.92, {"right": Stat(1.0, 4)})]
    >>> by_action(nbrs, "right", exact=None, k=5, threshold=0.9, kernel="similarity").q
    0.739...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["ActionValue", "Kernel", "Neighbour", "Stat", "by_action", "by_state", "weight"]

Kernel = Literal["inverse", "similarity"]
_DELTA = 1e-3  # NEC's kernel offset: an exact match does not get infinite weight


@dataclass(frozen=True)
class ActionValue:
    """What memory knows about one action in one situation.

    Attributes:
        q: Estimated return.
        visits: Times this exact (kind, context) was taken (0 when the value is borrowed).
        sim: Similarity of the evidence: 1.0 for the exact context, the best neighbour's
            similarity for a borrowed value, 0.0 when there is none.
        borrowed: Weighted mean visits of the neighbours a borrowed value came from (0.0
            for an exact one): evidence that discounts novelty without counting as a visit.

    >>> ActionValue(q=0.5, visits=2, sim=1.0).borrowed
    0.0
    """

    q: float
    visits: int
    sim: float
    borrowed: float = 0.0


@dataclass
class Stat:
    """Running Q and visit count of one (kind, context) in the table.

    >>> Stat(0.0, 0).visits
    0
    """

    q: float
    visits: int


@dataclass(frozen=True)
class Neighbour:
    """A stored context found near the query: its similarity and its table (kind -> Stat).

    >>> Neighbour(0.95, {}).sim
    0.95
    """

    sim: float
    table: Mapping[str, Stat]


def weight(sim: float, kernel: Kernel) -> float:
    """Kernel weight of a neighbour at cosine similarity ``sim``.

    >>> round(weight(1.0, "inverse"), 1), weight(0.5, "similarity")
    (1000.0, 0.5)
    """
    if kernel == "similarity":
        return max(sim, 1e-6)
    return 1.0 / (max(2.0 - 2.0 * sim, 0.0) + _DELTA)


def by_action(neighbours: Sequence[Neighbour], kind: str, *, exact: Stat | None, k: int,
              threshold: float, kernel: Kernel, q_init: float = 0.0,
              known: bool = False) -> ActionValue:
    """The ``"action"`` rule (see the module docstring). ``exact`` is the table entry of
    this very pair, ``known`` whether its context is stored at all.

    >>> by_action([], "up", exact=Stat(0.2, 3), k=5, threshold=0.9, kernel="inverse")
    ActionValue(q=0.2, visits=3, sim=1.0, borrowed=0.0)
    """
    if exact is not None and exact.visits > 0:
        return ActionValue(exact.q, exact.visits, 1.0)
    usable = [n for n in neighbours if n.sim >= threshold and kind in n.table][:k]
    if not usable:
        return ActionValue(q_init, 0, 1.0 if known else 0.0)
    weights = [weight(n.sim, kernel) for n in usable]
    total = sum(weights)
    q = sum(w * n.table[kind].q for w, n in zip(weights, usable)) / total
    visits = sum(w * n.table[kind].visits for w, n in zip(weights, usable)) / total
    return ActionValue(q, 0, max(n.sim for n in usable), visits)


def by_state(neighbours: Sequence[Neighbour], kinds: Sequence[str] | None, *, k: int,
             threshold: float, q_init: float = 0.0) -> dict[str, ActionValue]:
    """The ``"state"`` rule (see the module docstring); ``neighbours[0]`` with ``sim == 1``
    is the query's own context when it is stored. ``kinds=None`` answers every kind found.

    >>> mine = Neighbour(1.0, {"up": Stat(1.0, 1)})
    >>> by_state([mine], ["up", "down"], k=5, threshold=0.9)["down"]
    ActionValue(q=0.0, visits=0, sim=1.0, borrowed=0.0)
    """
    exact = neighbours[0] if neighbours and neighbours[0].sim >= 1.0 - 1e-6 else None
    pool = [exact] if exact is not None else [n for n in neighbours if n.sim >= threshold][:k]
    sums: dict[str, list[float]] = {}
    for n in pool:
        for kind, stat in n.table.items():
            acc = sums.setdefault(kind, [0.0, 0.0, 0.0, 0.0])  # w*q, w, visits, max sim
            acc[0] += max(n.sim, 1e-6) * stat.q
            acc[1] += max(n.sim, 1e-6)
            acc[2] += stat.visits
            acc[3] = max(acc[3], n.sim)
    found = {a: ActionValue(s[0] / s[1], int(s[2]), s[3]) for a, s in sums.items()}
    init = ActionValue(q_init, 0, 1.0 if exact is not None else 0.0)
    return {a: found.get(a, init) for a in (kinds if kinds is not None else found)}
