"""Size budget for a reflection document, and the policy used to trim a document to it.

Policy (stated once, applied everywhere):

- A document is measured with ``measure`` (``len``, i.e. characters, by default; pass a
  tokenizer-based counter to budget in tokens).
- A document over budget is cut at a *unit* boundary, never inside a word: units are lines,
  and a line that is itself too long is split into sentences.
- ``keep="head"`` (default) keeps the first units. The rewrite prompt asks the model to put
  the most important points first, so the head is the most valuable part.
  ``keep="tail"`` keeps the last units instead: for append-style documents, where the newest
  rules are at the end.
- When not even one unit fits, trimming fails (returns ``None``) and the rewrite is rejected:
  a document cut mid-sentence is worse than the old one.

    >>> SizeBudget(max_units=30).fit("Holes end the game. Goal gives reward 1. Walls block.")
    'Holes end the game.'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from memplay.errors import ConfigError

__all__ = ["SizeBudget", "split_units"]

# A sentence ends at . ! or ? followed by whitespace; keeps the punctuation with the sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def split_units(text: str) -> list[str]:
    """Split a document into trimming units: non-empty lines, each split into sentences.

    >>> split_units("- a. b!\\n- c")
    ['- a.', 'b!', '- c']
    """
    units: list[str] = []
    for line in text.splitlines():
        units.extend(part.strip() for part in _SENTENCE_END.split(line) if part.strip())
    return units


def _lines_of(text: str) -> list[list[str]]:
    """Group sentence units by their line, so trimmed text keeps the original line breaks."""
    return [split_units(line) for line in text.splitlines()]


@dataclass(frozen=True)
class SizeBudget:
    """Maximum size of one document and how to trim to it (see the module docstring).

    Attributes:
        max_units: Budget, in the units ``measure`` counts (characters by default).
        keep: ``"head"`` keeps the first lines/sentences, ``"tail"`` the last ones.
        measure: Size of a text; ``len`` counts characters.

    >>> SizeBudget(max_units=12, keep="tail").fit("old rule.\\nnew rule.")
    'new rule.'
    """

    max_units: int = 1200
    keep: Literal["head", "tail"] = "head"
    measure: Callable[[str], int] = field(default=len, compare=False)

    def __post_init__(self) -> None:
        if self.max_units < 1:
            raise ConfigError(f"max_units={self.max_units} must be >= 1; try 1200 characters")
        if self.keep not in ("head", "tail"):
            raise ConfigError(f"keep={self.keep!r} must be 'head' or 'tail'")

    def fits(self, text: str) -> bool:
        """True when ``text`` is within budget.

        >>> SizeBudget(max_units=3).fits("abcd")
        False
        """
        return self.measure(text) <= self.max_units

    def fit(self, text: str) -> str | None:
        """Return ``text`` trimmed to budget by the policy, or ``None`` if nothing fits.

        >>> SizeBudget(max_units=5).fit("A very long single sentence") is None
        True
        """
        text = text.strip()
        if self.fits(text):
            return text
        lines = _lines_of(text)
        if self.keep == "tail":
            lines = [units[::-1] for units in reversed(lines)]
        kept: list[list[str]] = []
        for units in lines:
            taken: list[str] = []
            for unit in units:
                if not self.fits(self._render([*kept, [*taken, unit]])):
                    return self._finish([*kept, taken] if taken else kept)
                taken.append(unit)
            kept.append(taken)
        return self._finish(kept)

    def _render(self, lines: list[list[str]]) -> str:
        ordered = [units[::-1] for units in reversed(lines)] if self.keep == "tail" else lines
        return "\n".join(" ".join(units) for units in ordered if units).strip()

    def _finish(self, lines: list[list[str]]) -> str | None:
        rendered = self._render(lines)
        return rendered or None
