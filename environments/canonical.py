"""Canonical action text: object ids removed, so an action remembered in one game matches the
admissible actions of another ("go to desk 2" and "go to desk 1" both read "go to desk").

The rule is deliberately simple: after normalising (lower case, single spaces, no trailing
period), a standalone integer is dropped when the word right before it is alphabetic and is not
one of the keywords in ``KEEP_NUMBERS_AFTER`` (verbs and nouns whose numbers are coordinates or
choices, not object ids: ``reveal 2 3`` stays as it is). Pass ``keep_after=`` to change the table.

    >>> canonical_action("take apple 1 from countertop 3")
    'take apple from countertop'
    >>> canonical_action("reveal 2 3"), canonical_action("mark 0 2")
    ('reveal 2 3', 'mark 0 2')
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

from memplay.environments.core import normalize_action

__all__ = ["KEEP_NUMBERS_AFTER", "canonical_action"]

# words whose following number is part of the action's meaning (a cell, a row, a choice)
KEEP_NUMBERS_AFTER: frozenset[str] = frozenset({
    "reveal", "open", "click", "dig", "flag", "unflag", "mark", "unmark",  # Minesweeper
    "place", "play", "put",                                                 # TicTacToe
    "cell", "row", "col", "column", "at", "level", "option", "choose", "select",
})


def canonical_action(text: str, keep_after: Iterable[str] = KEEP_NUMBERS_AFTER) -> str:
    """``text`` normalised, with object ids (an integer after a plain word) removed.

    Args:
        text: An action as an environment lists it or an agent wrote it.
        keep_after: Words after which a number is kept (default ``KEEP_NUMBERS_AFTER``).

        >>> canonical_action("Go to Desk 2.")
        'go to desk'
        >>> canonical_action("flag row 1 column 4")
        'flag row 1 column 4'
        >>> canonical_action("go to desk 2", keep_after={"desk"})
        'go to desk 2'
    """
    keep = {word.lower() for word in keep_after}
    tokens = normalize_action(text).split(" ")
    kept = [tokens[0]] if tokens else []
    for before, token in pairwise(tokens):
        is_id = token.isdecimal() and before.isalpha() and before not in keep
        if not is_id:
            kept.append(token)
    return " ".join(kept)
