"""Portable views: a map-independent description of the state and of each admissible action.

An environment that offers a view returns it from ``TextEnv._portable_view`` and the base class
puts it in ``info["view"]`` while the episode runs (docs/CONTRACTS.md, "Portable views")::

    {"state": "<portable text>",
     "actions": {"<admissible action>": {"kind": "<str>", "context": "<str>"}, ...}}

``kind`` names the action in map-independent words (memory only borrows values between entries
of the same kind); ``context`` is the situation that decides the action's value. Equal
(kind, context) pairs must deserve equal values on any map of the game. An entry may add
``"needed": false`` for an action that cannot help the task now; a policy with
``prune_unneeded`` then does not ask the LLM about it. An entry may also say
``"repeats": n``: how often this episode already did what the action does (went to that very
place, opened that very box), which the policy's novelty term counts as this episode's tries
of the action (many actions share one key, and only the game knows which repeat each other).

    >>> view = build_view("goal 1 right", {"right": ("right", "next goal")})
    >>> view["actions"]["right"]
    {'kind': 'right', 'context': 'next goal'}
    >>> view_problem(view, ["right"]) is None
    True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from memplay.errors import ConfigError, EnvironmentFault

__all__ = ["OUTSIDE", "build_view", "check_view_option", "grid_window", "offset_words",
           "validate_view", "view_problem"]

OUTSIDE = "#"  # how cells beyond the edge of a board read in a window
_ENTRY_KEYS = {"kind", "context"}
_OPTIONAL_KEYS = {"needed", "repeats"}


def check_view_option(label: str, value: object, low: int = 1, high: int = 8) -> int:
    """Return a view setting (``view_radius``...) if it is an int in [low, high], else raise.

    >>> check_view_option("view_radius", 2)
    2
    >>> check_view_option("view_radius", 0)
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: view_radius=0 must be an int in [1, 8]
    """
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{label}={value!r} must be an int in [{low}, {high}]")
    return value


def build_view(state: str, actions: Mapping[str, tuple[str, str]],
               unneeded: Collection[str] = ()) -> dict[str, Any]:
    """Assemble ``info["view"]`` from the state text and ``action -> (kind, context)``;
    the actions in ``unneeded`` get ``"needed": False``.

    >>> build_view("s", {"up": ("up", "wall ahead")})
    {'state': 's', 'actions': {'up': {'kind': 'up', 'context': 'wall ahead'}}}
    >>> build_view("s", {"up": ("up", "wall ahead")}, unneeded=["up"])["actions"]["up"]
    {'kind': 'up', 'context': 'wall ahead', 'needed': False}
    """
    return {"state": state,
            "actions": {a: {"kind": kind, "context": ctx, **({"needed": False} if a in unneeded
                                                               else {})}
                        for a, (kind, ctx) in actions.items()}}


def grid_window(cell_at: Callable[[int, int], str | None], center: tuple[int, int],
                radius: int) -> str:
    """The square of side ``2*radius+1`` around ``center``, rows joined by ``|``.

    ``cell_at(row, col)`` returns one character, or None beyond the board (shown as ``#``).

    >>> board = ["ab", "cd"]
    >>> at = lambda r, c: board[r][c] if 0 <= r < 2 and 0 <= c < 2 else None
    >>> grid_window(at, (0, 0), 1)
    '###|#ab|#cd'
    """
    row, col = center
    cols = range(col - radius, col + radius + 1)
    return "|".join("".join([cell_at(r, c) or OUTSIDE for c in cols])
                    for r in range(row - radius, row + radius + 1))


def offset_words(dr: int, dc: int, clip: int) -> str:
    """A row/column offset in words; a distance of ``clip`` or more reads ``clip+``.

    ``clip=1`` keeps only the direction (every distance reads ``1+``).

    >>> offset_words(2, -5, 3), offset_words(0, 1, 3)
    ('2 down, 3+ left', 'same row, 1 right')
    """
    def part(delta: int, minus: str, plus: str, same: str) -> str:
        if delta == 0:
            return same
        shown = f"{clip}+" if abs(delta) >= clip else str(abs(delta))
        return f"{shown} {minus if delta < 0 else plus}"

    return f"{part(dr, 'up', 'down', 'same row')}, {part(dc, 'left', 'right', 'same column')}"


def view_problem(view: object, admissible: Sequence[str]) -> str | None:
    """What is wrong with ``view`` for these admissible actions, or None when it is valid.

    >>> view_problem({"state": "s", "actions": {}}, ["up"])
    "lacks admissible actions ['up']; add an entry for each"
    """
    if not isinstance(view, dict) or set(view) != {"state", "actions"}:
        shown = sorted(view) if isinstance(view, dict) else type(view).__name__
        return f"must be a dict with exactly the keys 'state' and 'actions', got {shown}"
    if not isinstance(view["state"], str):
        return f"['state'] must be a str, got {type(view['state']).__name__}"
    actions = view["actions"]
    if not isinstance(actions, dict):
        return f"['actions'] must be a dict action -> entry, got {type(actions).__name__}"
    missing = [a for a in admissible if a not in actions]
    extra = sorted(str(a) for a in actions if a not in set(admissible))
    if missing:
        return f"lacks admissible actions {missing[:5]}; add an entry for each"
    if extra:
        return f"has entries for actions that are not admissible: {extra[:5]}; drop them"
    for action, entry in actions.items():
        problem = _entry_problem(entry)
        if problem:
            return f"['actions'][{action!r}]{'' if problem.startswith('[') else ' '}{problem}"
    return _json_problem(view)


def _entry_problem(entry: object) -> str | None:
    if not isinstance(entry, dict) or not _ENTRY_KEYS <= set(entry) <= _ENTRY_KEYS | \
            _OPTIONAL_KEYS:
        shown = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
        return ("must be a dict with the keys 'kind' and 'context' (and optionally 'needed',"
                f" 'repeats'), got {shown}")
    if not isinstance(entry.get("needed", False), bool):
        return f"['needed']={entry['needed']!r} must be a bool"
    repeats = entry.get("repeats", 0)
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 0:
        return f"['repeats']={repeats!r} must be an int >= 0"
    if not isinstance(entry["kind"], str) or not entry["kind"].strip():
        return f"['kind']={entry['kind']!r} must be a non-empty str"
    if not isinstance(entry["context"], str):
        return f"['context'] must be a str, got {type(entry['context']).__name__}"
    return None


def _json_problem(view: dict[str, Any]) -> str | None:
    try:
        json.dumps(view)
    except (TypeError, ValueError) as exc:
        return f"is not JSON-serialisable ({exc}); use only str keys and str values"
    return None


def validate_view(view: object, admissible: Sequence[str]) -> None:
    """Raise EnvironmentFault when ``view`` breaks the contract for ``admissible``.

    >>> validate_view({"state": "s", "actions": {"up": {"kind": "up"}}}, ["up"])
    Traceback (most recent call last):
    ...
    memplay.errors.EnvironmentFault: info['view']['actions']['up'] must be a dict with the \
keys 'kind' and 'context' (and optionally 'needed', 'repeats'), got ['kind']
    """
    problem = view_problem(view, admissible)
    if problem is not None:
        joint = "" if problem.startswith("[") else " "
        raise EnvironmentFault(f"info['view']{joint}{problem}")
