"""LangGraph's search filters and namespace conditions, as :class:`MemplayStore` applies them.

A filter maps keys of the value to a wanted value (equal; a nested dict matches the keys it
names, a list matches element by element) or to operators ``$eq $ne $gt $gte $lt $lte``
(numbers compare as numbers; a value that is not a number never matches an order operator).
A dotted key such as ``"user.level"`` reaches into nested dicts when the value has no such
top-level key, as LangGraph's database stores allow.

    >>> matches_filter({"q": 0.5, "env": "a", "meta": {"lang": "en", "n": 1}},
    ...                {"env": "a", "q": {"$gte": 0.5}, "meta": {"lang": "en"}})
    True
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from langgraph.store.base import MatchCondition

from memplay.errors import ConfigError

__all__ = ["matches_filter", "namespace_matches"]

_ORDER: dict[str, Callable[[float, float], bool]] = {
    "$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le}


def matches_filter(value: Mapping[str, Any], flt: Mapping[str, Any] | None) -> bool:
    """Whether a stored value passes a LangGraph search filter (None passes everything).

    >>> matches_filter({"a": 1}, {"a": {"$ne": 2, "$lt": 5}}), matches_filter({"a": 1}, None)
    (True, True)
    >>> matches_filter({"a": None}, {"a": {"$gt": 0}})
    False
    >>> matches_filter({"user": {"level": 3}}, {"user.level": {"$gte": 2}})
    True
    """
    return all(_matches(_lookup(value, key), want) for key, want in (flt or {}).items())


def _lookup(value: Mapping[str, Any], key: str) -> Any:
    """``value[key]``, else the nested ``value[a][b]`` for ``key == "a.b"``, else None."""
    if key in value or "." not in key:
        return value.get(key)
    node: Any = value
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _matches(got: Any, want: Any) -> bool:
    if isinstance(want, Mapping):
        if any(str(k).startswith("$") for k in want):
            return all(_apply(got, op, arg) for op, arg in want.items())
        return isinstance(got, Mapping) and all(_matches(got.get(k), v) for k, v in want.items())
    if isinstance(want, (list, tuple)):
        return (isinstance(got, (list, tuple)) and len(got) == len(want)
                and all(_matches(g, w) for g, w in zip(got, want)))
    return bool(got == want)


def _apply(got: Any, op: str, arg: Any) -> bool:
    if op == "$eq":
        return bool(got == arg)
    if op == "$ne":
        return bool(got != arg)
    if op not in _ORDER:
        raise ConfigError(f"unknown filter operator {op!r}; use one of $eq, $ne, $gt, $gte, "
                          "$lt, $lte")
    try:
        return _ORDER[op](float(got), float(arg))
    except (TypeError, ValueError):  # None, text, ...: not comparable, so not a match
        return False


def namespace_matches(namespace: tuple[str, ...], condition: MatchCondition) -> bool:
    """Whether a namespace meets a prefix/suffix condition (``"*"`` matches any label).

    >>> namespace_matches(("a", "b", "c"), MatchCondition("suffix", ("*", "c")))
    True
    """
    path = tuple(condition.path)
    if len(path) > len(namespace):
        return False
    part = (namespace[: len(path)] if condition.match_type == "prefix"
            else namespace[len(namespace) - len(path):])
    return all(p == "*" or p == n for p, n in zip(path, part))
