"""Turn free model output into an action: exact, case-insensitive, contained, then fuzzy match.

Small models wrap actions in chatter ("I think I will go north."), change case, or misspell;
each rule below is tried in order and the first that matches wins. ``how`` says which rule
matched, so callers can count fuzzy matches.

    >>> parse_action("Action: Go North.", ["go north", "go south"])
    ParsedAction(action='go north', how='casefold', ratio=1.0)
    >>> parse_action("I will go south now", ["go north", "go south"]).action
    'go south'
    >>> parse_action("go nrth", ["go north", "go south"]).how
    'fuzzy'
    >>> parse_action("???", ["go north"]).action is None
    True
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from memplay.errors import ConfigError

__all__ = ["ParsedAction", "first_line", "parse_action"]

# Labels small models put before the answer; they are not part of the action.
_LABEL = re.compile(r"^\s*(?:>|action\s*:|answer\s*:|move\s*:|next action\s*:)\s*", re.IGNORECASE)
_EDGE = " \t\"'`*.,;:!?()[]{}"


@dataclass(frozen=True)
class ParsedAction:
    """Result of :func:`parse_action`.

    Attributes:
        action: The matched admissible action, or None when nothing matched.
        how: "exact", "casefold", "contains", "fuzzy" or "none".
        ratio: Similarity of the match (1.0 for exact/casefold/contains).
    """

    action: str | None
    how: str
    ratio: float


def first_line(text: str) -> str:
    """First non-empty line of ``text`` without labels, quotes or trailing punctuation.

    >>> first_line('\\n  Action: "open door 1".\\nObservation: ...')
    'open door 1'
    """
    for line in text.splitlines():
        cleaned = _LABEL.sub("", line).strip(_EDGE)
        if cleaned:
            return cleaned
    return ""


def parse_action(text: str, admissible: Sequence[str], cutoff: float = 0.6) -> ParsedAction:
    """Match model output ``text`` to the nearest of ``admissible`` (see module doc for order).

    ``cutoff`` is the lowest difflib ratio accepted by the fuzzy rule.
    """
    if not 0 < cutoff <= 1:
        raise ConfigError(f"cutoff={cutoff} must be in (0, 1]; 0.6 is a good default")
    line = first_line(text)
    if not line or not admissible:
        return ParsedAction(None, "none", 0.0)
    if line in admissible:
        return ParsedAction(line, "exact", 1.0)
    folded = {a.casefold(): a for a in admissible}
    if line.casefold() in folded:
        return ParsedAction(folded[line.casefold()], "casefold", 1.0)
    contained = _contained(line.casefold(), folded)
    if contained is not None:
        return ParsedAction(contained, "contains", 1.0)
    close = difflib.get_close_matches(line.casefold(), list(folded), n=1, cutoff=cutoff)
    if close:
        ratio = difflib.SequenceMatcher(None, line.casefold(), close[0]).ratio()
        return ParsedAction(folded[close[0]], "fuzzy", ratio)
    return ParsedAction(None, "none", 0.0)


def _contained(line: str, folded: dict[str, str]) -> str | None:
    """The longest admissible action found as whole words inside ``line``, earliest first."""
    best: tuple[int, int, str] | None = None
    for key, action in folded.items():
        match = re.search(rf"(?<!\w){re.escape(key)}(?!\w)", line)
        if match is None:
            continue
        rank = (-len(key), match.start(), action)
        if best is None or rank < best:
            best = rank
    return None if best is None else best[2]
