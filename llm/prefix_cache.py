"""A small LRU cache of prompt-prefix key/value states, reused across ``score`` calls.

Agent prompts repeat a long prefix from step to step (system message, rules, retrieved
memory) and only the last lines change. Storing the attention keys/values of a prefix lets
the next call run the model over the new tokens only. Lookup finds the stored prefix sharing
the most leading tokens with the new prompt, so a prompt that diverges half-way still reuses
the common part (stored tensors are sliced, never modified in place).

    >>> import torch
    >>> cache = PrefixKVCache(capacity=2)
    >>> kv = [(torch.zeros(1, 1, 3, 2), torch.zeros(1, 1, 3, 2))]
    >>> cache.put([1, 2, 3], kv)
    >>> n, hit = cache.lookup([1, 2, 9, 9])
    >>> n, hit[0][0].shape[2]
    (2, 2)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from memplay.errors import ConfigError

__all__ = ["KV", "KVChain", "PrefixKVCache", "common_prefix_len", "kv_len"]

# One (keys, values) pair per layer, each of shape [1, kv_heads, seq_len, head_dim].
KV = list[tuple[torch.Tensor, torch.Tensor]]


def kv_len(kv: KV) -> int:
    """Tokens a KV block covers (0 for an empty block).

    >>> kv_len([(torch.zeros(1, 1, 3, 2), torch.zeros(1, 1, 3, 2))])
    3
    """
    return int(kv[0][0].shape[2]) if kv else 0


@dataclass(frozen=True)
class KVChain:
    """The key/value states of one token sequence, kept as consecutive read-only segments.

    Why segments: the states of a prefix shared by many sequences (the system message
    every episode starts with) are stored once and referenced by each sequence's chain,
    and extending a sequence by a few tokens appends a small segment instead of copying
    everything before it. Slicing returns views; nothing is ever modified in place.

    >>> seg = [(torch.zeros(1, 1, 3, 2), torch.zeros(1, 1, 3, 2))]
    >>> chain = KVChain((seg,)).then(seg)
    >>> chain.length, chain.head(4).length, len(chain.head(2).segments)
    (6, 4, 1)
    """

    segments: tuple[KV, ...] = ()

    @property
    def length(self) -> int:
        """Tokens covered by the whole chain."""
        return sum(kv_len(s) for s in self.segments)

    def head(self, n: int) -> KVChain:
        """The first ``n`` tokens (views into the same storage)."""
        kept: list[KV] = []
        left = n
        for seg in self.segments:
            if left <= 0:
                break
            size = kv_len(seg)
            kept.append(seg if size <= left else [(k[:, :, :left], v[:, :, :left]) for k, v in seg])
            left -= size
        return KVChain(tuple(kept))

    def then(self, kv: KV) -> KVChain:
        """This chain followed by the segment ``kv``."""
        return KVChain((*self.segments, kv)) if kv_len(kv) else self

    def merged(self) -> KV:
        """All segments as one block (the segment itself when there is only one).

        >>> seg = [(torch.zeros(1, 1, 2, 1), torch.zeros(1, 1, 2, 1))]
        >>> kv_len(KVChain((seg, seg)).merged())
        4
        """
        if len(self.segments) == 1:
            return self.segments[0]
        return [(torch.cat([s[i][0] for s in self.segments], 2),
                 torch.cat([s[i][1] for s in self.segments], 2))
                for i in range(len(self.segments[0]))]

    def compact(self, max_segments: int) -> KVChain:
        """Merge all segments after the first (often shared) one when there are too many.

        Reading a chain copies each segment once per layer, so a long episode would pay
        for one tiny segment per step; merging keeps that cost flat.
        """
        if len(self.segments) <= max_segments:
            return self
        return KVChain((self.segments[0], KVChain(self.segments[1:]).merged()))


def common_prefix_len(a: Sequence[int], b: Sequence[int]) -> int:
    """Number of leading tokens two id sequences share.

    >>> common_prefix_len([1, 2, 3], [1, 2, 4, 5])
    2
    """
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class PrefixKVCache:
    """LRU map from token-id prefixes to their key/value states (batch size 1).

    Attributes:
        capacity: How many prefixes to keep; 0 disables the cache.
        hits: Lookups that reused at least one token.
        reused_tokens: Total tokens whose forward pass was skipped thanks to the cache.
    """

    def __init__(self, capacity: int = 8) -> None:
        if capacity < 0:
            raise ConfigError(f"prefix_cache_size={capacity} must be >= 0 (0 disables it)")
        self.capacity = capacity
        self.hits = 0
        self.reused_tokens = 0
        self._entries: OrderedDict[tuple[int, ...], KV] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Drop every entry (after new weights are loaded the states are stale)."""
        self._entries.clear()

    def match_len(self, ids: Sequence[int]) -> int:
        """Leading tokens of ``ids`` the best entry covers (a peek: no stats, no LRU touch).

        >>> PrefixKVCache().match_len([1, 2])
        0
        """
        return max((common_prefix_len(key, ids) for key in self._entries), default=0)

    def lookup(self, ids: Sequence[int]) -> tuple[int, KV | None]:
        """Return ``(n, kv)``: the longest stored match of ``ids``'s leading tokens, sliced to n.

        >>> PrefixKVCache().lookup([1, 2])
        (0, None)
        """
        best_key, best_len = None, 0
        for key in self._entries:
            n = common_prefix_len(key, ids)
            if n > best_len:
                best_key, best_len = key, n
        if best_key is None:
            return 0, None
        self._entries.move_to_end(best_key)
        self.hits += 1
        self.reused_tokens += best_len
        kv = self._entries[best_key]
        return best_len, [(k[:, :, :best_len], v[:, :, :best_len]) for k, v in kv]

    def put(self, ids: Sequence[int], kv: KV) -> None:
        """Store the states of prefix ``ids``, evicting the least recently used entry."""
        if self.capacity == 0 or not ids:
            return
        key = tuple(ids)
        self._entries[key] = kv
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
