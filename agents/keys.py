"""The keys step memory files experience under: ``(kind, context)`` per admissible action.

With ``memory.step_keys="view"`` and an environment that gives a portable view
(``info["view"]``, docs/CONTRACTS.md "Portable views"), each action is keyed by the view's
map-independent ``(kind, context)``, so a value learned on one map is found on another. Without
a view (or with ``step_keys="state"``) the key is ``(action text, state text)``: today's
whole-state table, which only ever matches the same board.

    >>> view = {"state": "s", "actions": {"left": {"kind": "left", "context": "hole left"}}}
    >>> action_keys("A.H\\n...", view, ["left", "right"], use_view=True)
    {'left': ('left', 'hole left'), 'right': ('right', 'A.H\\n...')}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["action_keys", "view_repeats"]

Key = tuple[str, str]


def action_keys(state: str, view: Mapping[str, Any] | None, admissible: Sequence[str],
                use_view: bool = True) -> dict[str, Key]:
    """Each admissible action's key; an action the view does not describe falls back to
    ``(action, state)``.

    >>> action_keys("board", None, ["up"])
    {'up': ('up', 'board')}
    """
    entries = view.get("actions", {}) if use_view and isinstance(view, Mapping) else {}
    keys = {}
    for action in admissible:
        entry = entries.get(action)
        if isinstance(entry, Mapping):
            keys[action] = (str(entry["kind"]), str(entry["context"]))
        else:
            keys[action] = (action, state)
    return keys


def view_repeats(view: Mapping[str, Any] | None) -> dict[str, int]:
    """The actions whose view entry says how often this episode already did what they do
    (``"repeats"``, docs/CONTRACTS.md "Portable views"), with that count.

    >>> view_repeats({"state": "s", "actions": {"go to a": {"kind": "go", "context": "c",
    ...                                                      "repeats": 2}}})
    {'go to a': 2}
    >>> view_repeats(None)
    {}
    """
    entries = view.get("actions", {}) if isinstance(view, Mapping) else {}
    return {action: int(entry["repeats"]) for action, entry in entries.items()
            if isinstance(entry, Mapping) and "repeats" in entry}
