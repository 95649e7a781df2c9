"""Sokoban level collections in the standard XSB text format: reading and writing.

A collection file holds levels separated by blank lines. Level rows use ``#`` wall,
``@`` player, ``+`` player on a goal, ``$`` box, ``*`` box on a goal, ``.`` goal and a space,
``-`` or ``_`` for floor. A line starting with ``;`` is a comment; a comment or a line of plain
text (``Title: ...`` or just a title) right before a level names it, and ``Title: ...`` right
after a level's rows names that level. Other ``Key: value`` lines (``Author:``, ...) are
ignored. Unnamed levels are numbered from 1, as in the public collections.

    >>> text = "; first\\n#####\\n#@$.#\\n#####\\n\\nTitle: second\\n#####\\n#+$ #\\n#####\\n"
    >>> levels = parse_xsb(text)
    >>> [(lv.name, lv.player) for lv in levels]
    [('first', (1, 1)), ('second', (1, 1))]
    >>> parse_xsb(to_xsb(levels)) == levels
    True
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from memplay.environments.sokoban.level import SokobanLevel
from memplay.errors import ConfigError

__all__ = ["parse_xsb", "read_xsb", "to_xsb", "write_xsb"]

_LEVEL_CHARS = frozenset("#@+$*.-_ ")
_FLOOR_PAD = " -_"
_STARTS_A_ROW = "#@+$*."
_META = re.compile(r"^([A-Za-z][A-Za-z ]{0,30}):(.*)$")


@dataclass
class _RawLevel:
    """Rows of one level as read, where it starts, and its name (if any)."""

    line: int
    name: str
    rows: list[str] = field(default_factory=list)


@dataclass
class _Reader:
    """Line-by-line state of one parse (the level being read, the name waiting for one)."""

    source: str
    levels: list[_RawLevel] = field(default_factory=list)
    current: _RawLevel | None = None
    pending_name: str = ""
    just_ended: _RawLevel | None = None  # the level whose rows the previous lines were

    def feed(self, line_no: int, line: str) -> None:
        """Classify one line: blank, comment, level row, or title/metadata text."""
        text = line.strip()
        if not text:
            self._end_level()
            self.just_ended = None
        elif text.startswith(";"):
            self._end_level()
            self._name_next(text[1:].strip())
        elif _is_row(line, in_level=self.current is not None):
            self._add_row(line_no, line)
        else:
            self._end_level()
            self._text_line(text)

    def _add_row(self, line_no: int, line: str) -> None:
        row = line.rstrip("\r\n").rstrip(_FLOOR_PAD)
        for column, ch in enumerate(row, 1):
            if ch not in _LEVEL_CHARS:
                raise ConfigError(
                    f"{self.source}: line {line_no}, column {column}: unknown character {ch!r} "
                    "in a level row; use # @ + $ * . and space, - or _ for floor")
        if self.current is None:
            self.current = _RawLevel(line_no, self.pending_name)
            self.pending_name = ""
        self.current.rows.append(row)

    def _end_level(self) -> None:
        if self.current is not None:
            self.levels.append(self.current)
            self.just_ended = self.current
            self.current = None

    def _name_next(self, name: str) -> None:
        if name:
            self.pending_name = name

    def _text_line(self, text: str) -> None:
        meta = _META.match(text)
        if meta is None:
            self._name_next(text)
            return
        key, value = meta.group(1).strip().lower(), meta.group(2).strip()
        if key != "title":
            return  # Author:, Comment:, ... describe the collection, not a level's name
        if self.just_ended is not None and not self.just_ended.name:
            self.just_ended.name = value
        else:
            self._name_next(value)


def _is_row(line: str, *, in_level: bool) -> bool:
    """A level row starts with a wall (or, inside a level, with any level character), or is
    made only of level characters and holds a wall."""
    text = line.strip()
    if text[0] == "#" or (in_level and text[0] in _STARTS_A_ROW):
        return True
    only_level_chars = set(line.rstrip("\r\n")) <= _LEVEL_CHARS
    return only_level_chars and ("#" in line or in_level)


def parse_xsb(text: str, source: str = "<xsb text>") -> list[SokobanLevel]:
    """Parse a collection in XSB text; ConfigError names ``source``, the line and the fault.

    >>> parse_xsb("#####\\n#@$x#\\n#####", "mine.xsb")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: mine.xsb: line 2, column 4: unknown character 'x' ...
    """
    reader = _Reader(source)
    for line_no, line in enumerate(text.splitlines(), 1):
        reader.feed(line_no, line)
    reader.feed(0, "")  # end of file ends the last level
    if not reader.levels:
        raise ConfigError(f"{source}: no Sokoban level found; an XSB file holds level rows "
                          "(# @ + $ * . and floor) separated by blank lines")
    return [_build(raw, index, source) for index, raw in enumerate(reader.levels)]


def _build(raw: _RawLevel, index: int, source: str) -> SokobanLevel:
    name = raw.name or str(index + 1)
    try:
        return SokobanLevel.from_rows(raw.rows, name)
    except ConfigError as exc:
        last = raw.line + len(raw.rows) - 1
        raise ConfigError(f"{source}: lines {raw.line}-{last} (level {name!r}): {exc}") from None


def read_xsb(path: str | Path) -> list[SokobanLevel]:
    """Read an XSB collection file (UTF-8; Latin-1 when it is not valid UTF-8).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "one.xsb"
    >>> _ = p.write_text("; corridor\\n#####\\n#@$.#\\n#####\\n")
    >>> read_xsb(p)[0].name
    'corridor'
    """
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:  # older collections were saved in Latin-1
        text = data.decode("latin-1")
    return parse_xsb(text, str(path))


def _xsb_rows(level: SokobanLevel) -> list[str]:
    """The level's rows with spaces for floor and no trailing floor."""
    rows = level.render().splitlines()
    return [row.replace("-", " ").rstrip() for row in rows]


def to_xsb(levels: Sequence[SokobanLevel]) -> str:
    """Levels as XSB text: a ``; name`` comment, the rows, a blank line after each level.

    >>> print(to_xsb([SokobanLevel.from_rows(["#####", "#@$.#", "#####"], "corridor")]))
    ; corridor
    #####
    #@$.#
    #####
    <BLANKLINE>
    """
    parts = []
    for level in levels:
        name = " ".join(level.name.split())  # one line, so it reads back as the name
        head = [f"; {name}"] if name else []  # an unnamed level reads back numbered
        parts.append("\n".join([*head, *_xsb_rows(level)]) + "\n")
    return "\n".join(parts)


def write_xsb(levels: Sequence[SokobanLevel], path: str | Path) -> Path:
    """Write levels to an XSB file atomically (temp file, then rename); returns the path.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.xsb"
    >>> level = SokobanLevel.from_rows(["#####", "#@$.#", "#####"], "corridor")
    >>> read_xsb(write_xsb([level], p)) == [level]
    True
    """
    if not levels:
        raise ConfigError("write_xsb needs at least one level; got none")
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(to_xsb(levels), encoding="utf-8")
    os.replace(tmp, target)
    return target
