"""Per-episode key/value states kept between ``score`` calls, bounded by an LRU.

An agent's prompt for step t+1 repeats step t's prompt up to the point where the new step
begins (system text, rules, goal, the history so far). Each running episode (a *session*,
named by the caller) keeps the states of its last prompt; the next prompt of the same
session reuses the longest common prefix of token ids and only the rest is run.

Memory is bounded twice: at most ``max_sessions`` entries and at most ``max_tokens`` cached
tokens in all (counted per entry, so a prefix shared by several sessions is counted once per
session although it is stored once). The least recently used session goes first; the caller
frees a finished episode at once with :meth:`SessionKVCache.release`.

    >>> import torch
    >>> cache = SessionKVCache(max_sessions=2, max_tokens=100)
    >>> seg = [(torch.zeros(1, 1, 3, 2), torch.zeros(1, 1, 3, 2))]
    >>> cache.put("ep-1", [5, 6, 7], KVChain((seg,)))
    >>> n, chain = cache.match("ep-1", [5, 6, 9, 9])
    >>> n, chain.length
    (2, 2)
    >>> cache.release(["ep-1"]); len(cache)
    0
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from memplay.errors import ConfigError
from memplay.llm.prefix_cache import KVChain, common_prefix_len

__all__ = ["SessionKVCache"]


@dataclass(frozen=True)
class _Entry:
    ids: tuple[int, ...]
    chain: KVChain


class SessionKVCache:
    """LRU map from a session key to the token ids and states of its last prompt.

    Attributes:
        max_sessions: Most entries kept (0 disables the cache).
        max_tokens: Most cached tokens over all entries.
        evictions: Entries dropped to respect the bounds (released ones do not count).
    """

    def __init__(self, max_sessions: int = 64, max_tokens: int = 32768) -> None:
        if max_sessions < 0:
            raise ConfigError(f"max_sessions={max_sessions} must be >= 0 (0 disables sessions)")
        if max_tokens < 1:
            raise ConfigError(f"max_session_tokens={max_tokens} must be >= 1")
        self.max_sessions, self.max_tokens = max_sessions, max_tokens
        self.evictions = 0
        self.tokens = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def match(self, key: str, ids: Sequence[int]) -> tuple[int, KVChain]:
        """``(n, chain)``: how many leading tokens of ``ids`` the session holds, and their states.

        >>> SessionKVCache().match("new", [1, 2])[0]
        0
        """
        entry = self._entries.get(key)
        if entry is None:
            return 0, KVChain()
        self._entries.move_to_end(key)
        n = common_prefix_len(entry.ids, ids)
        return n, entry.chain.head(n)

    def put(self, key: str, ids: Sequence[int], chain: KVChain) -> None:
        """Store (or replace) the session's prompt, then evict least recently used entries.

        >>> c = SessionKVCache(max_sessions=0); c.put("a", [1], KVChain()); len(c)
        0
        """
        self._drop(key)
        if self.max_sessions == 0 or len(ids) > self.max_tokens:
            return
        self._entries[key] = _Entry(tuple(ids), chain)
        self.tokens += len(ids)
        while len(self._entries) > self.max_sessions or self.tokens > self.max_tokens:
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self.evictions += 1

    def release(self, keys: Iterable[str]) -> None:
        """Free the entries of finished sessions (unknown keys are ignored)."""
        for key in keys:
            self._drop(key)

    def clear(self) -> None:
        """Drop every entry (after new weights are loaded the states are stale)."""
        self._entries.clear()
        self.tokens = 0

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.tokens -= len(entry.ids)
