"""Importing by string: ``"module:attribute"`` targets and lazy re-exports (PEP 562).

Every registry in memplay (environments, LLM backends, variants, reflections, CLI commands)
names what it builds as a ``"module:attribute"`` string, so nothing heavy is imported until
it is used. :func:`import_target` is the one place such a string is resolved; a package
lists ``name -> "module:attribute"`` and gets its module ``__getattr__`` and ``__dir__`` from
:func:`lazy_exports`, so ``import memplay`` stays fast while ``memplay.Agent`` still works.

    >>> import_target("json:dumps")({"a": 1})
    '{"a": 1}'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from memplay.errors import ConfigError

__all__ = ["import_target", "lazy_exports"]


def import_target(target: str, what: str = "target") -> Any:
    """Import ``"module:attribute"`` and return the attribute.

    ``what`` names the setting in error messages (e.g. ``"entry_point"``). A malformed
    string, a module that fails to import or a missing attribute raise ConfigError saying
    which, so a typo in a registry reads as a fixable setting, not a traceback.

    >>> try:
    ...     import_target("json:nope", "entry_point")
    ... except ConfigError as exc:
    ...     print(exc)
    entry_point 'json:nope': module 'json' has no attribute 'nope'; fix the name
    """
    module_name, sep, attr = str(target).partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"{what} {target!r} must look like 'package.module:attribute'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"{what} {target!r}: cannot import {module_name!r} ({exc}); "
                          "install its dependencies or fix the module path") from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ConfigError(f"{what} {target!r}: module {module_name!r} has no attribute "
                          f"{attr!r}; fix the name") from None


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
        value = import_target(target, f"{package}.{name}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(exported)

    return __getattr__, __dir__
