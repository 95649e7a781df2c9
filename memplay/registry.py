"""A registry of named things built by string entry points: one pattern for every plug-in.

LLM backends, agent variants, reflections and CLI commands are each a :class:`Registry`:
``register(name, "package.module:attribute")`` (imported on first use, so asking for one
backend never imports another's heavy dependencies) or ``register(name, obj)``, then
``get(name)``. An unknown name raises ConfigError with the closest known names, like
Gymnasium's ``make``.

    >>> codecs = Registry("codec")
    >>> codecs.register("json", "json:dumps")
    >>> codecs.get("json")({"a": 1})
    '{"a": 1}'
    >>> codecs.get("jsno")
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: unknown codec 'jsno'; did you mean 'json'? (known: json)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from memplay._lazy import import_target
from memplay.errors import ConfigError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Names -> entries (objects, or ``"module:attribute"`` strings resolved on ``get``).

    Args:
        kind: What the entries are, for error messages ("LLM backend", "variant").

    >>> r: Registry[int] = Registry("number"); r.register("one", 1); "one" in r, list(r)
    (True, ['one'])
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, str | T] = {}

    def register(self, name: str, entry: str | T, *, replace: bool = True) -> None:
        """Add ``entry`` under ``name``; with ``replace=False`` an existing name is an error.

        >>> r: Registry[int] = Registry("number"); r.register("one", 1)
        >>> r.register("one", 2, replace=False)
        Traceback (most recent call last):
        ...
        memplay.errors.ConfigError: number 'one' is already registered; pick another name ...
        """
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{self.kind} name {name!r} must be a non-empty string")
        if not replace and name in self._entries:
            raise ConfigError(f"{self.kind} {name!r} is already registered; pick another name "
                              "or pass replace=True")
        self._entries[name] = entry

    def unregister(self, name: str) -> None:
        """Remove ``name`` (no error when it is absent).

        >>> r: Registry[int] = Registry("number"); r.register("one", 1); r.unregister("one")
        >>> "one" in r
        False
        """
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """The entry registered under ``name``, importing it when it is a string."""
        if name not in self._entries:
            raise ConfigError(self.unknown(name))
        entry = self._entries[name]
        if isinstance(entry, str):
            loaded: T = import_target(entry, f"{self.kind} {name!r}")
            return loaded
        return entry

    def unknown(self, name: object) -> str:
        """The error message for an unknown ``name``: closest matches and the known names.

        >>> Registry("backend").unknown("x")
        "unknown backend 'x' (known: none registered)"
        """
        close = difflib.get_close_matches(str(name), list(self._entries), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(self._entries)) or "none registered"
        return f"unknown {self.kind} {name!r}{hint} (known: {known})"

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def raw(self, name: str) -> Any:
        """The entry as registered (a string stays a string), for listings."""
        return self._entries[name]
