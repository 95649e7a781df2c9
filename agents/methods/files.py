"""Every built-in method's memory files, made known to the archive before it is used.

Each method registers its files with :mod:`memplay.memory.reflection_files` when its package
is imported; :func:`register_method_files` imports them all. The app calls it before it
exports, imports or looks for a memory directory, so the memory layer never has to name a
method (it sits below them) and ``memplay --help`` stays light.

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
