"""A seeded Sokoban level generator that only emits levels the solver can solve.

It draws a walled room with a few inner walls, places targets, boxes (never in a dead corner)
and the player at random, and keeps the first layout the breadth-first solver solves in at
least ``min_moves`` moves.

    >>> import numpy as np
    >>> level = generate_level(np.random.default_rng(0))
    >>> from memplay.environments.sokoban.solver import solve
    >>> solve(level) is not None
    True
"""

from __future__ import annotations

import numpy as np

from memplay.environments.sokoban.level import Cell, SokobanLevel
from memplay.environments.sokoban.solver import is_corner_deadlock, solve
from memplay.errors import ConfigError, EnvironmentFault

__all__ = ["check_generator_args", "generate_level"]


def generate_level(rng: np.random.Generator, height: int = 7, width: int = 7,
                   num_boxes: int = 2, max_walls: int = 3, min_moves: int = 4,
                   tries: int = 500) -> SokobanLevel:
    """Draw random layouts from ``rng`` until one is solvable in >= ``min_moves`` moves.

    Args:
        rng: Source of randomness (the env passes its ``np_random``).
        height, width: Room size including the outer wall (interior is 2 smaller).
        num_boxes: Boxes (and targets). max_walls: Most inner wall cells.
        min_moves: Reject levels solved in fewer moves. tries: Layouts drawn before giving up.

        >>> generate_level(np.random.default_rng(1), num_boxes=1).width
        7
    """
    check_generator_args(height, width, num_boxes, max_walls)
    for attempt in range(tries):
        level = _draw(rng, height, width, num_boxes, max_walls, f"generated-{attempt}")
        if level is None:
            continue
        solution = solve(level, max_states=50_000)
        if solution is not None and len(solution) >= min_moves:
            return level
    raise EnvironmentFault(f"no solvable {height}x{width} Sokoban level with {num_boxes} boxes "
                           f"in {tries} tries; use a bigger room, fewer boxes or lower min_moves")


def check_generator_args(height: int, width: int, num_boxes: int, max_walls: int) -> None:
    """Raise ConfigError if the generator settings are not ints or cannot fit in the room.

    >>> check_generator_args(7, 7, 2, 3)
    """
    for label, value, low in (("height", height, 4), ("width", width, 4),
                              ("num_boxes", num_boxes, 1), ("max_walls", max_walls, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"Sokoban generator: {label}={value!r} must be an int >= {low}")
    interior = (height - 2) * (width - 2)
    if 2 * num_boxes + 1 + max_walls > interior:
        raise ConfigError(f"Sokoban generator: {num_boxes} boxes, their targets, the player and "
                          f"{max_walls} walls do not fit in a {height}x{width} room; enlarge it")


def _draw(rng: np.random.Generator, height: int, width: int, num_boxes: int,
          max_walls: int, name: str) -> SokobanLevel | None:
    border = {(r, c) for r in range(height) for c in range(width)
              if r in (0, height - 1) or c in (0, width - 1)}
    interior = [(r, c) for r in range(1, height - 1) for c in range(1, width - 1)]
    order = [interior[i] for i in rng.permutation(len(interior))]
    walls_n = int(rng.integers(0, max_walls + 1))
    walls = frozenset(border | set(order[:walls_n]))
    free = order[walls_n:]
    targets = frozenset(free[:num_boxes])
    boxes = frozenset(free[num_boxes:2 * num_boxes])
    player: Cell = free[2 * num_boxes]
    level = SokobanLevel(walls, targets, boxes, player, height, width, name)
    return None if is_corner_deadlock(level, boxes) else level
