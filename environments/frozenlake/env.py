"""FrozenLake as a text game, over Gymnasium's ``FrozenLakeEnv`` (its maps, slip and rewards).

The observation is the grid with the agent drawn as ``A`` plus "You are at row r, column c";
actions are ``left``, ``down``, ``right``, ``up``. ``info["optimal_steps"]`` is the length of
the shortest hole-free path from the start (None when the goal cannot be reached).

Portable view (``info["view"]``, see docs/CONTRACTS.md): an egocentric window of side
``2*view_radius+1`` around the agent (``A`` you, ``F`` ice, the start counts as ice, ``H`` hole,
``G`` goal, ``#`` beyond the edge; rows joined by ``|``) and the offset to the nearest goal in
words, distances of ``view_goal_clip`` or more written ``N+``. Each move's kind is the move
itself; its context names the cell the move leads to (edge, ice, hole or goal) and repeats the
state. No coordinates and no map size appear, so the same surroundings read the same on any map.

    >>> env = FrozenLakeEnv()
    >>> obs, info = env.reset(seed=0)
    >>> info["optimal_steps"], env.shortest_path()
    (6, ['down', 'down', 'right', 'down', 'right', 'right'])
    >>> info["view"]["state"]
    'window ###|#AF|#FH; goal 3+ down, 3+ right'
    >>> info["view"]["actions"]["left"]
    {'kind': 'left to edge', 'context': 'window ###|#AF|#FH; goal 3+ down, 3+ right'}
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from gymnasium.envs.toy_text.frozen_lake import MAPS, generate_random_map
from gymnasium.envs.toy_text.frozen_lake import FrozenLakeEnv as GymFrozenLake

from memplay.environments.core import Outcome, TextEnv
from memplay.environments.view import build_view, check_view_option, grid_window, offset_words
from memplay.errors import ConfigError

__all__ = ["ACTIONS", "FrozenLakeEnv", "grid_shortest_path", "validate_desc"]

ACTIONS = ("left", "down", "right", "up")  # index = Gymnasium's action number
_MOVES = {"left": (0, -1), "down": (1, 0), "right": (0, 1), "up": (-1, 0)}
_ALIASES = {"l": "left", "d": "down", "r": "right", "u": "up", "west": "left", "south": "down",
            "east": "right", "north": "up"}
_LEGEND = "Legend: A = you, S = start, F = frozen ice (safe), H = hole, G = goal."
_CELL_WORDS = {"#": "edge", "F": "ice", "H": "hole", "G": "goal"}


def validate_desc(desc: Sequence[str]) -> list[str]:
    """Check a custom map: equal-length rows of S/F/H/G with one S and at least one G.

    >>> validate_desc(["SF", "HG"])
    ['SF', 'HG']
    """
    rows = [str(r) for r in desc] if isinstance(desc, (list, tuple)) else []
    if not rows or len({len(r) for r in rows}) != 1 or not rows[0]:
        raise ConfigError(f"desc={desc!r} must be a non-empty list of equal-length strings, "
                          "e.g. ['SFFF', 'FHFH', 'FFFH', 'HFFG']")
    text = "".join(rows)
    if set(text) - set("SFHG") or text.count("S") != 1 or "G" not in text:
        raise ConfigError(f"desc={rows!r} may only use S, F, H, G with exactly one S and at "
                          "least one G")
    return rows


def grid_shortest_path(desc: Sequence[str], start: tuple[int, int]) -> list[str] | None:
    """Breadth-first search for the fewest moves from ``start`` to a G, avoiding holes.

    >>> grid_shortest_path(["SF", "HG"], (0, 0))
    ['right', 'down']
    >>> grid_shortest_path(["SH", "HG"], (0, 0)) is None
    True
    """
    parents: dict[tuple[int, int], tuple[tuple[int, int], str] | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if desc[cell[0]][cell[1]] == "G":
            return _unwind(parents, cell)
        for name, (dr, dc) in _MOVES.items():
            nxt = (cell[0] + dr, cell[1] + dc)
            inside = 0 <= nxt[0] < len(desc) and 0 <= nxt[1] < len(desc[0])
            if inside and nxt not in parents and desc[nxt[0]][nxt[1]] != "H":
                parents[nxt] = (cell, name)
                queue.append(nxt)
    return None


def _unwind(parents: dict[tuple[int, int], Any], cell: tuple[int, int]) -> list[str]:
    path: list[str] = []
    while parents[cell] is not None:
        cell, move = parents[cell]
        path.append(move)
    return path[::-1]


class FrozenLakeEnv(TextEnv):
    """Cross a frozen lake from S to G without falling into a hole.

    Args:
        map_name: "4x4" or "8x8" (Gymnasium's fixed maps), ignored with ``desc`` or random maps.
        is_slippery: If True the agent moves in the intended direction 1/3 of the time.
        desc: A custom map (list of strings of S/F/H/G).
        random_map: Draw a new map at every reset with Gymnasium's ``generate_random_map``
            seeded from the reset seed.
        size: Side of random maps. p: Probability that a random cell is frozen.
        view_radius: Half-side of the view's egocentric window (1: 3x3).
        view_goal_clip: Goal distances of this or more read "N+" in the view (1: sign only).

        >>> env = FrozenLakeEnv(desc=["SFG"])
        >>> _ = env.reset(seed=0)
        >>> env.step("right")[1:3], env.step("right")[1:3]
        ((0.0, False), (1.0, True))
    """

    def __init__(self, map_name: str = "4x4", is_slippery: bool = False,
                 desc: Sequence[str] | None = None, random_map: bool = False,
                 size: int = 4, p: float = 0.8, view_radius: int = 1,
                 view_goal_clip: int = 3) -> None:
        super().__init__()
        if map_name not in MAPS:
            raise ConfigError(f"map_name={map_name!r} is unknown; use one of {sorted(MAPS)}")
        if isinstance(size, bool) or not isinstance(size, int) or not 2 <= size <= 32:
            raise ConfigError(f"size={size!r} must be an int in [2, 32] for random maps")
        if not 0.0 < float(p) <= 1.0:
            raise ConfigError(f"p={p!r} (probability a cell is frozen) must be in (0, 1]")
        self.view_radius = check_view_option("view_radius", view_radius)
        self.view_goal_clip = check_view_option("view_goal_clip", view_goal_clip, high=32)
        self.is_slippery = bool(is_slippery)
        self.random_map, self.size, self.p = bool(random_map), size, float(p)
        self.desc = validate_desc(desc) if desc is not None else list(MAPS[map_name])
        self._gym = self._build(self.desc)
        self._optimal: int | None = None
        self._last_cell = "S"

    def _build(self, desc: list[str]) -> GymFrozenLake:
        return GymFrozenLake(desc=desc, is_slippery=self.is_slippery)

    @property
    def position(self) -> tuple[int, int]:
        """The agent's (row, column).

        >>> env = FrozenLakeEnv(); _ = env.reset(seed=0); env.position
        (0, 0)
        """
        return divmod(int(self._gym.s), len(self.desc[0]))

    def shortest_path(self) -> list[str] | None:
        """Fewest moves from the current position to the goal (None when unreachable).

        >>> env = FrozenLakeEnv(desc=["SFG"]); _ = env.reset(seed=0); env.shortest_path()
        ['right', 'right']
        """
        return grid_shortest_path(self.desc, self.position)

    def action_vocabulary(self) -> list[str]:
        """The four moves (all of them, even those blocked now)."""
        return list(ACTIONS)

    def _reset_game(self, options: dict[str, Any]) -> str:
        if self.random_map:
            map_seed = int(self.np_random.integers(2**31))
            self.desc = generate_random_map(size=self.size, p=self.p, seed=map_seed)
            self._gym = self._build(self.desc)
        # one seed source: the inner env is reseeded from ours, so reset(seed) fixes the slips
        self._gym.reset(seed=int(self.np_random.integers(2**31)))
        path = self.shortest_path()
        self._optimal = None if path is None else len(path)
        self._last_cell = "S"
        return f"You stand at the start of a frozen lake.\n{self._observe()}"

    def _parse(self, text: str) -> str | None:
        text = text.removeprefix("move ").removeprefix("go ")
        text = _ALIASES.get(text, text)
        return text if text in ACTIONS else None

    def _apply(self, action: str) -> Outcome:
        before = self.position
        _, reward, terminated, _, _ = self._gym.step(ACTIONS.index(action))
        row, col = self.position
        self._last_cell = self.desc[row][col]
        if self._last_cell == "H":
            return Outcome(f"You moved {action} and fell into a hole at row {row}, column {col}. "
                           "Game over.", float(reward), True, False)
        if self._last_cell == "G":
            return Outcome(f"You moved {action} and reached the goal!", float(reward), True, True)
        return Outcome(self._move_message(action, before), float(reward), bool(terminated))

    def _move_message(self, action: str, before: tuple[int, int]) -> str:
        after = self.position
        if after == before:
            return f"You tried to move {action} but stayed in place (edge of the lake)."
        dr, dc = after[0] - before[0], after[1] - before[1]
        moved = next(name for name, delta in _MOVES.items() if delta == (dr, dc))
        if moved != action:
            return f"You tried to move {action} but slipped {moved}."
        return f"You moved {action}."

    def _observe(self) -> str:
        row, col = self.position
        header = "  " + " ".join(str(c % 10) for c in range(len(self.desc[0])))
        lines = [header]
        for r, cells in enumerate(self.desc):
            shown = ["A" if (r, c) == (row, col) else ch for c, ch in enumerate(cells)]
            lines.append(f"{r % 10} " + " ".join(shown))
        return "\n".join([*lines, _LEGEND, f"You are at row {row}, column {col}."])

    def _goal(self) -> str:
        return ("Walk on the frozen lake from the start S to the goal G without stepping into a "
                "hole H. Each move is one of: left, down, right, up."
                + (" The ice is slippery: moves may go sideways." if self.is_slippery else ""))

    def _admissible(self) -> list[str]:
        return list(ACTIONS)

    def _portable_view(self) -> dict[str, Any]:
        here = self.position
        window = grid_window(lambda r, c: "A" if (r, c) == here else self._view_cell(r, c),
                             here, self.view_radius)
        state = f"window {window}; goal {self._goal_offset(here)}"
        actions = {}
        for action, (dr, dc) in _MOVES.items():
            ahead = self._view_cell(here[0] + dr, here[1] + dc) or "#"
            # What the move steps onto decides most of its value, so it is part of the kind:
            # a move into a hole never borrows from a move onto ice, however alike the rest.
            actions[action] = (f"{action} to {_CELL_WORDS[ahead]}", state)
        return build_view(state, actions)

    def _view_cell(self, row: int, col: int) -> str | None:
        if not (0 <= row < len(self.desc) and 0 <= col < len(self.desc[0])):
            return None
        cell = self.desc[row][col]
        return "F" if cell == "S" else cell

    def _goal_offset(self, here: tuple[int, int]) -> str:
        goals = [(r, c) for r, row in enumerate(self.desc) for c, ch in enumerate(row)
                 if ch == "G"]
        nearest = min(goals, key=lambda g: (abs(g[0] - here[0]) + abs(g[1] - here[1]), g))
        return offset_words(nearest[0] - here[0], nearest[1] - here[1], self.view_goal_clip)

    def _extra_info(self) -> dict[str, Any]:
        row, col = self.position
        return {"optimal_steps": self._optimal, "position": (row, col)}
