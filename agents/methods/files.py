"""Every built-in method's memory files, made known to the archive before it is used.

Each method registers its files with :mod:`memplay.memory.reflection_files` when its ``files``
module is imported. Those modules are entry points of the group ``memplay.reflection_files``
(pyproject.toml), which the memory layer imports before it lists or checks files, so it never
has to name a method (it sits below them). :func:`register_method_files` imports them
directly, for code that runs from a source tree that was never installed.

    >>> from memplay.memory.reflection_files import REFLECTION_FILES
    >>> register_method_files()
    >>> {"playbook", "tree", "revisions", "reflections", "insights"} <= set(REFLECTION_FILES)
    True
"""

from __future__ import annotations

import importlib

__all__ = ["METHODS", "register_method_files"]

#: The built-in methods, each a package of memplay.agents.methods with a ``files`` module.
METHODS = ("playbook", "critique", "reflexion", "expel")


def register_method_files() -> None:
    """Import each built-in method's ``files`` module (which registers its files); idempotent.

    >>> register_method_files(); register_method_files()
    """
    for name in METHODS:
        importlib.import_module(f"memplay.agents.methods.{name}.files")
