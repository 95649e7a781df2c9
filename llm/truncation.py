"""The over-long prompt policy shared by every local backend.

A prompt longer than the budget keeps its head (the system message, capped at half the
budget) and its most recent tokens; the middle is cut. Why this shape: the system message
holds the task rules and memory, the tail holds the current observation the action depends
on, and what sits between (old turns) is the least useful part of an agent prompt.

    >>> truncate_ids(list(range(10)), max_tokens=6, keep_head=2)
    [0, 1, 6, 7, 8, 9]
    >>> truncate_ids([1, 2, 3], max_tokens=6, keep_head=2)
    [1, 2, 3]
"""

from __future__ import annotations

from collections.abc import Sequence

from memplay.errors import ConfigError

__all__ = ["truncate_ids"]


def truncate_ids(ids: Sequence[int], max_tokens: int, keep_head: int = 0) -> list[int]:
    """Cut ``ids`` to at most ``max_tokens``: keep ``keep_head`` leading tokens, then the tail.

    ``keep_head`` is capped at half the budget, so the recent context always keeps at least
    half of it even when the system message alone is too long.

    >>> truncate_ids([5, 6, 7, 8], max_tokens=2)
    [7, 8]
    >>> truncate_ids(list(range(8)), max_tokens=4, keep_head=10)
    [0, 1, 6, 7]
    """
    if max_tokens < 1:
        raise ConfigError(f"max_prompt_tokens={max_tokens} must be >= 1; raise it")
    if len(ids) <= max_tokens:
        return list(ids)
    head = min(max(keep_head, 0), max_tokens // 2)
    tail = max_tokens - head
    return list(ids[:head]) + list(ids[len(ids) - tail :])
