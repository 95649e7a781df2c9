"""A breadth-first Sokoban solver (optimal in moves) and corner-deadlock detection.

The state is (player cell, box cells); boxes pushed into a non-target corner are pruned, since
such a box can never move again. Small levels (a few boxes, ~30 floor cells) solve in
milliseconds; ``max_states`` bounds the search on larger ones.

    >>> from memplay.environments.sokoban.level import SokobanLevel
    >>> solve(SokobanLevel.from_rows(["######", "#@$ .#", "######"]))
    ['right', 'right']
"""

from __future__ import annotations

from collections import deque

from memplay.environments.sokoban.level import MOVES, Cell, SokobanLevel

__all__ = ["is_corner_deadlock", "push", "solve"]

State = tuple[Cell, frozenset[Cell]]


def push(level: SokobanLevel, state: State, move: str) -> State | None:
    """Apply a move to (player, boxes); None when it is blocked by a wall or two boxes.

    >>> lvl = SokobanLevel.from_rows(["#####", "#@$.#", "#####"])
    >>> push(lvl, (lvl.player, lvl.boxes), "right")
    ((1, 2), frozenset({(1, 3)}))
    """
    (r, c), boxes = state
    dr, dc = MOVES[move]
    nxt = (r + dr, c + dc)
    if nxt in level.walls:
        return None
    if nxt not in boxes:
        return nxt, boxes
    beyond = (nxt[0] + dr, nxt[1] + dc)
    if beyond in level.walls or beyond in boxes:
        return None
    return nxt, (boxes - {nxt}) | {beyond}


def is_corner_deadlock(level: SokobanLevel, boxes: frozenset[Cell]) -> bool:
    """True if some box off-target has walls on two adjacent sides (it can never move again).

    >>> lvl = SokobanLevel.from_rows(["#####", "#@ .#", "#$  #", "#####"])
    >>> is_corner_deadlock(lvl, lvl.boxes)
    True
    """
    for r, c in boxes - level.targets:
        vertical = (r - 1, c) in level.walls or (r + 1, c) in level.walls
        horizontal = (r, c - 1) in level.walls or (r, c + 1) in level.walls
        if vertical and horizontal:
            return True
    return False


def solve(level: SokobanLevel, start: State | None = None,
          max_states: int = 200_000) -> list[str] | None:
    """Shortest move list that puts every box on a target; None if none within ``max_states``.

    >>> from memplay.environments.sokoban.files import load_levels
    >>> len(solve(load_levels()[0]))
    1
    """
    first: State = start if start is not None else (level.player, level.boxes)
    parents: dict[State, tuple[State, str] | None] = {first: None}
    queue = deque([first])
    while queue and len(parents) <= max_states:
        state = queue.popleft()
        if state[1] == level.targets:
            return _unwind(parents, state)
        for move in MOVES:
            nxt = push(level, state, move)
            if nxt is None or nxt in parents:
                continue
            if nxt[1] != state[1] and is_corner_deadlock(level, nxt[1]):
                continue
            parents[nxt] = (state, move)
            queue.append(nxt)
    return None


def _unwind(parents: dict[State, tuple[State, str] | None], state: State) -> list[str]:
    moves: list[str] = []
    link = parents[state]
    while link is not None:
        state, move = link
        moves.append(move)
        link = parents[state]
    return moves[::-1]
