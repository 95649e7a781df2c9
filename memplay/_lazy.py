"""Lazy re-exports (PEP 562) shared by the packages whose names pull in heavy imports.

A package lists ``name -> "module:attribute"`` and gets its module ``__getattr__`` and
``__dir__`` from :func:`lazy_exports`, so ``import memplay`` stays fast while
``memplay.Agent`` still works.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, targets: Mapping[str, str], namespace: dict[str, Any],
                 exported: list[str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` resolving ``targets`` on first access.

    Each resolved value is stored in ``namespace`` (the package's ``globals()``), so the
    import happens once.

    >>> ns: dict = {}
    >>> getattr_, dir_ = lazy_exports("pkg", {"dumps": "json:dumps"}, ns, ["dumps"])
    >>> getattr_("dumps")({"a": 1}), "dumps" in ns, dir_()
    ('{"a": 1}', True, ['dumps'])
    >>> getattr_("nope")
    Traceback (most recent call last):
    AttributeError: module 'pkg' has no attribute 'nope'
    """

    def __getattr__(name: str) -> Any:
        target = targets.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, attr = target.split(":")
        value = getattr(importlib.import_module(module_name), attr)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(exported)

    return __getattr__, __dir__
