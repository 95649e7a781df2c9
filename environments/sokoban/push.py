"""Push-level analysis of a Sokoban state: which pushes the player can reach and what each does.

A push is (box cell, direction). It is *reachable* when the player can walk to the cell behind
the box without moving a box, and the cell beyond the box is free. Its *effect* is read against
the push distances of the level (how many pushes a lone box needs from a cell to a target,
found once per level by pulling a box back from every target): it puts the box onto a free
target, takes it off one, brings it nearer a free target, farther, or neither; or it
*dead-locks* the box. Two dead-locks are detected, both provable:

- the box lands on a *dead square*: no target can be reached from there by any pushes (the
  corners, and the cells along a wall that has no target, are the usual ones);
- the box *freezes*: it can move along neither axis (walls, dead squares on both sides, or
  other frozen boxes block it), off a target.

Nothing here depends on coordinates or level size, so equal effects on two levels read alike.

    >>> lvl = SokobanLevel.from_rows(["######", "#@$-.#", "#----#", "######"])
    >>> [(p.box, p.move, p.effect) for p in reachable_pushes(lvl, lvl.player, lvl.boxes)]
    [((1, 2), 'right', 'nearer'), ((1, 2), 'left', 'deadlock')]
    >>> sorted(dead_squares(lvl))
    [(1, 1), (2, 1), (2, 2), (2, 3), (2, 4)]
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from itertools import permutations

from memplay.environments.sokoban.level import MOVES, Cell, SokobanLevel

__all__ = ["EFFECTS", "Push", "dead_squares", "is_deadlock", "matching_distance",
           "push_distances", "push_effect", "reachable_pushes", "walk_distances"]

# every effect a push can have, best first (a view's walk moves head for the best one)
EFFECTS = ("onto target", "nearer", "sideways", "off target", "farther", "deadlock")
_FAR = 10**6  # the push distance of a cell no free target can be reached from


@dataclass(frozen=True)
class Push:
    """One reachable push: the box, the direction, the walk to its start, and its effect.

    ``distance`` is the box's push distance to the nearest free target after the push
    (``None`` when no free target can be reached from there).

    >>> Push((1, 2), "right", 0, "nearer", 1).effect
    'nearer'
    """

    box: Cell
    move: str
    walk: int
    effect: str
    distance: int | None


def _step(cell: Cell, move: str, times: int = 1) -> Cell:
    dr, dc = MOVES[move]
    return cell[0] + times * dr, cell[1] + times * dc


def _inside(level: SokobanLevel, cell: Cell) -> bool:
    return 0 <= cell[0] < level.height and 0 <= cell[1] < level.width


@lru_cache(maxsize=512)
def push_distances(level: SokobanLevel) -> dict[Cell, dict[Cell, int]]:
    """For each target, the pushes a lone box needs from each cell to reach it.

    Found backwards: a box reaches ``p`` from ``q = p - d`` when ``q`` and the player's cell
    ``q - d`` are not walls.

    >>> lvl = SokobanLevel.from_rows(["######", "#@$-.#", "######"])
    >>> push_distances(lvl)[(1, 4)]
    {(1, 4): 0, (1, 3): 1, (1, 2): 2}
    """
    maps = {}
    for target in sorted(level.targets):
        dist, queue = {target: 0}, deque([target])
        while queue:
            cell = queue.popleft()
            for move in MOVES:
                source, stand = _step(cell, move, -1), _step(cell, move, -2)
                if source in dist or not (_inside(level, stand) and _inside(level, source)):
                    continue
                if source in level.walls or stand in level.walls:
                    continue
                dist[source] = dist[cell] + 1
                queue.append(source)
        maps[target] = dist
    return maps


@lru_cache(maxsize=512)
def dead_squares(level: SokobanLevel) -> frozenset[Cell]:
    """The floor cells from which a box can never be pushed onto any target.

    >>> lvl = SokobanLevel.from_rows(["#####", "#@-.#", "#-$-#", "#####"])
    >>> sorted(dead_squares(lvl))  # the corner and the bottom row
    [(1, 1), (2, 1), (2, 2), (2, 3)]
    """
    live = set().union(*push_distances(level).values())
    return frozenset((r, c) for r in range(level.height) for c in range(level.width)
                     if (r, c) not in level.walls and (r, c) not in live
                     and _inside(level, (r, c)))


def _blocked(level: SokobanLevel, boxes: frozenset[Cell], box: Cell, axis: tuple[str, str],
             held: frozenset[Cell]) -> bool:
    """Whether ``box`` cannot move along ``axis``: a wall at either end, dead squares at both,
    or a box at either end that is itself frozen (``held``: boxes treated as walls)."""
    ends = [_step(box, move) for move in axis]
    if any(end in level.walls or end in held for end in ends):
        return True
    dead = dead_squares(level)
    if all(end in dead for end in ends):
        return True
    return any(end in boxes and _frozen(level, boxes, end, held | {box}) for end in ends)


def _frozen(level: SokobanLevel, boxes: frozenset[Cell], box: Cell,
            held: frozenset[Cell] = frozenset()) -> bool:
    return (_blocked(level, boxes, box, ("left", "right"), held)
            and _blocked(level, boxes, box, ("up", "down"), held))


def is_deadlock(level: SokobanLevel, boxes: frozenset[Cell],
                around: frozenset[Cell] | None = None) -> bool:
    """True when a box off a target sits on a dead square or is frozen (the level is lost).

    ``around`` limits the freeze test to these boxes (the one just pushed and its
    neighbours); by default every box is tested.

    >>> lvl = SokobanLevel.from_rows(["######", "#@-.-#", "#-$--#", "######"])
    >>> is_deadlock(lvl, lvl.boxes)  # along the bottom wall, which has no target
    True
    """
    loose = boxes - level.targets
    if loose & dead_squares(level):
        return True
    if around is None:
        return any(_frozen(level, boxes, box) for box in loose)
    # a pushed box can freeze itself, or an off-target neighbour it now blocks
    near = frozenset(_step(cell, move) for cell in around for move in MOVES) | around
    return any(_frozen(level, boxes, box) for box in near & loose)


def walk_distances(level: SokobanLevel, boxes: frozenset[Cell], start: Cell) -> dict[Cell, int]:
    """Steps the player needs from ``start`` to every cell it can reach without pushing.

    >>> lvl = SokobanLevel.from_rows(["#####", "#@$.#", "#####"])
    >>> walk_distances(lvl, lvl.boxes, lvl.player)
    {(1, 1): 0}
    """
    dist, queue = {start: 0}, deque([start])
    while queue:
        cell = queue.popleft()
        for move in MOVES:
            nxt = _step(cell, move)
            if nxt not in dist and nxt not in level.walls and nxt not in boxes:
                dist[nxt] = dist[cell] + 1
                queue.append(nxt)
    return dist


def matching_distance(level: SokobanLevel, boxes: frozenset[Cell]) -> int:
    """The fewest pushes that could put every box on its own target, each box alone (the
    minimum-cost matching of boxes to targets over push distances; a lower bound on the
    pushes left). Exact up to 6 boxes, greedy beyond.

    >>> lvl = SokobanLevel.from_rows(["#######", "#@$-.-#", "#-$-.-#", "#######"])
    >>> matching_distance(lvl, lvl.boxes)
    4
    """
    maps = push_distances(level)
    order, targets = sorted(boxes), sorted(level.targets)
    cost = [[maps[t].get(b, _FAR) for t in targets] for b in order]
    if len(order) <= 6:
        return min(sum(cost[i][j] for i, j in enumerate(perm))
                   for perm in permutations(range(len(targets)), len(order)))
    total, free = 0, set(range(len(targets)))
    for row in sorted(cost, key=min):
        best = min(free, key=row.__getitem__)
        total, free = total + row[best], free - {best}
    return total


def push_effect(level: SokobanLevel, boxes: frozenset[Cell], box: Cell,
                move: str) -> tuple[str, int | None]:
    """The effect of pushing ``box`` one cell toward ``move`` (see the module docstring),
    and the matching distance (pushes left, at least) afterwards.

    >>> lvl = SokobanLevel.from_rows(["#####", "#@$.#", "#####"])
    >>> push_effect(lvl, lvl.boxes, (1, 2), "right")
    ('onto target', 0)
    """
    to = _step(box, move)
    after = (boxes - {box}) | {to}
    if is_deadlock(level, after, frozenset({to})):
        return "deadlock", None
    before_d, after_d = matching_distance(level, boxes), matching_distance(level, after)
    shown = None if after_d >= _FAR else after_d
    if after_d < before_d:
        return ("onto target" if to in level.targets else "nearer"), shown
    if box in level.targets and to not in level.targets:
        return "off target", shown
    return ("sideways" if after_d == before_d else "farther"), shown


def reachable_pushes(level: SokobanLevel, player: Cell, boxes: frozenset[Cell]) -> list[Push]:
    """Every push the player can walk to and make now, nearest walk first.

    >>> lvl = SokobanLevel.from_rows(["#####", "#@$.#", "#####"])
    >>> reachable_pushes(lvl, lvl.player, lvl.boxes)
    [Push(box=(1, 2), move='right', walk=0, effect='onto target', distance=0)]
    """
    walk = walk_distances(level, boxes, player)
    pushes = []
    for box in sorted(boxes):
        for move in MOVES:
            stand, beyond = _step(box, move, -1), _step(box, move)
            if stand not in walk or beyond in level.walls or beyond in boxes:
                continue
            effect, distance = push_effect(level, boxes, box, move)
            pushes.append(Push(box, move, walk[stand], effect, distance))
    return sorted(pushes, key=lambda p: (p.walk, p.box, list(MOVES).index(p.move)))
